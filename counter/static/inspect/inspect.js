/* The inspection tablet (验房). Take a visit at an inspection counter while on WiFi, then work
 * in the unit with no network: everything is written to IndexedDB first (InspectStore) and
 * uploaded by the sync loop whenever the server answers. Uploads go out in capture order,
 * files before the records that use them; each carries its client_id, so a retry is harmless. */
(function () {
  "use strict";
  const {t, el, fill, byId} = UI;
  const cfg = UI.cfg;
  const S = window.InspectStore;
  const SYNC_EVERY_MS = 5000;
  const PHOTO_MAX_PX = 1600;
  const KEEP_SYNCED_DAYS = 7;

  const state = {walk: null, tab: "checks", draft: null, syncing: false, loginNeeded: false};

  // ---- small helpers ---------------------------------------------------------------------

  function message(text, kind) {
    const box = byId("message");
    if (!text) { box.classList.add("hidden"); return; }
    box.className = "alert " + (kind === "ok" ? "alert-ok" : "alert-error");
    box.textContent = text;
  }

  const nm = (o) => UI.name(o);

  function whereWords(x, y) {
    if (x === null || x === undefined) return "";
    const col = x < 1 / 3 ? "l" : x < 2 / 3 ? "c" : "r";
    const row = y < 1 / 3 ? "t" : y < 2 / 3 ? "m" : "b";
    return t("where_fmt", {where: t("where_" + row + col)});
  }

  function flatCategories(nodes, prefix) {
    const out = [];
    for (const n of nodes || []) {
      const label = prefix ? prefix + " > " + nm(n) : nm(n);
      if (n.children && n.children.length) out.push(...flatCategories(n.children, label));
      else out.push({id: n.id, label});
    }
    return out;
  }

  async function freshToken() {
    // A page loaded from the service worker's cache may hold an old CSRF token.
    const res = await fetch(cfg.session_url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (res.status === 401 || res.status === 403) {
      const err = new Error(t("sync_login"));
      err.status = res.status;
      throw err;
    }
    if (!res.ok) throw new Error(t("server_error"));
    const data = await res.json();
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) meta.content = data.csrf_token;
    return data;
  }

  // ---- local model of a walk -------------------------------------------------------------

  async function loadWalk(key) {
    const walk = await S.get("walks", key);
    if (!walk) return null;
    walk.records = (await S.byWalk("records", key)).sort((a, b) => a.seq - b.seq);
    walk.blobs = (await S.byWalk("blobs", key)).sort((a, b) => a.seq - b.seq);
    return walk;
  }

  /** Current answers: the server's (downloaded) overlaid by the tablet's, newest wins. */
  function view(walk) {
    const rec = walk.data.recorded || {};
    const checks = {};
    for (const c of rec.checks || []) checks[c.room + "/" + c.item] = c.result;
    const defects = new Map();
    for (const d of rec.defects || []) defects.set(d.client_id || "srv-" + d.id, {...d, server: true, photoBlobs: []});
    const known = {};
    for (const k of rec.known_issues || []) known[k.known_issue_id] = k.result;
    let outcome = rec.result || null;
    for (const r of walk.records) {
      const b = r.body;
      if (r.type === "check") checks[b.room + "/" + b.item] = b.result;
      else if (r.type === "known") known[b.known_issue_id] = b.result;
      else if (r.type === "outcome") outcome = {...b, signed: !!b.signature, local: r};
      else if (r.type === "defect") {
        if (b.supersedes) defects.delete(b.supersedes);
        if (!b.voided) {
          defects.set(r.client_id, {
            ...b, client_id: r.client_id, record: r,
            photoBlobs: walk.blobs.filter((x) => (b.photos || []).includes(x.client_id)),
          });
        }
      }
    }
    return {checks, defects: [...defects.values()], known, outcome};
  }

  async function addRecord(type, body) {
    const walk = state.walk;
    const client_id = S.newId(type[0]);
    const record = {
      client_id, walk: walk.key, seq: S.nextSeq(), type, state: "pending",
      body: {...body, counter_id: walk.counter_id, client_id, recorded_at: new Date().toISOString()},
    };
    await S.put("records", record);
    walk.records.push(record);
    kick();
    return record;
  }

  async function addBlob(kind, blob) {
    const walk = state.walk;
    const item = {client_id: S.newId(kind[0]), walk: walk.key, seq: S.nextSeq(), kind, blob, state: "pending"};
    await S.put("blobs", item);
    walk.blobs.push(item);
    return item;
  }

  // ---- sync ------------------------------------------------------------------------------

  async function pendingAll() {
    const recs = (await S.all("records")).filter((r) => r.state === "pending");
    const blobs = (await S.all("blobs")).filter((b) => b.state === "pending");
    return {recs, blobs};
  }

  async function counts() {
    const recs = await S.all("records");
    const blobs = await S.all("blobs");
    const items = [...recs, ...blobs];
    return {
      pending: items.filter((x) => x.state === "pending").length,
      attention: items.filter((x) => x.state === "attention").length,
    };
  }

  async function showSync() {
    const badge = byId("sync");
    const c = await counts();
    let s = "synced";
    let text = t("sync_synced");
    if (state.loginNeeded) { s = "attention"; text = t("sync_login"); }
    else if (state.syncing) { s = "syncing"; text = t("sync_syncing"); }
    else if (c.pending) { s = "waiting"; text = t("sync_waiting", {n: c.pending}); }
    else if (c.attention) { s = "attention"; text = t("sync_attention", {n: c.attention}); }
    badge.dataset.state = s;
    badge.dataset.pending = String(c.pending);
    badge.textContent = text;
  }

  async function uploadBlob(b) {
    const form = new FormData();
    form.append("file", b.blob, b.kind === "signature" ? "signature.png" : "photo.jpg");
    form.append("kind", b.kind);
    form.append("client_id", b.client_id);
    let res;
    try {
      res = await fetch(cfg.files_url, {
        method: "POST", body: form, credentials: "same-origin",
        headers: {"X-CSRFToken": UI.csrfToken(), Accept: "application/json"},
      });
    } catch (e) {
      throw Object.assign(new Error(t("network_error")), {network: true});
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || t("server_error"));
      err.status = res.status;
      throw err;
    }
    return data;
  }

  const RECORD_URL = {check: "checks", defect: "defects", known: "known-issues", outcome: "outcome"};

  async function uploadRecord(r, blobsById) {
    const body = {...r.body};
    if (r.type === "defect") {
      const photos = [];
      for (const id of body.photos || []) {
        const b = blobsById[id];
        if (b && b.state === "pending") return false; // its photo first
        if (!b || b.state === "synced") photos.push(id);
        // A photo the server refused is left out; it stays on the tablet, marked.
      }
      body.photos = photos;
    }
    if (r.type === "outcome" && body.signature) {
      const b = blobsById[body.signature];
      if (b && b.state === "pending") return false;
      if (b && b.state === "attention") delete body.signature;
    }
    const walk = await S.get("walks", r.walk);
    const url = cfg.visits_base + walk.visit_id + "/" + RECORD_URL[r.type];
    let data;
    try {
      data = await UI.api("POST", url, body);
    } catch (e) {
      if (!e.status) throw Object.assign(e, {network: true});
      throw e;
    }
    r.state = data.attention ? "attention" : "synced";
    r.message = data.attention ? data.attention.message : null;
    r.server_id = data.id;
    r.synced_at = Date.now();
    await S.put("records", r);
    return true;
  }

  async function sync() {
    if (state.syncing) return;
    const {recs, blobs} = await pendingAll();
    if (!recs.length && !blobs.length) { await showSync(); return; }
    state.syncing = true;
    await showSync();
    try {
      await freshToken();
      state.loginNeeded = false;
      for (const b of blobs.sort((a, c) => a.seq - c.seq)) {
        try {
          await uploadBlob(b);
          b.state = "synced";
          b.synced_at = Date.now();
        } catch (e) {
          if (e.network || e.status === 401 || e.status === 403 || e.status >= 500) throw e;
          b.state = "attention";
          b.message = e.message;
        }
        await S.put("blobs", b);
      }
      const blobsById = {};
      for (const b of await S.all("blobs")) blobsById[b.client_id] = b;
      for (const r of recs.sort((a, c) => a.seq - c.seq)) {
        try {
          await uploadRecord(r, blobsById);
        } catch (e) {
          if (e.network || e.status === 401 || e.status === 403 || e.status >= 500) throw e;
          r.state = "attention";
          r.message = e.message;
          await S.put("records", r);
        }
      }
    } catch (e) {
      if (e.status === 401 || e.status === 403) state.loginNeeded = true;
      // Network or server trouble: everything stays pending and is tried again.
    } finally {
      state.syncing = false;
      if (state.walk) {
        const before = syncMarks(state.walk);
        const fresh = await loadWalk(state.walk.key);
        if (fresh) {
          fresh.planUrl = state.walk.planUrl;
          state.walk = fresh;
        }
        // Never redraw under the inspector's fingers (a signature, a defect being written).
        if (syncMarks(state.walk) !== before && !state.draft && state.tab !== "outcome") render();
      }
      await showSync();
    }
  }

  function syncMarks(walk) {
    return [...walk.records, ...walk.blobs].map((x) => x.state).join(",");
  }

  let timer = null;
  function kick() {
    showSync();
    clearTimeout(timer);
    if (navigator.onLine) timer = setTimeout(sync, 50);
  }

  /** Synced walks are kept a week for reference; photos of synced defects a day. Anything
   * not yet synced is never removed. */
  async function housekeeping() {
    const now = Date.now();
    for (const b of await S.all("blobs")) {
      if (b.state === "synced" && b.synced_at && now - b.synced_at > 86400e3) {
        b.blob = null;
        await S.put("blobs", b);
      }
    }
    for (const w of await S.all("walks")) {
      const recs = await S.byWalk("records", w.key);
      const blobs = await S.byWalk("blobs", w.key);
      const open = [...recs, ...blobs].some((x) => x.state !== "synced");
      if (!open && now - w.taken_at > KEEP_SYNCED_DAYS * 86400e3) {
        for (const r of recs) await S.del("records", r.client_id);
        for (const b of blobs) await S.del("blobs", b.client_id);
        await S.del("walks", w.key);
      }
    }
  }

  // ---- home: teams and walks on this tablet ----------------------------------------------

  async function home() {
    state.walk = null;
    localStorage.removeItem("inspect.current");
    byId("back").classList.add("hidden");
    byId("title").textContent = t("teams");
    const box = fill(byId("view"));
    const local = await S.all("walks");
    if (local.length) {
      box.append(el("h2", {class: "i-h", text: t("local_walks")}));
      const list = el("div", {class: "i-walks"});
      for (const w of local.sort((a, b) => b.taken_at - a.taken_at)) {
        const recs = await S.byWalk("records", w.key);
        const pending = recs.filter((r) => r.state === "pending").length;
        list.append(el("button", {
          type: "button", class: "card i-walk", "data-walk": w.key, onclick: () => openWalk(w.key),
        },
        el("strong", {class: "i-ticket", text: w.data.visit.ticket_no}),
        el("span", {text: UI.cfg.locale === "en" ? w.data.unit.label_en : w.data.unit.label}),
        el("span", {class: "muted", text: pending ? t("sync_waiting", {n: pending}) : t("continue")})));
      }
      box.append(list);
    }
    box.append(el("h2", {class: "i-h", text: t("teams")}));
    const teams = el("div", {class: "i-teams"}, el("p", {class: "muted", text: "…"}));
    box.append(teams);
    let data;
    try {
      data = await UI.api("GET", cfg.counters_url);
    } catch (e) {
      fill(teams, el("p", {class: "muted", text: t("offline_home")}));
      return;
    }
    if (!data.length) { fill(teams, el("p", {class: "muted", text: t("no_teams")})); return; }
    fill(teams, data.map(teamCard));
  }

  function teamCard(snap) {
    const c = snap.counter;
    const waiting = (snap.waiting || []).reduce((n, w) => n + (w.waiting || 0), 0);
    const cur = snap.current;
    const actions = el("div", {class: "i-actions"});
    if (cur && cur.current) {
      actions.append(el("button", {
        type: "button", class: "btn btn-primary i-start", "data-counter": c.id,
        text: t("start_walk", {ticket: cur.ticket_no}),
        onclick: () => takeWalk(c.id, cur.current.visit_step_id),
      }));
    } else {
      actions.append(el("button", {
        type: "button", class: "btn i-call", "data-counter": c.id, text: t("call_next"),
        onclick: async () => {
          try {
            const r = await UI.api("POST", cfg.call_base + c.id + "/call-next");
            if (r.queue_empty) message(t("queue_empty"));
            home();
          } catch (e) { message(e.message); }
        },
      }));
    }
    return el("div", {class: "card i-team", "data-code": c.code},
      el("strong", {class: "i-team-name", text: nm(c)}),
      el("span", {class: "muted", text: t("waiting_n", {n: waiting})}),
      actions);
  }

  async function takeWalk(counterId, visitStepId) {
    message("");
    let data;
    try {
      data = await UI.api("POST", cfg.counters_base + counterId + "/take", {visit_step_id: visitStepId});
    } catch (e) { message(e.message); return; }
    let plan = null;
    if (data.floor_plan) {
      try {
        const res = await fetch(data.floor_plan.url, {credentials: "same-origin"});
        if (res.ok) plan = await res.blob();
      } catch (e) { plan = null; }
    }
    const key = "v" + data.visit.id;
    const existing = await S.get("walks", key);
    await S.put("walks", {
      key, visit_id: data.visit.id, counter_id: counterId, data, plan,
      taken_at: existing ? existing.taken_at : Date.now(),
    });
    openWalk(key);
  }

  // ---- the walk ---------------------------------------------------------------------------

  async function openWalk(key) {
    const walk = await loadWalk(key);
    if (!walk) { home(); return; }
    state.walk = walk;
    state.draft = null;
    localStorage.setItem("inspect.current", key);
    byId("back").classList.remove("hidden");
    render();
    showSync();
  }

  function render() {
    const walk = state.walk;
    if (!walk) return;
    const d = walk.data;
    const v = view(walk);
    byId("title").textContent = d.visit.ticket_no + " · " + (UI.cfg.locale === "en" ? d.unit.label_en : d.unit.label);
    const box = fill(byId("view"));
    const owners = d.owners.map((o) => o.name).join("、");
    const colon = UI.cfg.locale === "en" ? ": " : "：";
    box.append(el("div", {class: "i-facts"},
      el("span", {text: t("owners") + colon + owners}),
      d.visit.agent_name ? el("span", {text: t("agent") + colon + d.visit.agent_name}) : null,
      d.unit.unit_type ? el("span", {text: d.unit.unit_type}) : null));
    const tabs = [
      ["checks", t("tab_checks")],
      ["defects", t("tab_defects", {n: v.defects.length})],
      ["known", t("tab_known", {n: d.known_issues.length})],
      ["outcome", t("tab_outcome")],
    ];
    box.append(el("nav", {class: "i-tabs", role: "tablist"}, tabs.map(([k, label]) =>
      el("button", {
        type: "button", role: "tab", class: "i-tab" + (state.tab === k ? " active" : ""),
        "aria-selected": state.tab === k ? "true" : "false", "data-tab": k, text: label,
        onclick: () => { state.tab = k; state.draft = null; render(); },
      }))));
    const panel = el("section", {class: "i-panel"});
    box.append(panel);
    if (state.tab === "checks") renderChecks(panel, v);
    else if (state.tab === "defects") renderDefects(panel, v);
    else if (state.tab === "known") renderKnown(panel, v);
    else renderOutcome(panel, v);
    box.append(renderFooter(v));
  }

  function itemName(code) {
    const it = state.walk.data.items.find((i) => i.code === code);
    return it ? nm(it) : code;
  }
  function roomName(code) {
    const r = state.walk.data.rooms.find((x) => x.code === code);
    return r ? nm(r) : code;
  }

  function renderChecks(panel, v) {
    for (const room of state.walk.data.rooms) {
      const rows = room.items.map((code) => {
        const cur = v.checks[room.code + "/" + code];
        return el("div", {class: "i-check", "data-room": room.code, "data-item": code},
          el("span", {class: "i-check-name", text: itemName(code)}),
          el("span", {class: "i-seg"}, ["ok", "defect", "na"].map((res) =>
            el("button", {
              type: "button", class: "i-seg-btn i-" + res + (cur === res ? " on" : ""),
              "data-result": res, text: t(res),
              onclick: async () => {
                if (cur !== res) await addRecord("check", {room: room.code, item: code, result: res});
                if (res === "defect") { state.tab = "defects"; state.draft = newDraft(room.code, code); }
                render();
              },
            }))));
      });
      const unset = room.items.filter((code) => !v.checks[room.code + "/" + code]);
      panel.append(el("div", {class: "card i-room", "data-room": room.code},
        el("div", {class: "i-room-head"},
          el("h3", {text: nm(room)}),
          el("button", {
            type: "button", class: "btn i-all-ok", disabled: unset.length ? null : true,
            text: t("room_all_ok"),
            onclick: async () => {
              for (const code of unset) await addRecord("check", {room: room.code, item: code, result: "ok"});
              render();
            },
          })),
        rows));
    }
  }

  function newDraft(room, item) {
    const rooms = state.walk.data.rooms;
    room = room || (rooms[0] && rooms[0].code);
    const r = rooms.find((x) => x.code === room);
    return {
      room, item: item || (r && r.items[0]), category_id: null, severity: "minor",
      description: "", photos: [], pin_x: null, pin_y: null,
    };
  }

  /** The floor plan with numbered pins; `onPick(x, y)` makes it tappable. */
  function planView(pins, onPick) {
    const walk = state.walk;
    if (!walk.plan) return el("p", {class: "muted i-no-plan", text: t("no_plan")});
    if (!walk.planUrl) walk.planUrl = URL.createObjectURL(walk.plan);
    const img = el("img", {src: walk.planUrl, alt: "", class: "i-plan-img", draggable: "false"});
    const wrap = el("div", {class: "i-plan" + (onPick ? " pickable" : "")}, img);
    for (const p of pins) {
      if (p.x === null || p.x === undefined) continue;
      const pin = el("span", {class: "i-pin" + (p.draft ? " draft" : ""), text: p.label});
      pin.style.left = (p.x * 100) + "%";
      pin.style.top = (p.y * 100) + "%";
      wrap.append(pin);
    }
    if (onPick) {
      img.addEventListener("click", (ev) => {
        const r = img.getBoundingClientRect();
        const x = Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
        const y = Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height));
        onPick(Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000);
      });
    }
    return wrap;
  }

  function renderDefects(panel, v) {
    const pins = v.defects.map((d, i) => ({x: d.pin_x, y: d.pin_y, label: String(i + 1)}));
    if (state.draft) {
      renderDraft(panel, pins);
      return;
    }
    panel.append(el("div", {class: "i-row"},
      el("button", {
        type: "button", class: "btn btn-primary", id: "add-defect", text: t("add_defect"),
        onclick: () => { state.draft = newDraft(); render(); },
      })));
    panel.append(planView(pins, null));
    if (!v.defects.length) { panel.append(el("p", {class: "muted", text: t("no_defects")})); return; }
    const list = el("ol", {class: "i-defects"});
    v.defects.forEach((d, i) => {
      const photos = el("div", {class: "i-thumbs"});
      for (const b of d.photoBlobs || []) {
        if (b.blob) photos.append(el("img", {src: URL.createObjectURL(b.blob), alt: "", class: "i-thumb"}));
      }
      for (const url of d.photos && d.server ? d.photos : []) {
        photos.append(el("img", {src: url, alt: "", class: "i-thumb"}));
      }
      const rec = d.record;
      list.append(el("li", {class: "card i-defect", "data-n": String(i + 1)},
        el("div", {class: "i-defect-head"},
          el("strong", {text: (i + 1) + ". " + roomName(d.room) + " · " + itemName(d.item)}),
          d.pin_x !== null && d.pin_x !== undefined ? el("span", {class: "muted", text: whereWords(d.pin_x, d.pin_y)}) : null,
          el("span", {class: "badge sev-" + d.severity, text: t("sev_" + d.severity)}),
          rec ? el("span", {class: "i-rec-state", "data-state": rec.state, title: rec.message || "", text: t("state_" + rec.state)}) : null),
        el("p", {text: d.description}),
        photos,
        el("button", {
          type: "button", class: "btn btn-link i-remove", text: t("remove"),
          onclick: async () => {
            await addRecord("defect", {
              room: d.room, item: d.item, description: "", severity: d.severity, photos: [],
              supersedes: d.client_id, voided: true, correction_reason: t("remove_reason"),
            });
            render();
          },
        })));
    });
    panel.append(list);
  }

  function renderDraft(panel, pins) {
    const dr = state.draft;
    const rooms = state.walk.data.rooms;
    const room = rooms.find((r) => r.code === dr.room) || rooms[0];
    const cats = flatCategories(state.walk.data.categories);
    const select = (name, options, value, onchange) => el("select", {name, onchange},
      options.map(([v, label]) => el("option", {value: v, selected: String(v) === String(value) ? true : null, text: label})));
    const form = el("div", {class: "card i-draft"},
      el("label", {text: t("room")}),
      select("room", rooms.map((r) => [r.code, nm(r)]), dr.room, (e) => {
        dr.room = e.target.value;
        const r = rooms.find((x) => x.code === dr.room);
        if (!r.items.includes(dr.item)) dr.item = r.items[0];
        render();
      }),
      el("label", {text: t("item")}),
      select("item", room.items.map((c) => [c, itemName(c)]), dr.item, (e) => { dr.item = e.target.value; }),
      el("label", {text: t("category")}),
      select("category", [["", "—"], ...cats.map((c) => [c.id, c.label])], dr.category_id || "", (e) => {
        dr.category_id = e.target.value ? Number(e.target.value) : null;
      }),
      el("label", {text: t("severity")}),
      select("severity", ["minor", "major", "critical"].map((s) => [s, t("sev_" + s)]), dr.severity, (e) => { dr.severity = e.target.value; }),
      el("label", {text: t("description")}),
      el("textarea", {name: "description", rows: "3", class: "i-text", oninput: (e) => { dr.description = e.target.value; }}, dr.description),
      el("label", {text: t("photos")}),
    );
    const thumbs = el("div", {class: "i-thumbs"});
    for (const p of dr.photos) thumbs.append(el("img", {src: URL.createObjectURL(p), alt: "", class: "i-thumb"}));
    const input = el("input", {type: "file", accept: "image/*", capture: "environment", multiple: true, class: "i-file", name: "photo"});
    input.addEventListener("change", async () => {
      for (const f of input.files) {
        try { dr.photos.push(await resizeImage(f)); } catch (e) { message(e.message); }
      }
      render();
    });
    form.append(thumbs, el("label", {class: "btn i-photo-btn"}, t("take_photo"), input));
    const where = dr.pin_x !== null ? t("pin_set", {where: whereWords(dr.pin_x, dr.pin_y)}) : t("pin_hint");
    form.append(el("p", {class: "i-pin-hint", text: state.walk.plan ? where : ""}));
    form.append(planView([...pins, {x: dr.pin_x, y: dr.pin_y, label: "+", draft: true}], (x, y) => {
      dr.pin_x = x; dr.pin_y = y; render();
    }));
    form.append(el("div", {class: "i-row"},
      el("button", {type: "button", class: "btn btn-primary", id: "save-defect", text: t("save_defect"), onclick: saveDraft}),
      el("button", {type: "button", class: "btn", text: t("cancel"), onclick: () => { state.draft = null; render(); }})));
    panel.append(form);
  }

  async function saveDraft() {
    const dr = state.draft;
    if (!dr.description.trim()) { message(t("need_description")); return; }
    message("");
    const photoIds = [];
    for (const blob of dr.photos) photoIds.push((await addBlob("photo", blob)).client_id);
    await addRecord("defect", {
      room: dr.room, item: dr.item, category_id: dr.category_id, severity: dr.severity,
      description: dr.description.trim(), photos: photoIds, pin_x: dr.pin_x, pin_y: dr.pin_y,
    });
    // The checklist follows: a defect marks its room x item as "defect" on the form.
    if (view(state.walk).checks[dr.room + "/" + dr.item] !== "defect") {
      await addRecord("check", {room: dr.room, item: dr.item, result: "defect"});
    }
    state.draft = null;
    render();
  }

  /** Camera pictures are large: scale on the tablet (canvas -> JPEG) before storing. */
  async function resizeImage(file) {
    let source;
    try {
      source = await createImageBitmap(file, {imageOrientation: "from-image"});
    } catch (e) {
      source = await new Promise((resolve, reject) => {
        const img = new Image();
        img.onload = () => resolve(img);
        img.onerror = () => reject(new Error(t("server_error")));
        img.src = URL.createObjectURL(file);
      });
    }
    const w = source.width, h = source.height;
    const scale = Math.min(1, PHOTO_MAX_PX / Math.max(w, h));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  }

  function renderKnown(panel, v) {
    const issues = state.walk.data.known_issues;
    if (!issues.length) { panel.append(el("p", {class: "muted", text: t("known_none")})); return; }
    for (const k of issues) {
      const cur = v.known[k.id];
      panel.append(el("div", {class: "card i-known", "data-known": String(k.id)},
        el("strong", {text: roomName(k.room_code || "") }),
        el("p", {text: k.description}),
        el("p", {class: "muted", text: k.source || ""}),
        el("span", {class: "i-seg"}, ["fixed", "still_open"].map((res) =>
          el("button", {
            type: "button", class: "i-seg-btn" + (cur === res ? " on" : ""), "data-result": res,
            text: t(res),
            onclick: async () => {
              if (cur !== res) await addRecord("known", {known_issue_id: k.id, result: res});
              render();
            },
          })))));
    }
  }

  function renderOutcome(panel, v) {
    const saved = v.outcome;
    const form = el("div", {class: "card i-outcome"});
    const choice = state.outcomeChoice || (saved && saved.outcome) || "";
    form.append(el("div", {class: "i-seg i-outcomes"}, ["accepted", "accepted_with_defects", "refused"].map((o) =>
      el("button", {
        type: "button", class: "i-seg-btn" + (choice === o ? " on" : ""), "data-outcome": o, text: t(o),
        onclick: () => { state.outcomeChoice = o; render(); },
      }))));
    const promised = el("input", {type: "date", name: "promised_date", value: (saved && saved.promised_date) || ""});
    const reasons = el("textarea", {name: "reason", rows: "3", class: "i-text"}, (saved && saved.reason) || "");
    const signer = el("input", {type: "text", name: "signer_name", value: (saved && saved.signer_name) || ""});
    if (choice === "accepted_with_defects") form.append(el("label", {text: t("promised_date")}), promised);
    if (choice === "refused") form.append(el("label", {text: t("reasons")}), reasons);
    form.append(el("label", {text: t("signer")}), signer);
    form.append(el("label", {text: t("signature")}));
    const pad = signaturePad();
    form.append(pad.node);
    form.append(el("div", {class: "i-row"},
      el("button", {type: "button", class: "btn", text: t("clear"), onclick: () => pad.clear()}),
      el("button", {
        type: "button", class: "btn btn-primary", id: "save-outcome", text: t("save_outcome"),
        onclick: async () => {
          if (!choice) return;
          if (choice === "accepted_with_defects" && !promised.value) { message(t("need_promised")); return; }
          if (choice === "refused" && !reasons.value.trim()) { message(t("need_reasons")); return; }
          if (pad.empty()) { message(t("need_signature")); return; }
          message("");
          const sig = await addBlob("signature", await pad.blob());
          await addRecord("outcome", {
            outcome: choice,
            promised_date: choice === "accepted_with_defects" ? promised.value : null,
            reason: choice === "refused" ? reasons.value.trim() : null,
            signer_name: signer.value.trim() || null,
            signature: sig.client_id,
          });
          state.outcomeChoice = null;
          render();
        },
      })));
    if (saved) {
      const rec = saved.local;
      form.append(el("p", {class: "i-saved", "data-state": rec ? rec.state : "synced",
        text: t("outcome_saved", {outcome: t(saved.outcome)}) + (rec ? " · " + t("state_" + rec.state) : "")}));
      const sig = rec && state.walk.blobs.find((b) => b.client_id === saved.signature);
      if (sig && sig.blob) {
        form.append(el("img", {class: "i-signed", alt: t("signature"), src: URL.createObjectURL(sig.blob)}));
      }
      if (rec && rec.state === "attention") {
        form.append(el("div", {class: "alert alert-error", text: rec.message || ""}));
      }
    }
    panel.append(form);
  }

  /** A canvas pad for the owner's signature: pointer events cover finger, pen and mouse. */
  function signaturePad() {
    const canvas = el("canvas", {class: "i-sign", width: "900", height: "300"});
    const ctx = canvas.getContext("2d");
    ctx.lineWidth = 4;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    let drawing = false;
    let strokes = 0;
    const pos = (e) => {
      const r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
    };
    canvas.addEventListener("pointerdown", (e) => {
      drawing = true;
      canvas.setPointerCapture(e.pointerId);
      ctx.beginPath();
      ctx.moveTo(...pos(e));
      e.preventDefault();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drawing) return;
      ctx.lineTo(...pos(e));
      ctx.stroke();
      strokes += 1;
    });
    const end = () => { drawing = false; };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    return {
      node: canvas,
      clear: () => { ctx.clearRect(0, 0, canvas.width, canvas.height); strokes = 0; },
      empty: () => strokes < 2,
      blob: () => new Promise((resolve) => canvas.toBlob(resolve, "image/png")),
    };
  }

  function renderFooter(v) {
    const walk = state.walk;
    const foot = el("footer", {class: "i-foot"});
    foot.append(el("p", {class: "muted", text: t("kept_local")}));
    if (state.loginNeeded) {
      // The login session ended while away: log in again; nothing on the tablet is lost.
      foot.append(el("a", {class: "btn btn-primary", href: cfg.login_url, text: t("sync_login")}));
    }
    const attention = [...walk.records, ...walk.blobs].filter((x) => x.state === "attention");
    for (const a of attention) {
      foot.append(el("div", {class: "alert alert-error i-attention", text: a.message || t("state_attention")}));
    }
    const allSynced = [...walk.records, ...walk.blobs].every((x) => x.state !== "pending");
    const row = el("div", {class: "i-row"});
    row.append(el("a", {
      class: "btn", href: cfg.form_base + walk.visit_id + "/acceptance.pdf", target: "_blank",
      text: t("open_form"),
    }));
    if (allSynced && v.outcome && v.outcome.outcome !== "refused" && !walk.completed) {
      row.append(el("button", {
        type: "button", class: "btn btn-ok", id: "complete", text: t("complete"),
        onclick: async () => {
          try {
            await UI.api("POST", cfg.call_base + walk.counter_id + "/tickets/" + walk.data.visit.visit_step_id + "/complete");
            walk.completed = true;
            const stored = await S.get("walks", walk.key);
            stored.completed = true;
            await S.put("walks", stored);
            message(t("completed"), "ok");
            render();
          } catch (e) { message(e.message); }
        },
      }));
    }
    foot.append(row);
    return foot;
  }

  // ---- start -------------------------------------------------------------------------------

  async function start() {
    byId("back").addEventListener("click", () => home());
    // A failure in a button's handler is shown, never swallowed.
    window.addEventListener("unhandledrejection", (ev) => {
      message((ev.reason && ev.reason.message) || String(ev.reason));
    });
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(cfg.sw_url, {scope: "/inspect/"}).catch(() => {});
    }
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    await S.open();
    housekeeping().catch(() => {});
    window.addEventListener("online", kick);
    window.addEventListener("offline", showSync);
    setInterval(() => { if (navigator.onLine) sync(); }, SYNC_EVERY_MS);
    const current = localStorage.getItem("inspect.current");
    if (current && (await S.get("walks", current))) await openWalk(current);
    else await home();
    kick();
  }

  window.InspectApp = {sync, state};
  start();
})();
