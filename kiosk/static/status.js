/* The owner's phone: their ticket, where they are now, their steps. Live over Socket.IO with
 * the unguessable token of the ticket (no login). */
(function () {
  "use strict";
  const {cfg, t, el, fill, name, byId} = window.UI;

  function renderNow(v) {
    const box = byId("now");
    const cur = v.current;
    box.className = "s-now";
    if (v.status === "finished" || (!cur && v.status === "active")) {
      box.classList.add("s-now-done");
      fill(box, el("p", {class: "s-big"}, t("finished")));
      return;
    }
    if (v.status === "cancelled" || v.status === "out" || !cur) {
      box.classList.add("s-now-bad");
      fill(box, el("p", {class: "s-big"}, t(v.status === "out" ? "out" : "cancelled")));
      return;
    }
    const step = name(cur.step);
    const counter = cur.counter ? name(cur.counter) : "";
    if (cur.state === "called") {
      box.classList.add("s-now-called");
      fill(box,
        el("p", {class: "s-called-title"}, t("called")),
        el("p", {class: "s-big"}, t("go_to", {counter})),
        el("p", {}, t("for_step", {step})),
        cur.recall_count ? el("p", {class: "s-small"}, t("recalled", {n: cur.recall_count})) : null);
      return;
    }
    if (cur.state === "serving") {
      box.classList.add("s-now-serving");
      fill(box, el("p", {class: "s-big"}, t("serving", {counter})), el("p", {}, t("serving_step", {step})));
      return;
    }
    if (cur.state === "held") {
      box.classList.add("s-now-held");
      fill(box, el("p", {class: "s-big"}, t("held", {step})), el("p", {}, t("held_hint")));
      return;
    }
    fill(box,
      el("p", {class: "s-step-line"}, t("waiting_for", {step})),
      el("div", {class: "s-facts"},
        el("div", {}, el("span", {class: "s-fact-label"}, t("ahead")),
          el("span", {class: "s-fact num", id: "ahead"}, String(cur.people_ahead))),
        el("div", {}, el("span", {class: "s-fact-label"}, t("wait")),
          el("span", {class: "s-fact"}, cur.estimated_wait == null ? "—" : cur.estimated_wait > 0 ? t("minutes", {n: cur.estimated_wait}) : t("soon")))));
  }

  function renderSteps(v) {
    const curId = v.current ? v.current.visit_step_id : null;
    fill(byId("steps"), (v.steps || []).map((s, i) => {
      const kind = s.visit_step_id === curId ? "current"
        : s.state === "done" ? "done" : s.state === "skipped" ? "skipped" : "pending";
      return el("li", {class: "s-step s-step-" + kind},
        el("span", {class: "s-mark", "aria-hidden": "true"},
          kind === "done" ? "✓" : kind === "skipped" ? "–" : String(i + 1)),
        el("span", {class: "s-step-name"}, name(s)),
        el("span", {class: "s-step-state"}, t("mark_" + kind)));
    }));
  }

  let lastState = null;
  function render(v) {
    byId("ticket-no").textContent = v.ticket_no;
    byId("unit").textContent = cfg.locale === "en" ? v.unit_en || v.unit : v.unit;
    renderNow(v);
    renderSteps(v);
    const state = v.current ? v.current.state + ":" + v.current.visit_step_id + ":" + v.current.recall_count : v.status;
    if (lastState !== null && state !== lastState && v.current && v.current.state === "called" && navigator.vibrate) {
      navigator.vibrate([300, 150, 300]);
    }
    lastState = state;
  }

  Live.connect({
    auth: {view: "status", token: cfg.token},
    onSnapshot: (s) => render(s.visit),
    on: {visit_updated: render},
  });
})();
