/* Kiosk: scan (2D scanner typing into #code + Enter, or the tablet's camera) or look the unit
 * up without a notice; see who you check in as; confirm with role and priority needs; ticket.
 * #code keeps the focus on every screen so the scanner always works. Anything personal is
 * cleared when the owner walks away (idle timeout) or presses Done. */
(function () {
  "use strict";
  const {cfg, t, el, fill, name, api, byId} = window.UI;
  const TICKET_SECONDS = 20;
  const ERROR_SECONDS = 12;
  const IDLE_SECONDS = 45; // manual lookup, confirm, camera: back to start when nobody touches

  const input = byId("code");
  const form = byId("scan-form");
  const screens = ["idle", "busy", "camera", "manual", "confirm", "ticket", "error"];
  let busy = false;
  let timer = null;
  let idleTimer = null;
  let preview = null; // who we are about to check in (from the lookup)
  let choice = {role: "owner", need: null};

  function show(which) {
    for (const id of screens) {
      if (id === "idle") byId(id).classList.toggle("k-offstage", which !== "idle");
      else byId(id).classList.toggle("hidden", id !== which);
    }
    document.body.dataset.screen = which;
    armIdle(which);
    keepFocus();
  }

  function keepFocus() {
    if (document.activeElement !== input) input.focus({preventScroll: true});
  }
  input.addEventListener("blur", () => setTimeout(keepFocus, 0));
  document.addEventListener("pointerup", () => setTimeout(keepFocus, 0));
  window.addEventListener("focus", keepFocus);

  // ---- timeouts -------------------------------------------------------------------------------
  function armIdle(which) {
    clearTimeout(idleTimer);
    if (["manual", "confirm", "camera"].includes(which)) {
      idleTimer = setTimeout(reset, (cfg.idle_seconds || IDLE_SECONDS) * 1000);
    }
  }
  document.addEventListener("pointerdown", () => armIdle(document.body.dataset.screen));
  document.addEventListener("keydown", () => armIdle(document.body.dataset.screen));

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

  /** Back to the start with nothing personal left on the page. */
  function reset() {
    clearInterval(timer);
    clearTimeout(idleTimer);
    stopCamera();
    input.value = "";
    preview = null;
    choice = {role: "owner", need: null};
    manual.reset();
    for (const id of ["c-owner", "c-unit", "c-slot", "t-no", "t-unit", "t-step", "t-ahead", "t-wait", "err-msg", "err-when", "err-where"]) {
      byId(id).textContent = "";
    }
    byId("t-qr").removeAttribute("src");
    show("idle");
  }

  // ---- formatting -----------------------------------------------------------------------------
  function fmtDate(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return t("date_fmt", {y, m, d});
  }

  function slotText(p) {
    if (!p.slot) return t("walk_in");
    return t("slot", {day: fmtDate(p.slot.day), start: p.slot.start, end: p.slot.end});
  }

  // ---- scanning -------------------------------------------------------------------------------
  async function lookupCode(code) {
    code = (code || "").trim();
    input.value = "";
    if (busy) return;
    if (!code) { showError({message: t("empty_code")}); return; }
    await run(() => api("POST", cfg.lookup_url, {code}), showPreview);
  }

  async function run(call, then) {
    busy = true;
    clearInterval(timer);
    show("busy");
    try {
      then(await call());
    } catch (err) {
      showError(err);
    } finally {
      busy = false;
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    // A scan during the confirm screen or the ticket starts over with the new notice.
    lookupCode(input.value);
  });

  // ---- confirm --------------------------------------------------------------------------------
  function showPreview(p) {
    preview = p;
    // Already checked in: straight to the same ticket again (after this call has finished).
    if (p.checked_in) { setTimeout(confirm, 0); return; }
    byId("c-owner").textContent = p.owner || "—";
    byId("c-unit").textContent = cfg.locale === "en" ? p.unit_en || p.unit : p.unit;
    byId("c-slot").textContent = slotText(p);
    byId("c-walkin").classList.toggle("hidden", !p.walk_in);
    choice = {role: "owner", need: null};
    drawChoices();
    show("confirm");
  }

  function drawChoices() {
    for (const b of byId("c-roles").querySelectorAll("[data-role]")) {
      b.setAttribute("aria-pressed", String(b.dataset.role === choice.role));
    }
    for (const b of byId("c-needs").querySelectorAll("[data-need]")) {
      b.setAttribute("aria-pressed", String(b.dataset.need === choice.need));
    }
  }
  byId("c-roles").addEventListener("click", (e) => {
    const b = e.target.closest("[data-role]");
    if (b) { choice.role = b.dataset.role; drawChoices(); }
  });
  byId("c-needs").addEventListener("click", (e) => {
    const b = e.target.closest("[data-need]");
    if (b) { choice.need = choice.need === b.dataset.need ? null : b.dataset.need; drawChoices(); }
  });
  byId("c-cancel").addEventListener("click", reset);
  byId("c-ok").addEventListener("click", confirm);

  async function confirm() {
    if (!preview || busy) return;
    const body = {confirm: preview.confirm, party_role: choice.role};
    if (choice.need) body.priority_requested = choice.need;
    await run(() => api("POST", cfg.checkin_url, body), showTicket);
  }

  // ---- ticket ---------------------------------------------------------------------------------
  function showTicket(v) {
    preview = null;
    const cur = v.current;
    byId("t-no").textContent = v.ticket_no;
    byId("t-unit").textContent = cfg.locale === "en" ? v.unit_en || v.unit : v.unit;
    byId("t-step").textContent = cur ? name(cur.step) : "";
    byId("t-ahead").textContent = !cur ? "" : cur.state === "waiting"
      ? (cur.people_ahead ? t(cur.people_ahead === 1 ? "person" : "people", {n: cur.people_ahead}) : t("none")) : t("now");
    const wait = cur ? cur.estimated_wait : null;
    // Never "about 0 min": nobody ahead is "very soon".
    byId("t-wait").textContent = wait == null ? "—" : wait > 0 ? t("minutes", {n: wait}) : t("soon");
    byId("t-qr").src = cfg.qr_url + "?data=" + encodeURIComponent(v.status_url);
    byId("t-again").classList.toggle("hidden", !v.again);
    byId("t-take").classList.toggle("hidden", !v.printing);
    show("ticket");
    countdown(TICKET_SECONDS, byId("countdown"), reset);
  }

  // ---- errors ---------------------------------------------------------------------------------
  function showError(err) {
    const d = err.details || {};
    // Wrong day: a short headline, then the date on a line of its own (never broken inside).
    byId("err-msg").textContent = err.code === "wrong_day" ? t("not_today") : err.message;
    const when = byId("err-when");
    const where = byId("err-where");
    // The appointment's date on a line of its own that never breaks inside the date.
    when.classList.toggle("hidden", err.code !== "wrong_day");
    when.textContent = err.code === "wrong_day" ? t("slot", {day: fmtDate(d.day), start: d.start, end: d.end}) : "";
    const toDesk = ["wrong_day", "no_appointment", "unknown_code", "forged_code", "other_project", "lookup_locked", "already_handed_over"].includes(err.code);
    where.classList.toggle("hidden", !(toDesk && cfg.help_where));
    where.textContent = toDesk && cfg.help_where ? t("go_help_desk", {where: cfg.help_where}) : "";
    show("error");
    countdown(ERROR_SECONDS, byId("err-countdown"), reset);
  }

  byId("done").addEventListener("click", reset);
  byId("err-back").addEventListener("click", reset);

  // ---- no notice: building / entrance / floor / room, then digits ------------------------------
  const manual = (function () {
    let units = null; // [{id, name, entrances: [{entrance, floors: [{floor, rooms}]}]}]
    let pick = {};
    const auto = new Set(); // levels picked for the owner (only one choice)
    let kind = "phone";
    let digits = "";

    function reset() {
      pick = {};
      auto.clear();
      digits = "";
      kind = "phone";
      fill(byId("m-crumbs"));
      fill(byId("m-choices"));
      byId("m-display").textContent = "";
      byId("m-msg").textContent = "";
    }

    async function open() {
      reset();
      show("busy");
      try {
        if (!units) units = (await api("GET", cfg.units_url)).buildings;
        show("manual");
        draw();
      } catch (err) {
        showError(err);
      }
    }

    function crumbs() {
      const items = [];
      const back = (level) => () => { for (const k of ["building", "entrance", "floor", "room"].slice(level)) delete pick[k]; draw(); };
      if (pick.building) items.push([pick.building.name, back(0)]);
      if (pick.entrance) items.push([t("entrance_n", {n: pick.entrance.entrance}), back(1)]);
      if (pick.floor) items.push([t("floor_n", {n: pick.floor.floor}), back(2)]);
      if (pick.room) items.push([pick.room, back(3)]);
      fill(byId("m-crumbs"), items.map(([label, go]) =>
        el("li", {}, el("button", {type: "button", class: "k-crumb", onclick: go}, label))));
    }

    function choices(list, label, onPick, cls) {
      fill(byId("m-choices"), list.map((item) =>
        el("button", {type: "button", class: "k-pick " + (cls || ""), onclick: () => onPick(item)}, label(item))));
    }

    function draw() {
      crumbs();
      const digitsBox = byId("m-digits");
      const submit = byId("m-submit");
      digitsBox.classList.add("hidden");
      submit.classList.add("hidden");
      byId("m-choices").classList.remove("hidden");
      const title = byId("m-title");
      if (!pick.building) {
        if (units.length === 1) { pick.building = units[0]; auto.add("building"); return draw(); }
        title.textContent = t("pick_building");
        return choices(units, (b) => b.name, (b) => { pick.building = b; draw(); });
      }
      if (!pick.entrance) {
        const list = pick.building.entrances;
        if (list.length === 1) { pick.entrance = list[0]; auto.add("entrance"); return draw(); }
        title.textContent = t("pick_entrance");
        return choices(list, (e) => t("entrance_n", {n: e.entrance}), (e) => { pick.entrance = e; draw(); });
      }
      if (!pick.floor) {
        const list = pick.entrance.floors;
        if (list.length === 1) { pick.floor = list[0]; auto.add("floor"); return draw(); }
        title.textContent = t("pick_floor");
        return choices(list, (f) => String(f.floor), (f) => { pick.floor = f; draw(); }, "k-pick-num");
      }
      if (!pick.room) {
        title.textContent = t("pick_room");
        return choices(pick.floor.rooms, (r) => r, (r) => { pick.room = r; draw(); }, "k-pick-num");
      }
      title.textContent = t("enter_digits");
      byId("m-choices").classList.add("hidden");
      digitsBox.classList.remove("hidden");
      submit.classList.remove("hidden");
      drawDigits();
    }

    function need() { return kind === "phone" ? 4 : 6; }

    function drawDigits() {
      byId("m-kind-phone").setAttribute("aria-selected", String(kind === "phone"));
      byId("m-kind-id").setAttribute("aria-selected", String(kind === "id"));
      const shown = digits.padEnd(need(), "·");
      byId("m-display").textContent = [...shown].join(" ");
      byId("m-submit").disabled = digits.length !== need();
      const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", kind === "id" ? "X" : "", "0", "⌫"];
      fill(byId("m-pad"), keys.map((k) => k === ""
        ? el("span", {class: "k-pad-gap"})
        : el("button", {
          type: "button",
          class: "k-padkey num" + (k === "⌫" ? " k-padkey-del" : ""),
          "aria-label": k === "⌫" ? t("backspace") : k,
          onclick: () => press(k),
        }, k)));
    }

    function press(k) {
      byId("m-msg").textContent = "";
      if (k === "⌫") digits = digits.slice(0, -1);
      else if (digits.length < need()) digits += k;
      drawDigits();
    }

    function setKind(k) { kind = k; digits = ""; drawDigits(); }
    byId("m-kind-phone").addEventListener("click", () => setKind("phone"));
    byId("m-kind-id").addEventListener("click", () => setKind("id"));

    async function submit() {
      if (busy || digits.length !== need()) return;
      busy = true;
      const body = {
        building_id: pick.building.id,
        entrance: pick.entrance.entrance,
        room: pick.room,
        digits,
      };
      digits = "";
      try {
        showPreview(await api("POST", cfg.manual_url, body));
      } catch (err) {
        if (err.code === "lookup_no_match") { // stay here: check the unit or the digits
          byId("m-msg").textContent = err.message;
          drawDigits();
        } else {
          showError(err);
        }
      } finally {
        busy = false;
      }
    }
    byId("m-submit").addEventListener("click", submit);
    byId("m-back").addEventListener("click", () => {
      // Up one level the owner chose (levels with a single choice were never shown).
      const levels = ["building", "entrance", "floor", "room"];
      const chosen = levels.filter((k) => pick[k] && !auto.has(k));
      if (!chosen.length) { window.KioskReset(); return; }
      for (const k of levels.slice(levels.indexOf(chosen[chosen.length - 1]))) delete pick[k];
      draw();
    });

    return {open, reset};
  })();
  window.KioskReset = reset;
  byId("go-manual").addEventListener("click", manual.open);

  // ---- camera (tablets without a 2D scanner) ----------------------------------------------------
  let stream = null;
  let scanning = false;

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = cfg.jsqr_url;
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  async function startCamera() {
    show("camera");
    byId("cam-msg").textContent = t("cam_looking");
    try {
      await loadJsQR();
      stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "user"}, audio: false});
    } catch (e) {
      byId("cam-msg").textContent = t("no_camera");
      return;
    }
    const video = byId("cam");
    video.srcObject = stream;
    await video.play().catch(() => {});
    scanning = true;
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    const frame = () => {
      if (!scanning) return;
      if (video.readyState >= 2 && video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(img.data, img.width, img.height, {inversionAttempts: "dontInvert"});
        if (found && found.data) {
          stopCamera();
          lookupCode(found.data);
          return;
        }
      }
      setTimeout(() => requestAnimationFrame(frame), 120); // ~8 frames a second is plenty
    };
    frame();
  }

  function stopCamera() {
    scanning = false;
    if (stream) { for (const track of stream.getTracks()) track.stop(); }
    stream = null;
    const video = byId("cam");
    if (video) video.srcObject = null;
  }

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    byId("go-camera").classList.remove("hidden");
    byId("go-camera").addEventListener("click", startCamera);
  }
  byId("cam-back").addEventListener("click", reset);

  reset();
})();
