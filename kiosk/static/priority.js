/* Staff: priority needs marked at the kiosk, confirmed or declined after seeing the owner.
 * Refreshed every 10 s and after each decision. */
(function () {
  "use strict";
  const {cfg, t, el, fill, api, byId} = window.UI;

  async function decide(visitId, accept) {
    try {
      await api("POST", cfg.decide_url.replace(/\/0\/priority$/, `/${visitId}/priority`), {accept});
      byId("msg").classList.add("hidden");
    } catch (err) {
      byId("msg").textContent = err.message;
      byId("msg").classList.remove("hidden");
    }
    load();
  }

  async function load() {
    let data;
    try {
      data = await api("GET", cfg.list_url);
    } catch (err) {
      return;
    }
    const rows = data.requests.map((r) => el("tr", {"data-visit": r.visit_id},
      el("td", {class: "num"}, el("strong", {}, r.ticket_no)),
      el("td", {}, cfg.locale === "en" ? r.unit_en : r.unit),
      el("td", {}, t(r.requested)),
      el("td", {}, t(r.party_role)),
      el("td", {},
        el("button", {type: "button", class: "btn btn-primary", onclick: () => decide(r.visit_id, true)}, t("confirm")),
        " ",
        el("button", {type: "button", class: "btn", onclick: () => decide(r.visit_id, false)}, t("decline")))));
    fill(byId("requests"), rows);
    byId("none").classList.toggle("hidden", rows.length > 0);
  }

  load();
  setInterval(load, 10000);
})();
