/* Supervisor's page: publish and end board notices; an admin sets each board's filter. */
(function () {
  "use strict";
  const {t, api, byId} = window.UI;

  function say(text, ok) {
    const m = byId("msg");
    m.textContent = text;
    m.className = "alert " + (ok ? "alert-ok" : "alert-error");
  }

  byId("notice-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const minutes = byId("minutes").value ? parseInt(byId("minutes").value, 10) : null;
    try {
      await api("POST", "/api/notices", {
        text_zh: byId("text_zh").value, text_en: byId("text_en").value || null, minutes,
      });
      say(t("published"), true);
      setTimeout(() => location.reload(), 600);
    } catch (err) {
      say(err.message, false);
    }
  });

  for (const b of document.querySelectorAll(".n-end")) {
    b.addEventListener("click", async () => {
      try {
        await api("POST", `/api/notices/${b.dataset.id}/end`);
        say(t("ended"), true);
        setTimeout(() => location.reload(), 600);
      } catch (err) {
        say(err.message, false);
      }
    });
  }

  for (const row of document.querySelectorAll(".n-board")) {
    const save = row.querySelector(".n-save");
    if (!save) continue;
    save.addEventListener("click", async () => {
      const steps = [...row.querySelectorAll("input[name=steps]:checked")].map((i) => i.value);
      const areas = row.querySelector("input[name=areas]").value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
      try {
        await api("PUT", `/api/display/devices/${row.dataset.id}/filter`, {
          steps, areas, voice_en: row.querySelector("input[name=voice_en]").checked,
        });
        say(t("saved"), true);
      } catch (err) {
        say(err.message, false);
      }
    });
  }
})();
