/* Display board (a TV): the latest call big, recent calls, waiting counts. The snapshot on
 * every (re)connect redraws everything; "ticket_called" shows and speaks the call at once;
 * "queue_changed" updates the counts. Never needs a reload. */
(function () {
  "use strict";
  const {cfg, t, el, fill, name, byId} = window.UI;
  const MAX_RECENT = 8;
  const ZH_DIGITS = "零一二三四五六七八九";

  let calls = []; // newest first; calls[0] is also the big one
  let voiceOn = false;
  const synth = window.speechSynthesis;

  function callText(c) {
    return {
      line1: t("call_line1", {ticket: c.ticket_no}),
      line2: t("call_line2", {counter: name(c.counter), step: name(c.step)}),
    };
  }

  function renderLatest(flash) {
    const box = byId("latest");
    const c = calls[0];
    if (!c) {
      fill(box, el("p", {class: "d-idle"}, t("no_calls")));
      return;
    }
    // "请 A023 号" with the number itself large.
    fill(box,
      el("div", {class: "d-call-ticket"}, splitAround(t("call_line1", {ticket: "\u0000"}), c.ticket_no)),
      el("div", {class: "d-call-where"}, splitAround(
        t("call_line2", {counter: "\u0000", step: name(c.step)}), name(c.counter))),
      c.recall ? el("span", {class: "d-recall"}, t("recall")) : null);
    if (flash) {
      box.classList.remove("d-flash");
      void box.offsetWidth; // restart the animation
      box.classList.add("d-flash");
    }
  }

  /** The text around a placeholder, with the value itself emphasised. */
  function splitAround(text, value) {
    const [before, after] = text.split("\u0000");
    return [before, el("strong", {class: "num"}, value), after || ""];
  }

  function renderRecent() {
    const rows = calls.slice(0, MAX_RECENT).map((c, i) => el("li", {class: i === 0 ? "d-r-latest" : null},
      el("span", {class: "d-r-no num"}, c.ticket_no),
      el("span", {class: "d-r-counter"}, name(c.counter)),
      el("span", {class: "d-r-step"}, name(c.step))));
    fill(byId("recent"), rows);
  }

  function renderWaits(steps) {
    fill(byId("waits"), (steps || []).map((s) => el("tr", {},
      el("td", {}, name(s)),
      el("td", {class: "num d-w-n"}, t(s.waiting === 1 ? "person" : "people", {n: s.waiting})),
      el("td", {class: "num"}, s.waiting ? t("minutes", {n: s.estimated_wait}) : "—"))));
  }

  // ---- voice ----
  function spokenTicket(no) {
    // "A023" -> "A 零 二 三" in Chinese, "A 0 2 3" in English: read digit by digit.
    return [...no].map((ch) => (cfg.locale !== "en" && /\d/.test(ch) ? ZH_DIGITS[+ch] : ch)).join(" ");
  }

  function speak(c) {
    if (!voiceOn || !synth) return;
    const text = t("speech", {ticket: spokenTicket(c.ticket_no), counter: name(c.counter), step: name(c.step)});
    for (let i = 0; i < 2; i++) { // said twice, as halls do
      const u = new SpeechSynthesisUtterance(text);
      u.lang = cfg.locale === "en" ? "en-US" : "zh-CN";
      u.rate = 0.9;
      synth.speak(u);
    }
  }

  const voiceBtn = byId("voice");
  if (!synth) {
    voiceBtn.textContent = t("no_voice");
    voiceBtn.disabled = true;
  }
  voiceBtn.addEventListener("click", () => {
    voiceOn = !voiceOn;
    if (voiceOn) synth.speak(new SpeechSynthesisUtterance(" ")); // unlocks speech (user gesture)
    else synth.cancel();
    voiceBtn.textContent = voiceOn ? t("voice_on") : t("voice_off");
    voiceBtn.classList.toggle("d-voice-on", voiceOn);
  });

  // ---- clock ----
  function tick() {
    const d = new Date();
    const opts = {hour: "2-digit", minute: "2-digit"};
    if (cfg.tz) opts.timeZone = cfg.tz; // the venue's time, whatever the TV's own setting
    let text;
    try {
      text = d.toLocaleTimeString(cfg.locale === "en" ? "en-GB" : "zh-CN", opts);
    } catch (e) {
      text = d.toLocaleTimeString(); // an unknown zone name
    }
    byId("clock").textContent = text;
  }
  tick();
  setInterval(tick, 10000);

  Live.connect({
    auth: {view: "display"},
    onSnapshot(s) {
      if (s.project) {
        const p = cfg.locale === "en" ? s.project.name_en || s.project.name : s.project.name;
        byId("project").textContent = p;
      }
      calls = (s.calls || []).slice(0, MAX_RECENT);
      renderLatest(false);
      renderRecent();
      renderWaits(s.steps);
    },
    on: {
      ticket_called(c) {
        calls = [c, ...calls.filter((x) => x.id !== c.id)].slice(0, MAX_RECENT);
        renderLatest(true);
        renderRecent();
        speak(c);
      },
      queue_changed(q) {
        renderWaits(q.steps);
      },
    },
  });
})();
