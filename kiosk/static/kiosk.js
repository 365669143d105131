/* Kiosk: the scanner (a keyboard) types the notice code + Enter into #code, which keeps the
 * focus on every screen; an on-screen keyboard types the code by hand. POST /api/checkin,
 * then the ticket (or the error) is shown until "Done" or a timeout. */
(function () {
  "use strict";
  const {cfg, t, el, fill, name, api, byId} = window.UI;
  const TICKET_SECONDS = 20;
  const ERROR_SECONDS = 10;

  const input = byId("code");
  const form = byId("scan-form");
  const screens = ["idle", "busy", "ticket", "error"];
  let busy = false;
  let timer = null;

  function show(which) {
    for (const id of screens) {
      if (id === "idle") byId(id).classList.toggle("k-offstage", which !== "idle");
      else byId(id).classList.toggle("hidden", id !== which);
    }
    document.body.dataset.screen = which;
    keepFocus();
  }

  function keepFocus() {
    if (document.activeElement !== input) input.focus({preventScroll: true});
  }
  input.addEventListener("blur", () => setTimeout(keepFocus, 0));
  document.addEventListener("pointerup", () => setTimeout(keepFocus, 0));
  window.addEventListener("focus", keepFocus);

  function countdown(seconds, label, done) {
    clearInterval(timer);
    let left = seconds;
    const tick = () => {
      label.textContent = t("back_in", {n: left});
      if (left-- <= 0) { clearInterval(timer); done(); }
    };
    tick();
    timer = setInterval(tick, 1000);
  }

  function idle() {
    clearInterval(timer);
    input.value = "";
    byId("keyboard").classList.add("hidden");
    document.querySelector(".k-scan-art").classList.remove("hidden");
    byId("show-keys").classList.remove("hidden");
    show("idle");
  }

  function showTicket(v) {
    const cur = v.current;
    byId("t-no").textContent = v.ticket_no;
    byId("t-unit").textContent = cfg.locale === "en" ? v.unit_en || v.unit : v.unit;
    byId("t-step").textContent = cur ? name(cur.step) : "";
    byId("t-ahead").textContent = !cur ? "" : cur.state === "waiting"
      ? (cur.people_ahead ? t(cur.people_ahead === 1 ? "person" : "people", {n: cur.people_ahead}) : t("none")) : t("now");
    const wait = cur ? cur.estimated_wait : null;
    byId("t-wait").textContent = wait == null ? "—" : wait > 0 ? t("minutes", {n: wait}) : t("soon");
    byId("t-qr").src = cfg.qr_url + "?data=" + encodeURIComponent(v.status_url);
    show("ticket");
    countdown(TICKET_SECONDS, byId("countdown"), idle);
  }

  function showError(message) {
    byId("err-msg").textContent = message;
    show("error");
    countdown(ERROR_SECONDS, byId("err-countdown"), idle);
  }

  async function checkIn(code) {
    code = code.trim();
    input.value = "";
    if (busy) return;
    if (!code) { showError(t("empty_code")); return; }
    busy = true;
    clearInterval(timer);
    show("busy");
    try {
      showTicket(await api("POST", cfg.checkin_url, {code}));
    } catch (err) {
      showError(err.message);
    } finally {
      busy = false;
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    checkIn(input.value);
  });
  byId("done").addEventListener("click", idle);
  byId("err-back").addEventListener("click", idle);

  // ---- on-screen keyboard (notice codes are letters in both cases, digits, - and _) ----
  const ROWS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM_"];
  let upper = true;
  const keyboard = byId("keyboard");

  function key(label, cls, action) {
    const b = el("button", {type: "button", class: "k-key " + (cls || "")}, label);
    // pointerdown + preventDefault: a tap must not take the focus away from #code.
    b.addEventListener("pointerdown", (e) => { e.preventDefault(); action(); });
    b.addEventListener("click", (e) => { if (e.detail === 0) action(); }); // keyboard users
    return b;
  }

  function typeChar(c) {
    input.value += c;
  }

  function drawKeyboard() {
    const rows = ROWS.map((row) => el("div", {class: "k-row"},
      [...row].map((c) => {
        const ch = /[A-Z]/.test(c) && !upper ? c.toLowerCase() : c;
        return key(ch, "", () => typeChar(ch));
      })));
    rows.push(el("div", {class: "k-row"},
      key(t("shift") + (upper ? " ABC" : " abc"), "k-wide", () => { upper = !upper; drawKeyboard(); }),
      key(t("backspace"), "k-wide", () => { input.value = input.value.slice(0, -1); }),
      key(t("clear"), "k-wide", () => { input.value = ""; }),
      key(t("enter"), "k-wide k-enter", () => checkIn(input.value))));
    fill(keyboard, rows);
  }

  byId("show-keys").addEventListener("click", () => {
    drawKeyboard();
    keyboard.classList.remove("hidden");
    document.querySelector(".k-scan-art").classList.add("hidden"); // room for the keys
    byId("show-keys").classList.add("hidden");
    keepFocus();
  });

  idle();
})();
