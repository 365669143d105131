/* The counter's panel: the visit served (who, unit, history), the step's own panel (verify,
 * fees, sign, keys), what is still missing, owner requests, transfer/skip/cancel, standard
 * responses, the counter's holder and keyboard shortcuts. Every answer is the fresh panel. */
(function () {
  "use strict";
  const {cfg, t, el, fill, name, api, byId} = window.UI;
  const St = window.CounterStation;
  const me = cfg.me || {};
  const isSup = me.role === "supervisor" || me.role === "admin";
  let panel = null;
  let lastJson = "";
  let lastTicket = "";
  let signing = null; // {document_type_id, owner_id, label}
  let pad = null;

  const locText = (o) => (cfg.locale === "en" ? o.text_en || o.text_zh : o.text_zh);
  const unitOf = (v) => (cfg.locale === "en" ? v.unit_en || v.unit : v.unit);
  const ticketUrl = (what) => cfg.action_base + panel.visit.visit_step_id + "/" + what;
  const badge = (cls, text) => el("span", {class: "badge " + cls}, text);
  // "10731.60" -> "¥10,731.60": amounts stay strings (Decimal on the server), never floats.
  const money = (s) => "¥" + String(s).replace(/^(-?\d+)/, (m) => m.replace(/\B(?=(\d{3})+(?!\d))/g, ","));

  // Answers can cross on the wire: one that left before a newer answer arrived is stale.
  let seq = 0;
  async function load(force) {
    const mine = ++seq;
    let fresh;
    try { fresh = await api("GET", cfg.panel_url); } catch (err) { St.message(err.message, "error"); return; }
    if (mine === seq) apply(fresh, force);
  }

  function apply(fresh, force) {
    const json = JSON.stringify(fresh);
    if (!force && json === lastJson) return; // nothing new: keep what is being typed or drawn
    lastJson = json;
    const key = fresh.visit ? fresh.visit.visit_step_id + ":" + fresh.visit.step.code : "";
    if (key !== lastTicket) signing = null;
    lastTicket = key;
    panel = fresh;
    render();
  }

  // Panel actions run one after the other: a quick second tap waits for the first instead of
  // being lost (the panel may already show the first one's result, pushed by the server).
  let chain = Promise.resolve();
  function send(url, body) {
    const run = chain.then(async () => {
      try {
        const answer = await api("POST", url, body);
        seq++;
        return answer;
      } catch (err) {
        St.message(err.message, "error");
        return null;
      }
    });
    chain = run;
    return run;
  }

  async function post(what, body, okText) {
    const answer = await send(ticketUrl(what), body);
    if (!answer) return null;
    apply(answer, true);
    St.refresh();
    // The panel moved on: an earlier refusal ("still missing ...") no longer holds.
    if (okText) St.message(okText, "ok");
    else St.clearMessage();
    return answer;
  }

  // ---- holder -------------------------------------------------------------------------------

  function renderHolder() {
    const h = panel.holder;
    const box = byId("holder");
    const mine = h && h.staff_id === me.staff_id;
    // Someone else holds it: say so, and grey out the counter's buttons (the server refuses).
    const blocked = Boolean(h && !mine && !isSup);
    document.body.classList.toggle("not-holder", blocked);
    byId("not-holder").classList.toggle("hidden", !blocked);
    if (blocked) byId("not-holder").textContent = t("not_holder", {name: h.name});
    const take = (takeover) => St.run(async () => {
      apply(await api("POST", cfg.take_url, {takeover}), true);
    });
    fill(box,
      el("span", {class: "badge " + (mine ? "badge-ok" : h ? "badge-warn" : ""), id: "holder-name"},
        mine ? t("you_hold") : h ? t("holder", {name: h.name}) : t("free")),
      !h ? el("button", {class: "btn", type: "button", id: "act-take", onclick: () => take(false)}, t("take")) : null,
      h && !mine && isSup ? el("button", {class: "btn btn-warn", type: "button", id: "act-takeover", onclick: () => take(true)}, t("takeover")) : null,
      mine ? el("button", {class: "btn", type: "button", id: "act-leave", onclick: () => St.run(async () => {
        apply(await api("POST", cfg.leave_url, {}), true);
      })}, t("leave")) : null);
  }

  // ---- frame --------------------------------------------------------------------------------

  function list(items, render) {
    return items.length ? el("ul", {class: "p-list"}, items.map((i) => el("li", {}, render(i)))) : el("p", {class: "muted"}, t("none"));
  }

  function renderFrame() {
    const v = panel.visit;
    if (!v) {
      fill(byId("frame"), el("p", {class: "muted"}, t("no_current")));
      return;
    }
    const party = t("party_" + v.party_role);
    fill(byId("frame"),
      el("div", {class: "p-head"},
        el("span", {class: "p-ticket num"}, v.ticket_no),
        el("span", {class: "p-unit"}, unitOf(v)),
        v.area_m2 ? el("span", {class: "muted"}, v.area_m2 + " m²") : null,
        badge("badge-primary", name(v.step))),
      el("dl", {class: "p-facts"},
        el("div", {}, el("dt", {}, t("owners")), el("dd", {},
          v.owners.map((o, i) => el("span", {class: "p-owner"}, (i ? "、" : "") + o.name)),
          " · ", party,
          v.agent_name ? el("span", {}, " · " + t("agent") + ": " + v.agent_name + " ",
            v.power_of_attorney_seen ? badge("badge-ok", t("poa_seen")) : badge("badge-warn", t("poa_not_seen"))) : null)),
        el("div", {}, el("dt", {}, t("priority")), el("dd", {},
          v.priority === "normal" ? t("none") : badge("badge-warn", t("prio_" + v.priority)),
          v.priority_requested ? el("span", {class: "muted"}, " " + t("priority_requested", {p: t("prio_" + v.priority_requested)})) : null)),
        el("div", {class: "p-wide"}, el("dt", {}, t("steps")), el("dd", {class: "p-steps"},
          v.steps.map((s) => el("span", {class: "p-step p-step-" + s.state}, name(s), " ",
            el("small", {}, t("state_" + s.state)))))),
        el("div", {}, el("dt", {}, t("holds")), el("dd", {},
          list(v.holds, (h) => [(cfg.locale === "en" ? h.step_en : h.step_zh) + " " + h.at.slice(11, 16) + " · ", h.reason || "—"]))),
        el("div", {}, el("dt", {}, t("requests")), el("dd", {},
          list(v.requests, (r) => [r.at ? r.at.slice(11, 16) + " " : "", t("cat_" + r.category) + "：", r.text,
            r.urgency === "urgent" ? badge("badge-danger", t("urgent")) : null]))),
        el("div", {}, el("dt", {}, t("known_issues")), el("dd", {},
          list(v.known_issues, (k) => [k.room ? ((cfg.locale === "en" ? k.room_en : k.room_zh) || k.room) + " · " : "", k.description, " ", badge(k.status === "fixed" ? "badge-ok" : "badge-warn", t("issue_" + k.status))])))));
  }

  function renderMissing() {
    const box = byId("missing");
    const gaps = (panel.visit && panel.missing) || [];
    box.className = gaps.length ? "alert alert-info p-missing" : "hidden";
    if (!gaps.length) { box.replaceChildren(); return; }
    const reason = el("input", {id: "override-reason", maxlength: 500, placeholder: t("override_reason"), "aria-label": t("override_reason")});
    fill(box,
      el("div", {}, t("missing")),
      el("ul", {class: "p-list"}, gaps.map((g) => el("li", {}, locText(g)))),
      isSup ? el("div", {class: "p-row"}, reason, el("button", {class: "btn btn-warn", type: "button", id: "act-override", onclick: async () => {
        if (!reason.value.trim()) { St.message(t("reason_needed"), "error"); return; }
        const ok = await St.run(async () => api("POST", ticketUrl("complete"), {override_reason: reason.value.trim()}));
        if (ok) { St.refresh(); load(true); }
      }}, t("override"))) : null);
  }

  // ---- verify -------------------------------------------------------------------------------

  function renderVerify(p) {
    return el("table", {class: "grid p-table", id: "verify-table"}, el("tbody", {}, p.documents.map((d) => {
      const st = d.status === "seen" ? badge("badge-ok", t("seen")) : d.status === "missing" ? badge("badge-danger", t("doc_missing")) : badge("", t("not_checked"));
      const mark = (status) => post("documents", {document_type_id: d.document_type_id, owner_id: d.owner_id, status});
      return el("tr", {dataset: {doc: d.code}},
        el("td", {}, name(d), d.owner ? el("span", {class: "muted"}, "（" + d.owner + "）") : null, d.required ? null : el("small", {class: "muted p-optional"}, " " + t("optional"))),
        el("td", {}, st),
        el("td", {class: "c-right p-btns"},
          el("button", {class: "btn btn-ok", type: "button", onclick: () => mark("seen")}, t("seen")),
          el("button", {class: "btn btn-danger", type: "button", onclick: () => mark("missing")}, t("doc_missing"))));
    })));
  }

  // ---- fees ---------------------------------------------------------------------------------

  function renderFees(p) {
    const rows = p.items.map((f) => {
      const method = el("select", {"aria-label": t("mark_paid")}, p.methods.map((m) => el("option", {value: m}, t("method_" + m))));
      const receipt = el("input", {maxlength: 40, placeholder: t("receipt_no"), "aria-label": t("receipt_no"), class: "p-receipt", dataset: {draft: "receipt" + f.fee_type_id}});
      const reason = el("input", {maxlength: 500, placeholder: t("waive_reason"), "aria-label": t("waive_reason"), dataset: {draft: "waive" + f.fee_type_id}});
      const status = f.status === "paid" ? badge("badge-ok", t("paid") + " · " + t("method_" + f.method) + " · " + f.receipt_no)
        : f.status === "waived" ? badge("badge-warn", t("waived") + " · " + (f.reason || "")) : badge("", t("unpaid"));
      return el("tr", {dataset: {fee: f.fee_type_id}},
        el("td", {}, name(f)),
        el("td", {class: "num c-right p-amount"}, money(f.amount)),
        el("td", {class: "p-fee-act"}, status, f.status ? null : [
          el("div", {class: "p-row"}, method, receipt, el("button", {class: "btn btn-ok", type: "button", onclick: () =>
            post("fees", {unit_fee_id: f.unit_fee_id, status: "paid", method: method.value, receipt_no: receipt.value})}, t("mark_paid"))),
          isSup ? el("div", {class: "p-row"}, reason, el("button", {class: "btn btn-warn", type: "button", onclick: () =>
            post("fees", {unit_fee_id: f.unit_fee_id, status: "waived", reason: reason.value})}, t("waive"))) : null,
        ]));
    });
    const tot = p.totals;
    return el("div", {},
      el("table", {class: "grid p-table", id: "fees-table"}, el("tbody", {}, rows)),
      el("p", {class: "p-totals num"}, t("due") + " " + money(tot.due) + " · " + t("paid") + " " + money(tot.paid) + " · " + t("waived") + " " + money(tot.waived) + " · ",
        el("strong", {}, t("outstanding") + " " + money(tot.outstanding))));
  }

  // ---- signature pad (sign and keys) --------------------------------------------------------

  function padBox(defaultName) {
    const box = el("div", {class: "sig-box"});
    pad = window.SignaturePad.create(box);
    const signer = el("input", {maxlength: 60, placeholder: t("signer_name"), "aria-label": t("signer_name"), id: "signer-name", value: defaultName || "", dataset: {draft: "signer" + (signing ? signing.label : "keys")}});
    box.prepend(el("div", {class: "muted"}, t("sign_here")));
    box.append(el("div", {class: "p-row"}, signer, el("button", {class: "btn", type: "button", onclick: () => pad.clear()}, t("clear"))));
    return {box, signer};
  }

  // A stored signature, loaded through the staff-only file route.
  const sigThumb = (url, alt) => url ? el("a", {href: url, target: "_blank", rel: "noopener", class: "p-sig-link"},
    el("img", {src: url, alt: alt || t("signature"), class: "p-sig-thumb", loading: "lazy"})) : null;
  const absentText = (a, withNote) => t("absent") + " · " + (cfg.locale === "en" ? a.reason_en : a.reason_zh) + (withNote && a.note ? " · " + a.note : "");

  // Who signs: a co-owner who did not come is marked (with why); their signatures are no
  // longer asked for. Present again: a newer record, the first stays.
  function renderPresence(p) {
    if (p.owners.length < 2) return null;
    return el("div", {class: "p-presence", id: "presence"}, el("h3", {class: "c-h"}, t("presence")),
      p.owners.map((o) => {
        if (o.absent) {
          return el("div", {class: "p-row p-owner-line", dataset: {owner: o.owner_id}},
            el("span", {}, o.owner), badge("badge-warn p-absent", absentText(o.absent, true)),
            el("button", {class: "btn btn-link", type: "button", onclick: () => post("absences", {owner_id: o.owner_id, absent: false})}, t("mark_present")));
        }
        if (o.signed_any) {
          return el("div", {class: "p-row p-owner-line", dataset: {owner: o.owner_id}}, el("span", {}, o.owner), badge("badge-ok", t("present")));
        }
        const reason = el("select", {class: "p-absent-reason", "aria-label": t("absent_reason")},
          el("option", {value: ""}, t("absent_reason") + "…"),
          p.absence_reasons.map((r) => el("option", {value: r}, t("absence_" + r))));
        const note = el("input", {maxlength: 500, class: "p-absent-note", placeholder: t("absent_note"), "aria-label": t("absent_note"), dataset: {draft: "absnote" + o.owner_id}});
        return el("div", {class: "p-row p-owner-line", dataset: {owner: o.owner_id}},
          el("span", {}, o.owner), reason, note,
          el("button", {class: "btn btn-warn p-absent-btn", type: "button", onclick: () => {
            if (!reason.value) { St.message(t("absent_reason_needed"), "error"); return; }
            post("absences", {owner_id: o.owner_id, absent: true, reason: reason.value, note: note.value.trim() || null});
          }}, t("mark_absent")));
      }));
  }

  function renderSign(p) {
    const rows = p.documents.map((d) => el("tr", {}, el("td", {}, name(d)), el("td", {},
      d.signatures.map((s) => el("div", {class: "p-sig-line"},
        s.owner ? el("span", {}, s.owner + " ") : null,
        s.signed ? badge("badge-ok", t("signed") + (s.signer_name ? " · " + s.signer_name : ""))
          : s.absent ? badge("badge-warn", absentText(s.absent)) : badge("", t("not_signed")),
        s.signed ? sigThumb(s.image_url, t("signature") + " " + name(d) + (s.owner ? "（" + s.owner + "）" : "")) : null,
        s.signed || s.absent ? null : el("button", {class: "btn btn-primary p-sign-btn", type: "button", onclick: () => {
          signing = {document_type_id: d.document_type_id, owner_id: s.owner_id, label: name(d) + (s.owner ? "（" + s.owner + "）" : "")};
          renderKind(true);
        }}, t("sign")))))));
    const out = [renderPresence(p), el("table", {class: "grid p-table", id: "sign-table"}, el("tbody", {}, rows))];
    if (signing) {
      const {box, signer} = padBox(p.agent || "");
      out.push(el("div", {class: "p-pad card"}, el("h3", {}, signing.label), box,
        el("button", {class: "btn btn-ok", type: "button", id: "save-signature", onclick: async () => {
          if (pad.isEmpty()) { St.message(t("sign_first"), "error"); return; }
          const ok = await post("signatures", {document_type_id: signing.document_type_id, owner_id: signing.owner_id,
            signer_name: signer.value.trim() || null, image: pad.dataURL()});
          if (ok) { signing = null; renderKind(true); }
        }}, t("save_signature"))));
      setTimeout(() => box.scrollIntoView({block: "center"}), 0);
    }
    return el("div", {}, out);
  }

  // ---- keys ---------------------------------------------------------------------------------

  function renderKeys(p) {
    if (p.blockers.length) {
      return el("div", {class: "alert alert-error", id: "keys-blocked"}, t("keys_blocked"),
        el("ul", {class: "p-list"}, p.blockers.map((b) => el("li", {}, locText(b)))));
    }
    if (p.handover) {
      return el("div", {class: "alert alert-ok", id: "keys-done"}, t("keys_done"),
        el("ul", {class: "p-list"}, p.handover.items.map((i) => {
          const it = p.items.find((x) => x.key_item_type_id === i.key_item_type_id);
          return el("li", {}, (it ? name(it) : "") + " × " + i.handed + (i.handed < i.expected ? " / " + i.expected : ""));
        }), p.handover.readings.map((r) => {
          const m = p.meters.find((x) => x.meter_type_id === r.meter_type_id);
          return el("li", {}, (m ? name(m) : "") + (r.meter_no ? " #" + r.meter_no : "") + "：" + r.reading + (m ? " " + m.unit : ""));
        })),
        p.handover.signature_url ? el("div", {class: "p-row"}, el("span", {}, t("signature") + (p.handover.signer_name ? " · " + p.handover.signer_name : "")),
          sigThumb(p.handover.signature_url)) : null);
    }
    const counts = p.items.map((k) => ({k, handed: el("input", {type: "number", min: 0, max: k.quantity, value: k.quantity, class: "p-count", "aria-label": name(k), dataset: {draft: "handed" + k.key_item_type_id}}),
      note: el("input", {maxlength: 200, placeholder: t("short_note"), "aria-label": t("short_note"), dataset: {draft: "short" + k.key_item_type_id}})}));
    const meters = p.meters.map((m) => ({m, no: el("input", {maxlength: 40, placeholder: t("meter_no"), "aria-label": name(m) + " " + t("meter_no"), dataset: {draft: "meterno" + m.meter_type_id}}),
      reading: el("input", {inputmode: "decimal", maxlength: 20, placeholder: t("reading") + " (" + m.unit + ")", "aria-label": name(m) + " " + t("reading"), class: "p-reading", dataset: {draft: "reading" + m.meter_type_id}})}));
    const {box, signer} = padBox("");
    return el("div", {},
      el("table", {class: "grid p-table", id: "keys-table"},
        el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, t("expected")), el("th", {}, t("handed")), el("th", {}, t("short_note")))),
        el("tbody", {}, counts.map(({k, handed, note}) => el("tr", {},
          el("td", {}, name(k), k.serials ? el("div", {class: "muted p-serials"}, k.serials) : null),
          el("td", {class: "num"}, k.quantity), el("td", {}, handed), el("td", {}, note))))),
      el("table", {class: "grid p-table", id: "meters-table"}, el("tbody", {}, meters.map(({m, no, reading}) =>
        el("tr", {}, el("td", {}, name(m)), el("td", {}, no), el("td", {}, reading))))),
      el("div", {class: "p-pad card"}, box),
      el("button", {class: "btn btn-ok p-big", type: "button", id: "hand-over", onclick: async () => {
        if (pad.isEmpty()) { St.message(t("sign_first"), "error"); return; }
        await post("keys", {
          items: counts.map(({k, handed, note}) => ({key_item_type_id: k.key_item_type_id, handed: Number(handed.value), note: note.value.trim() || null})),
          readings: meters.map(({m, no, reading}) => ({meter_type_id: m.meter_type_id, meter_no: no.value.trim() || null, reading: reading.value.trim()})),
          signer_name: signer.value.trim() || null, image: pad.dataURL(),
        }, t("keys_done"));
      }}, t("hand_over")));
  }

  // The inspection is recorded on the inspection tablet (works offline in the unit); the desk
  // points there and shows what has come in: the outcome and the owner's signature.
  function renderInspect(p) {
    const r = p && p.result;
    return el("div", {class: "card p-inspect"},
      el("p", {}, t("inspect_on_tablet")),
      r ? el("div", {class: "alert alert-info", id: "inspect-result"},
        el("strong", {}, t("outcome_" + r.outcome)),
        r.promised_date ? el("span", {}, " · " + t("promised_date") + " " + r.promised_date) : null,
        r.reason ? el("span", {}, " · " + r.reason) : null,
        r.signature_url ? el("div", {class: "p-row"}, el("span", {}, t("signature") + (r.signer_name ? " · " + r.signer_name : "")),
          sigThumb(r.signature_url)) : null) : null,
      el("a", {class: "btn btn-ok p-big", href: "/inspect/", target: "_blank", rel: "noopener"},
        t("open_inspection_app")));
  }

  const KINDS = {verify: renderVerify, fees: renderFees, sign: renderSign, inspect: renderInspect, keys: renderKeys};

  let kindJson = "";
  function renderKind(force) {
    const box = byId("kind-panel");
    const fn = !panel.visit ? null
      : panel.panel ? KINDS[panel.kind] : null;
    const json = JSON.stringify([lastTicket, panel.panel, signing && signing.label]);
    if (!force && json === kindJson) return; // keep what is being typed or drawn
    kindJson = json;
    if (!fn) { box.replaceChildren(); return; }
    // What was typed and not yet saved survives a re-render (another screen saved something).
    const drafts = {};
    box.querySelectorAll("[data-draft]").forEach((i) => { if (i.value) drafts[i.dataset.draft] = i.value; });
    fill(box, fn(panel.panel));
    box.querySelectorAll("[data-draft]").forEach((i) => {
      if (drafts[i.dataset.draft] !== undefined && i.tagName !== "SELECT") i.value = drafts[i.dataset.draft];
    });
  }

  // ---- owner requests, transfer, skip, cancel ----------------------------------------------

  function renderVisitActions() {
    const box = byId("visit-actions");
    box.classList.toggle("hidden", !panel.visit);
    const cat = byId("req-category");
    if (!cat.options.length) {
      fill(cat, panel.categories.map((c) => el("option", {value: c}, t("cat_" + c))));
      fill(byId("req-department"), panel.departments.map((d) => el("option", {value: d.code}, name(d))));
      fill(byId("move-step"), panel.steps.map((s) => el("option", {value: s.code}, name(s))));
    }
    byId("act-cancel").classList.toggle("hidden", !isSup);
  }

  byId("req-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!panel || !panel.visit) return;
    const answer = await St.run(async () => api("POST", cfg.visit_base + panel.visit.visit_id + "/requests", {
      category: byId("req-category").value, department: byId("req-department").value,
      urgency: byId("req-urgency").value, text: byId("req-text").value}));
    if (answer) { byId("req-text").value = ""; apply(answer, true); St.message(t("request_saved"), "ok"); }
  });

  async function visitMove(what, body) {
    const answer = await St.run(async () => api("POST", cfg.visits_api + panel.visit.visit_id + "/" + what, body));
    if (answer) { byId("move-reason").value = ""; St.refresh(); load(true); }
  }
  byId("act-transfer").addEventListener("click", () => panel && panel.visit &&
    visitMove("transfer", {to_step: byId("move-step").value, reason: byId("move-reason").value.trim() || null}));
  byId("act-skip").addEventListener("click", () => {
    if (!panel || !panel.visit) return;
    const reason = byId("move-reason").value.trim();
    if (!reason) { St.message(t("reason_needed"), "error"); return; }
    visitMove("skip", {step: panel.visit.step.code, reason});
  });
  byId("act-cancel").addEventListener("click", () => {
    if (!panel || !panel.visit) return;
    const reason = byId("move-reason").value.trim();
    if (!reason) { St.message(t("reason_needed"), "error"); return; }
    if (window.confirm(t("confirm_cancel"))) visitMove("cancel", {reason});
  });

  // ---- standard responses ------------------------------------------------------------------

  let respTimer = null;
  async function searchResponses() {
    try {
      const q = byId("resp-q").value.trim();
      const data = await api("GET", cfg.responses_url + "?q=" + encodeURIComponent(q));
      fill(byId("responses"), data.responses.length ? data.responses.map((r) => el("details", {class: "p-resp", dataset: {id: r.id}},
        el("summary", {}, r.topic), el("p", {}, r.text),
        isSup ? el("button", {class: "btn btn-link", type: "button", onclick: () => startEdit(r)}, t("edit")) : null))
        : el("p", {class: "muted"}, t("no_responses")));
    } catch (err) { St.message(err.message, "error"); }
  }
  // Supervisors publish or edit (an edit is a new row superseding the old one).
  let editing = null;
  function startEdit(r) {
    editing = r;
    byId("resp-topic").value = r.topic;
    byId("resp-text").value = r.text;
    byId("resp-form-h").textContent = t("editing", {topic: r.topic});
    byId("resp-cancel-edit").classList.remove("hidden");
    byId("resp-topic").focus();
  }
  function stopEdit() {
    editing = null;
    byId("resp-form").reset();
    byId("resp-cancel-edit").classList.add("hidden");
    byId("resp-form-h").textContent = byId("resp-form-h").dataset.title;
  }
  byId("resp-form-h").dataset.title = byId("resp-form-h").textContent;
  byId("resp-form").classList.toggle("hidden", !isSup);
  byId("resp-cancel-edit").addEventListener("click", stopEdit);
  byId("resp-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const url = cfg.responses_url + (editing ? "/" + editing.id : "");
    const ok = await St.run(async () => api("POST", url, {topic: byId("resp-topic").value, text: byId("resp-text").value}));
    if (ok) { stopEdit(); St.message(t("published"), "ok"); }
  });
  byId("resp-q").addEventListener("input", () => { clearTimeout(respTimer); respTimer = setTimeout(searchResponses, 250); });
  document.addEventListener("counter:response", (e) => {
    const box = byId("resp-new");
    box.textContent = t("new_response", {topic: e.detail.topic});
    box.classList.remove("hidden");
    searchResponses();
  });
  document.addEventListener("counter:transferred", (e) => {
    const p = e.detail;
    St.message(t("transferred_here", {ticket: p.ticket_no, unit: p.unit, step: name(p.to_step)}), "info");
  });

  // ---- wiring -------------------------------------------------------------------------------

  function render() {
    if (!panel) return;
    renderHolder();
    renderFrame();
    renderMissing();
    renderKind();
    renderVisitActions();
  }

  let snapKey = null;
  document.addEventListener("counter:snapshot", (e) => {
    const cur = e.detail.current && e.detail.current.current;
    const key = cur ? cur.visit_step_id + ":" + cur.state : "";
    if (key !== snapKey) { snapKey = key; load(); }
  });
  document.addEventListener("counter:changed", () => load());

  // Desk PC shortcuts: F1 call next, F2 recall, F3 start, F4 complete, F6 no-show, F7 hold,
  // F8 search the standard responses.
  const KEYS = {F1: "act-call", F2: "act-recall", F3: "act-start", F4: "act-complete", F6: "act-no-show", F7: "act-hold"};
  document.addEventListener("keydown", (e) => {
    if (e.key === "F8") { e.preventDefault(); byId("resp-q").focus(); return; }
    const id = KEYS[e.key];
    if (!id) return;
    e.preventDefault();
    const b = byId(id);
    if (b && !b.disabled) b.click();
  });

  // Tablets get the touch layout; ?layout=desk or ?layout=tablet forces one.
  const forced = new URLSearchParams(location.search).get("layout");
  const touch = forced ? forced === "tablet" : window.matchMedia("(pointer: coarse)").matches || window.innerWidth < 1100;
  document.body.classList.toggle("layout-tablet", touch);

  searchResponses();
  load(true);
})();
