/* Counter station: every HTTP answer is the counter's fresh snapshot and the page re-renders
 * from it; Socket.IO keeps the waiting counts live and picks up changes made elsewhere. */
(function () {
  "use strict";
  const {cfg, t, el, fill, name, api, byId} = window.UI;

  let snap = null;
  let pending = false;
  let msgTimer = null;

  const buttons = {
    call: byId("act-call"),
    recall: byId("act-recall"),
    start: byId("act-start"),
    complete: byId("act-complete"),
    "no-show": byId("act-no-show"),
    hold: byId("act-hold"),
  };
  const holdReason = byId("hold-reason");

  function message(text, kind) {
    const box = byId("message");
    clearTimeout(msgTimer);
    box.textContent = text;
    box.className = "alert alert-" + kind;
    if (kind !== "error") msgTimer = setTimeout(() => box.classList.add("hidden"), 6000);
  }

  function clearMessage() {
    clearTimeout(msgTimer);
    byId("message").classList.add("hidden");
  }

  function stateBadge(state) {
    const cls = {called: "badge-primary", serving: "badge-ok", held: "badge-warn"}[state] || "";
    return el("span", {class: "badge " + cls}, t("state_" + state));
  }

  function unitOf(v) {
    return cfg.locale === "en" ? v.unit_en || v.unit : v.unit;
  }

  function renderWaiting() {
    fill(byId("waiting"), (snap.waiting || []).map((w) =>
      el("span", {class: "c-chip" + (w.waiting ? " c-chip-busy" : "")},
        t("waiting", {step: name(w), n: w.waiting}),
        w.waiting ? el("span", {class: "muted"}, " · " + t("wait_min", {n: w.estimated_wait})) : null)));
  }

  function renderCurrent() {
    const v = snap.current;
    const box = byId("current");
    if (!v || !v.current) {
      fill(box, el("p", {class: "c-empty"}, t("no_current")));
      return;
    }
    const cur = v.current;
    fill(box,
      el("div", {class: "c-ticket-no num", id: "current-ticket"}, v.ticket_no),
      el("dl", {class: "c-facts"},
        el("div", {}, el("dt", {}, t("state")), el("dd", {}, stateBadge(cur.state),
          cur.recall_count ? el("span", {class: "muted c-recalls"}, t("recalls", {n: cur.recall_count})) : null)),
        el("div", {}, el("dt", {}, t("unit")), el("dd", {}, unitOf(v))),
        el("div", {}, el("dt", {}, t("owner")), el("dd", {}, v.owner || "—")),
        el("div", {}, el("dt", {}, t("step")), el("dd", {}, name(cur.step)))));
  }

  function renderHeld() {
    const held = snap.held || [];
    if (!held.length) {
      fill(byId("held"), el("p", {class: "muted"}, t("no_held")));
      return;
    }
    fill(byId("held"), el("table", {class: "grid"},
      el("tbody", {}, held.map((v) => el("tr", {},
        el("td", {class: "num c-held-no"}, v.ticket_no),
        el("td", {}, unitOf(v)),
        el("td", {}, v.owner || ""),
        el("td", {}, v.current ? name(v.current.step) : "",
          v.current && v.current.hold_reason
            ? el("div", {class: "c-hold-reason"}, t("hold_reason", {reason: v.current.hold_reason})) : null),
        el("td", {class: "c-right"}, v.current ? el("button", {
          type: "button", class: "btn btn-primary",
          onclick: () => release(v.current.visit_step_id),
        }, t("release")) : null))))));
  }

  function renderButtons() {
    const st = snap && snap.current && snap.current.current ? snap.current.current.state : null;
    const ok = {
      call: snap && !snap.current,
      recall: st === "called",
      start: st === "called",
      // From "called" too: the server counts the service from the call and marks it.
      complete: st === "called" || st === "serving",
      "no-show": st === "called",
      hold: st === "called" || st === "serving",
    };
    for (const [k, b] of Object.entries(buttons)) b.disabled = pending || !ok[k];
    holdReason.disabled = pending || !ok.hold;
  }

  function renderPrintProblems() {
    const box = byId("print-problems");
    const jobs = (snap && snap.print_problems) || [];
    box.classList.toggle("hidden", !jobs.length);
    fill(box, jobs.map((job) => el("div", {class: "c-print-problem"},
      // Staff get a plain reason; the printer's technical message stays in the tooltip.
      el("span", {title: job.error || ""}, t("print_problem", {
        printer: job.printer || "-",
        error: job.state === "unsure" ? t("print_unsure")
          : job.state === "failed" ? t("print_failed") : t("print_waiting"),
      })),
      " ",
      el("button", {class: "btn", type: "button", onclick: () => reprint(job.id)}, t("reprint")))));
  }

  function reprint(jobId) {
    run(async () => apply(await api("POST", cfg.reprint_base + jobId + "/reprint")));
  }

  function render() {
    if (!snap) return;
    renderPrintProblems();
    renderWaiting();
    renderCurrent();
    renderHeld();
    renderButtons();
  }

  function ticketKey(s) {
    const cur = s && s.current && s.current.current;
    return cur ? cur.visit_step_id + ":" + cur.state : "";
  }

  function apply(newSnap) {
    // A message about the previous ticket or state would mislead once that has changed.
    if (snap && ticketKey(snap) !== ticketKey(newSnap)) clearMessage();
    snap = newSnap;
    render();
    document.dispatchEvent(new CustomEvent("counter:snapshot", {detail: snap}));
  }

  async function run(request) {
    if (pending) return null;
    pending = true;
    renderButtons();
    try {
      return await request();
    } catch (err) {
      message(err.message, "error");
      return null;
    } finally {
      pending = false;
      renderButtons();
    }
  }

  async function refresh() {
    try { apply(await api("GET", cfg.api)); } catch (err) { message(err.message, "error"); }
  }

  buttons.call.addEventListener("click", () => run(async () => {
    clearMessage();
    const answer = await api("POST", cfg.call_next);
    apply(answer);
    if (answer.queue_empty) message(t("queue_empty"), "info");
    else if (answer.current) message(t("called_ok", {ticket: answer.current.ticket_no}), "ok");
  }));

  function ticketAction(action, body) {
    const vsid = snap && snap.current && snap.current.current && snap.current.current.visit_step_id;
    if (!vsid) return;
    run(async () => {
      clearMessage();
      apply(await api("POST", cfg.action_base + vsid + "/" + action, body));
      if (action === "hold") holdReason.value = "";
    });
  }

  for (const action of ["recall", "start", "complete", "no-show"]) {
    buttons[action].addEventListener("click", () => ticketAction(action, {}));
  }
  byId("hold-form").addEventListener("submit", (e) => {
    e.preventDefault();
    ticketAction("hold", {reason: holdReason.value.trim() || null});
  });

  function release(visitStepId) {
    run(async () => {
      clearMessage();
      await api("POST", cfg.release_url.replace("/0/", "/" + visitStepId + "/"));
      await refresh();
    });
  }

  function concerns(visitId) {
    if (!snap) return false;
    if (snap.current && snap.current.visit_id === visitId) return true;
    return (snap.held || []).some((v) => v.visit_id === visitId);
  }

  window.CounterStation = {refresh, message, clearMessage, run, snapshot: () => snap};

  Live.connect({
    auth: {view: "counter", counter_id: cfg.counter_id},
    onSnapshot: apply,
    on: {
      queue_changed(q) {
        if (!snap) return;
        const served = new Set(snap.counter.steps.map((s) => s.id));
        snap.waiting = q.steps.filter((s) => served.has(s.id));
        renderWaiting();
      },
      visit_updated(v) {
        // A ticket of ours changed elsewhere (a supervisor, another screen): reload ours.
        if (concerns(v.visit_id) && !pending) refresh();
      },
      counter_changed(p) {
        // Another screen of this counter recorded something (or the holder changed).
        if (!pending) refresh();
        document.dispatchEvent(new CustomEvent("counter:changed", {detail: p}));
      },
      ticket_transferred(p) {
        document.dispatchEvent(new CustomEvent("counter:transferred", {detail: p}));
      },
      standard_response_published(p) {
        document.dispatchEvent(new CustomEvent("counter:response", {detail: p}));
      },
    },
  });
})();
