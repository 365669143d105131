/* The supervisor's floor view: a snapshot on (re)connect, a fresh one (resync) shortly after
 * any queue, call, visit or print event, and clocks that tick between them. */
(function () {
  "use strict";
  const {el, fill, t, name, api, byId} = window.UI;
  const PRIORITIES = ["normal", "elderly", "disabled", "pregnant", "vip"];
  let snap = null;
  let socket = null;
  let timer = null;

  function minutesSince(iso) {
    if (!iso) return null;
    return Math.max(0, (Date.now() - new Date(iso).getTime()) / 60000);
  }

  function clock(iso) {
    const m = minutesSince(iso);
    if (m === null) return "";
    const total = Math.floor(m * 60);
    const mm = Math.floor(total / 60), ss = total % 60;
    return mm + ":" + String(ss).padStart(2, "0");
  }

  function level(minutes) {
    if (minutes === null || !snap) return "ok";
    if (minutes >= snap.thresholds.red) return "red";
    if (minutes >= snap.thresholds.amber) return "amber";
    return "ok";
  }

  function stepName(code) {
    const s = snap.steps.find((x) => x.code === code);
    return s ? name(s) : code;
  }

  function showError(msg) {
    const box = byId("floor-error");
    box.textContent = msg || "";
    box.classList.toggle("hidden", !msg);
  }

  async function act(method, url, bodyData) {
    showError("");
    try {
      render(await api(method, url, bodyData));
    } catch (e) {
      showError(e.message);
    }
  }

  function renderProgress() {
    const p = snap.progress;
    const pct = p.expected ? Math.min(100, Math.round((p.finished / p.expected) * 100)) : 0;
    fill(byId("progress"),
      el("div", {class: "a-kpis"},
        kpi(t("Expected today"), p.expected), kpi(t("Checked in"), p.checked_in),
        kpi(t("In the venue"), p.active), kpi(t("Finished"), p.finished),
        kpi(t("Cancelled or out"), p.cancelled)),
      el("div", {class: "a-bar", role: "progressbar", "aria-valuenow": pct, "aria-valuemin": 0, "aria-valuemax": 100},
        el("span", {style: "width:" + pct + "%"})));
  }

  function kpi(label, value) {
    return el("div", {class: "a-kpi"}, el("strong", {class: "num", text: String(value)}), el("span", {class: "muted", text: label}));
  }

  function renderSteps() {
    fill(byId("floor-steps").tBodies[0], snap.steps.filter((s) => s.active).map((s) => {
      const m = minutesSince(s.oldest_since);
      return el("tr", {class: "lvl-" + level(m), dataset: {step: s.code}},
        el("td", {}, el("strong", {text: name(s)})),
        el("td", {class: "num", text: String(s.waiting)}),
        el("td", {class: "num a-wait", text: m === null ? "—" : Math.floor(m) + " " + t("min")}),
        el("td", {class: "num", text: String(s.open_counters)}));
    }));
    byId("thresholds").textContent = t("Amber from {a} min, red from {r} min.", {a: snap.thresholds.amber, r: snap.thresholds.red});
  }

  function renderCounters() {
    fill(byId("floor-counters"), snap.counters.map((c) => {
      const busy = c.state === "called" || c.state === "serving";
      return el("div", {class: "a-counter st-" + c.state, dataset: {counter: c.code}},
        el("div", {class: "a-counter-head"}, el("strong", {text: name(c)}), el("span", {class: "badge", text: t(c.state)})),
        el("div", {class: "muted a-small", text: c.steps.map(stepName).join(" · ")}),
        busy ? el("div", {class: "a-serving"}, el("strong", {class: "num", text: c.ticket_no}), " ", el("span", {class: "num a-since", dataset: {since: c.since}, text: clock(c.since)})) : null,
        c.staff ? el("div", {class: "muted a-small", text: c.staff}) : null,
        el("button", {class: "btn btn-small", type: "button",
          onclick: () => act("POST", "/api/admin/counters/" + c.id + "/" + (c.is_open ? "close" : "open"))},
          c.is_open ? t("close_it") : t("open_it")));
    }));
  }

  function list(id, items, render) {
    fill(byId(id), items.length ? items.map(render) : el("li", {class: "muted", text: t("none")}));
  }

  function renderLists() {
    list("floor-held", snap.held, (h) => el("li", {},
      el("strong", {class: "num", text: h.ticket_no}), " ", name(h.step), " · ",
      h.reason || t("no_reason"), " ", el("span", {class: "muted num a-since", dataset: {since: h.since}, text: clock(h.since)})));
    list("floor-refusals", snap.refusals, (r) => el("li", {},
      el("strong", {class: "num", text: r.ticket_no}), " ", r.reason || ""));
    list("floor-prints", snap.failed_prints, (j) => el("li", {},
      "#" + j.id + " ", j.printer || "", " · ", el("span", {class: "muted", text: j.error || t("failed")})));
    list("floor-requests", snap.requests, (r) => el("li", {class: r.urgency === "urgent" ? "lvl-red" : ""},
      el("span", {class: "muted num", text: (r.at || "").slice(11, 16)}), " ", r.text,
      r.urgency === "urgent" ? el("span", {class: "badge badge-danger", text: t("urgent")}) : null));
  }

  function renderVisits() {
    fill(byId("floor-visits").tBodies[0], snap.active.map((v) => {
      const prio = el("select", {"aria-label": t("Priority")},
        PRIORITIES.map((p) => el("option", {value: p, selected: p === v.priority_class, text: t(p)})));
      const move = el("select", {"aria-label": t("Move to")},
        snap.steps.filter((s) => s.active && s.code !== v.step).map((s) => el("option", {value: s.code, text: name(s)})));
      return el("tr", {dataset: {visit: v.visit_id}},
        el("td", {}, el("strong", {class: "num", text: v.ticket_no})),
        el("td", {text: stepName(v.step)}),
        el("td", {text: t(v.state === "waiting" || v.state === "held" ? "state_" + v.state : v.state)}),
        el("td", {}, el("div", {class: "a-inline"}, prio,
          el("button", {class: "btn btn-small", type: "button",
            onclick: () => act("POST", "/api/admin/visits/" + v.visit_id + "/priority", {priority_class: prio.value})}, t("set")),
          v.priority_requested && v.priority_requested !== v.priority_class ? el("span", {class: "badge badge-warn", text: t("asked") + " " + t(v.priority_requested)}) : null)),
        el("td", {}, el("div", {class: "a-inline"}, move,
          el("button", {class: "btn btn-small", type: "button", disabled: !move.options.length,
            onclick: async () => {
              showError("");
              try { await api("POST", "/api/visits/" + v.visit_id + "/transfer", {to_step: move.value}); refresh(); }
              catch (e) { showError(e.message); }
            }}, t("move")))));
    }));
  }

  function render(s) {
    snap = s;
    renderProgress();
    renderSteps();
    renderCounters();
    renderLists();
    renderVisits();
    document.body.dataset.floorReady = "1";
  }

  function tick() {
    if (!snap) return;
    for (const node of document.querySelectorAll(".a-since")) node.textContent = clock(node.dataset.since);
    for (const row of byId("floor-steps").tBodies[0].rows) {
      const s = snap.steps.find((x) => x.code === row.dataset.step);
      if (!s) continue;
      const m = minutesSince(s.oldest_since);
      row.className = "lvl-" + level(m);
      row.querySelector(".a-wait").textContent = m === null ? "—" : Math.floor(m) + " " + t("min");
    }
  }

  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      socket.emit("resync", {view: "floor"}, (s) => { if (s && !s.error) render(s); });
    }, 250);
  }

  socket = window.Live.connect({
    auth: {view: "floor"},
    onSnapshot: render,
    on: {
      queue_changed: refresh, ticket_called: refresh, visit_updated: refresh,
      floor_changed: refresh, print_job_updated: refresh, notices_changed: refresh,
      // Raised at a counter (services/counter_events.py): the supervisor sees it at once.
      owner_request_created: refresh,
    },
  });
  setInterval(tick, 1000);
  setInterval(refresh, 60000);
})();
