/* Display board (a TV across the hall), with nobody touching it.
 *
 * Calls arrive over Socket.IO ("ticket_called", only the ones this board shows) and go into a
 * queue: each is shown on top, highlighted and announced, one after another in call order, so a
 * burst of calls in one second is all seen and heard, none lost or flashed past. The snapshot on
 * every (re)connect redraws everything (and announces calls missed while away, if recent).
 * Everything kept is bounded: 12 hours of calls leave memory and DOM as they were. */
(function () {
  "use strict";
  const {cfg, t, el, fill, name, byId} = window.UI;
  const Voice = window.BoardVoice;

  const KEEP = 40; // calls kept for the lists (more than any screen shows)
  const MISSED_MS = 2 * 60 * 1000; // calls missed while offline are announced if this recent
  const IDLE_MS = 10 * 60 * 1000; // nothing called for this long: the idle view
  const LOG_MAX = 200;

  const state = {
    shown: [], // calls already shown, newest first
    pending: [], // calls waiting for their turn, oldest first
    current: null, // the call being announced
    steps: [],
    notices: [],
    filter: {steps: [], areas: [], voice_en: false},
    deviceId: null,
    lastCallAt: 0, // client time of the newest call (idle view)
    clockSkew: 0, // venue time (read as UTC) - client time, ms
    speed: 1, // tests replay a day faster
    log: [], // announcements, for the tests: {id, ticket, clips, how}
    started: 0,
  };
  let socket = null;

  // ---- now calling / recent ----
  function nowSlots() {
    return window.matchMedia("(orientation: portrait)").matches ? 3 : 4;
  }

  function callRow(c, cls) {
    return el("div", {class: cls, dataset: {id: c.id}},
      el("span", {class: "d-now-ticket num"}, c.ticket_no),
      el("span", {class: "d-now-arrow", "aria-hidden": "true"}, t("arrow")),
      el("span", {class: "d-now-where"},
        el("span", {class: "d-now-counter"}, name(c.counter)),
        el("span", {class: "d-now-step"},
          c.recall ? el("span", {class: "d-recall"}, t("recall")) : null, name(c.step))));
  }

  let idle = false;

  function renderNow() {
    const wasIdle = idle;
    idle = !state.current && !state.pending.length &&
      (!state.shown.length || Date.now() - state.lastCallAt > IDLE_MS);
    if (idle !== wasIdle) setTimeout(renderRecent, 0); // the idle view lists every recent call
    document.body.classList.toggle("is-idle", idle);
    byId("idle").classList.toggle("hidden", !idle);
    byId("now").classList.toggle("hidden", idle);
    if (idle) { fill(byId("now")); return; }
    fill(byId("now"), state.shown.slice(0, nowSlots()).map((c) =>
      callRow(c, "d-now-row" + (c === state.current ? " is-current" : ""))));
  }

  function recentRow(c) {
    return el("li", {dataset: {id: c.id}},
      el("span", {class: "d-r-no num"}, c.ticket_no),
      el("span", {class: "d-r-counter"}, name(c.counter)),
      el("span", {class: "d-r-step"}, name(c.step)),
      c.recall ? el("span", {class: "d-r-recall"}, t("recall")) : null);
  }

  /** As many rows as fit the panel, never half a row: measured, not guessed. The count is
   * measured once per panel size (a forced layout per call would slow a weak TV box). */
  let recentFit = null;

  function measureRecent(list, sample) {
    fill(list, recentRow(sample));
    const rowH = list.firstChild.getBoundingClientRect().height;
    const panel = list.parentElement;
    const avail = panel.getBoundingClientRect().bottom - list.getBoundingClientRect().top -
      parseFloat(getComputedStyle(panel).paddingBottom || 0);
    return rowH > 0 ? Math.max(0, Math.floor((avail + 0.5) / rowH)) : 0;
  }

  function renderRecent() {
    const list = byId("recent");
    const calls = state.shown.slice(idle ? 0 : nowSlots());
    if (!calls.length) { fill(list); return; }
    if (recentFit === null) recentFit = measureRecent(list, calls[0]);
    fill(list, calls.slice(0, recentFit).map(recentRow));
  }

  function refitRecent() {
    recentFit = null;
    renderRecent();
  }

  function renderWaits() {
    const steps = state.filter.steps.length
      ? state.steps.filter((s) => state.filter.steps.includes(s.code)) : state.steps;
    fill(byId("waits"), steps.map((s) => el("tr", {},
      el("td", {class: "d-w-step"}, name(s)),
      el("td", {class: "num d-w-n"}, t(s.waiting === 1 ? "person" : "people", {n: s.waiting})),
      el("td", {class: "num d-w-min"}, s.waiting ? t("minutes", {n: s.estimated_wait}) : "—"))));
  }

  function renderProgress(p) {
    if (!p) return;
    byId("progress").classList.toggle("hidden", !p.appointed && !p.handed_over);
    byId("progress-done").textContent = p.handed_over;
    byId("progress-all").textContent = p.appointed;
    const pct = p.appointed ? Math.min(100, Math.round((100 * p.handed_over) / p.appointed)) : 0;
    byId("progress-bar").style.width = pct + "%";
  }

  // ---- notices: one scrolling line ----
  // Server times are naive venue time; compared as if UTC against the server's "now".
  function venueTime(iso) { return Date.parse(iso + "Z"); }
  function serverNow() { return Date.now() + state.clockSkew; }

  function renderNotices() {
    const now = serverNow();
    const live = state.notices.filter((n) => !n.expires_at || !(venueTime(n.expires_at) <= now));
    const texts = live.map((n) => (cfg.locale === "en" && n.text_en) || n.text_zh);
    const ticker = byId("ticker"), track = byId("ticker-track");
    ticker.classList.toggle("hidden", !texts.length);
    document.body.classList.toggle("has-notices", texts.length > 0);
    const text = texts.join("　　●　　");
    if (track.textContent !== text) {
      track.textContent = text;
      // Same speed whatever the length: about 12 characters a second across the screen.
      track.style.animationDuration = Math.max(12, (text.length + 40) / 5) + "s";
    }
  }

  // ---- the queue: shown and announced one after another ----
  function known(id) {
    return (state.current && state.current.id === id) ||
      state.pending.some((c) => c.id === id) || state.shown.some((c) => c.id === id);
  }

  function enqueue(c) {
    if (known(c.id)) return;
    state.pending.push(c);
    pump();
  }

  async function pump() {
    if (state.current || !state.pending.length) return;
    const c = state.pending.shift();
    state.current = c;
    state.lastCallAt = Date.now();
    state.shown = [c, ...state.shown.filter((x) => x.id !== c.id)].slice(0, KEEP);
    renderNow();
    renderRecent();
    const clips = Voice.plan(c, {en: state.filter.voice_en});
    const entry = {id: c.id, ticket: c.ticket_no, recall: !!c.recall, clips, how: null, at: Date.now()};
    state.log.push(entry);
    if (state.log.length > LOG_MAX) state.log.splice(0, state.log.length - LOG_MAX);
    const t0 = Date.now();
    try {
      entry.how = state.speed > 1 ? "skipped" : await Voice.say(c, {en: state.filter.voice_en});
    } catch (e) {
      entry.how = "failed";
    }
    // Each call stays highlighted long enough to be read, spoken or not.
    const rest = 3000 / state.speed - (Date.now() - t0);
    if (rest >= 1) await new Promise((r) => setTimeout(r, rest));
    else await null; // a replayed day: no timer, still one call after another
    state.current = null;
    renderNow();
    pump();
  }

  // ---- events ----
  let snapshots = 0;

  function onSnapshot(s) {
    const reconnected = snapshots++ > 0; // the first one on page load announces nothing
    if (s.project) {
      byId("project").textContent = cfg.locale === "en" ? s.project.name_en || s.project.name : s.project.name;
    }
    if (s.now) state.clockSkew = venueTime(s.now) - Date.now() || 0;
    state.filter = s.filter || state.filter;
    state.deviceId = s.device_id || null;
    state.steps = s.steps || [];
    state.notices = s.notices || [];
    const calls = s.calls || []; // newest first
    if (reconnected) {
      // Calls made while we were away: announce the recent ones, list the rest.
      const now = serverNow();
      const missed = calls.filter((c) => !known(c.id) && now - venueTime(c.at) < MISSED_MS);
      const keep = calls.filter((c) => !missed.includes(c));
      state.shown = mergeShown(keep);
      missed.reverse().forEach(enqueue);
    } else {
      state.shown = calls.slice(0, KEEP);
      if (calls.length) state.lastCallAt = Date.now() - Math.max(0, serverNow() - venueTime(calls[0].at));
    }
    renderNow();
    renderRecent();
    renderWaits();
    renderProgress(s.progress);
    renderNotices();
  }

  function mergeShown(calls) {
    const byId_ = new Map();
    for (const c of [...state.shown, ...calls]) if (!byId_.has(c.id)) byId_.set(c.id, c);
    return [...byId_.values()].sort((a, b) => b.id - a.id).slice(0, KEEP);
  }

  const handlers = {
    ticket_called(c) { enqueue(c); },
    queue_changed(q) { state.steps = q.steps || state.steps; renderWaits(); },
    board_progress(p) { renderProgress(p); },
    notices_changed(p) { state.notices = p.notices || []; renderNotices(); },
    board_settings(p) {
      // The admin changed this board's filter: reconnect to join the right rooms.
      if (p && p.device_id === state.deviceId && socket) { socket.disconnect(); socket.connect(); }
    },
  };

  // ---- clock, idle, resize ----
  function tick() {
    const opts = {hour: "2-digit", minute: "2-digit", hour12: false};
    if (cfg.tz) opts.timeZone = cfg.tz; // the venue's time, whatever the TV's own setting
    let text;
    try {
      text = new Date().toLocaleTimeString(cfg.locale === "en" ? "en-GB" : "zh-CN", opts);
    } catch (e) {
      text = new Date().toLocaleTimeString();
    }
    byId("clock").textContent = text;
    byId("idle-clock").textContent = text;
  }

  function everyMinute() {
    tick();
    renderNow(); // idle view after a quiet spell
    renderNotices(); // expired notices leave the line
  }

  // The recent list's room changes with the screen, fonts loading, the notice line: refit.
  let lastRecentH = 0;
  new ResizeObserver(() => {
    const h = Math.round(byId("recent").parentElement.getBoundingClientRect().height);
    if (h !== lastRecentH) { lastRecentH = h; refitRecent(); }
  }).observe(byId("recent").parentElement);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(refitRecent);
  window.addEventListener("resize", () => { renderNow(); refitRecent(); });

  tick();
  setInterval(everyMinute, 15000);
  Voice.preload();
  Voice.setupButton(byId("sound"));

  socket = Live.connect({auth: {view: "display"}, onSnapshot, on: handlers});

  // For the tests (and a curious supervisor's console): what was announced, and a replay hook.
  window.__board = {
    state,
    log: state.log,
    receive(event, payload) { handlers[event](payload); },
    setSpeed(x) { state.speed = x; },
    plan: (c) => Voice.plan(c, {en: state.filter.voice_en}),
    get idle() { return idle; },
  };
})();
