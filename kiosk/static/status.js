/* The owner's phone: their ticket, where they are now, where to go when called, their steps.
 * Live over Socket.IO with the unguessable token of the ticket (no login); while the socket is
 * down the page polls the same data over HTTP. Vibration and a beep when called, once the owner
 * has tapped to allow them (phones allow neither without a touch first). */
(function () {
  "use strict";
  const {cfg, t, el, fill, name, byId, api} = window.UI;
  const POLL_SECONDS = 15;

  function place(counter) {
    if (!counter) return "";
    return cfg.locale === "en" ? counter.location_en || counter.location_zh || "" : counter.location_zh || "";
  }

  function waitText(minutes) {
    // Never "about 0 min": nobody ahead (or almost) means "your turn is coming".
    if (minutes == null) return "—";
    return minutes > 0 ? t("minutes", {n: minutes}) : t("soon");
  }

  function renderNow(v) {
    const box = byId("now");
    const cur = v.current;
    box.className = "s-now";
    const finished = v.status === "finished" || (!cur && v.status === "active");
    byId("keep-open").classList.toggle("hidden", finished || v.status !== "active");
    byId("alerts").classList.toggle("hidden", finished || alertsOn);
    if (finished) {
      box.classList.add("s-now-done");
      fill(box, el("p", {class: "s-big"}, t("finished")), el("p", {}, t("finished_hint")));
      return;
    }
    if (v.status === "cancelled" || v.status === "out" || v.status === "refused" || !cur) {
      box.classList.add("s-now-bad");
      fill(box, el("p", {class: "s-big"}, t(v.status === "out" || v.status === "refused" ? v.status : "cancelled")));
      return;
    }
    const step = name(cur.step);
    const counter = cur.counter ? name(cur.counter) : "";
    const where = place(cur.counter);
    if (cur.state === "called") {
      box.classList.add("s-now-called");
      fill(box,
        el("p", {class: "s-called-title"}, t("called")),
        el("p", {class: "s-big"}, t("go_to", {counter})),
        where ? el("p", {class: "s-where"}, where) : null,
        el("p", {}, t("for_step", {step})),
        cur.recall_count ? el("p", {class: "s-small"}, t("recalled", {n: cur.recall_count})) : null);
      return;
    }
    if (cur.state === "serving") {
      box.classList.add("s-now-serving");
      fill(box, el("p", {class: "s-big"}, t("serving", {counter})),
        where ? el("p", {class: "s-where-quiet"}, where) : null,
        el("p", {}, t("serving_step", {step})));
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
          el("span", {class: "s-fact", id: "wait"}, waitText(cur.estimated_wait)))));
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

  // ---- alerts: vibration and a beep ---------------------------------------------------------
  let alertsOn = false;
  let audio = null;

  function beep() {
    if (!audio) return;
    const now = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 660], [2, 880]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.35);
      gain.gain.exponentialRampToValueAtTime(0.5, now + i * 0.35 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.35 + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.35);
      osc.stop(now + i * 0.35 + 0.32);
    }
  }

  function alert() {
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
    beep();
    document.body.dataset.alerted = String(Number(document.body.dataset.alerted || 0) + 1);
  }

  byId("alerts").addEventListener("click", () => {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) audio = new Ctx();
    if (audio && audio.state === "suspended") audio.resume();
    if (navigator.vibrate) navigator.vibrate(60); // a tick: "it works"
    alertsOn = true;
    byId("alerts").classList.add("hidden");
    byId("alerts-on").classList.remove("hidden");
  });

  // ---- data: socket first, polling while it is down ------------------------------------------
  let lastState = null;
  function render(v) {
    byId("ticket-no").textContent = v.ticket_no;
    byId("unit").textContent = cfg.locale === "en" ? v.unit_en || v.unit : v.unit;
    byId("owner").textContent = v.owner || "";
    renderNow(v);
    renderSteps(v);
    const state = v.current ? v.current.state + ":" + v.current.visit_step_id + ":" + v.current.recall_count : v.status;
    if (lastState !== null && state !== lastState && v.current && v.current.state === "called") alert();
    lastState = state;
  }

  function expired() {
    const box = byId("now");
    box.className = "s-now s-now-bad";
    fill(box, el("p", {class: "s-big"}, t("expired")));
    byId("keep-open").classList.add("hidden");
    byId("alerts").classList.add("hidden");
  }

  const socket = Live.connect({
    auth: {view: "status", token: cfg.token},
    onSnapshot: (s) => render(s.visit),
    on: {visit_updated: render},
  });

  async function poll() {
    if (!socket.connected) {
      try {
        render(await api("GET", cfg.api_url));
      } catch (err) {
        if (err.status === 404) { expired(); socket.disconnect(); return; }
      }
    }
    setTimeout(poll, POLL_SECONDS * 1000);
  }
  setTimeout(poll, POLL_SECONDS * 1000);
})();
