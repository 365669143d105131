/* Live updates over Socket.IO (vendor/socket.io.min.js must be loaded first).
 *
 *   Live.connect({auth: {view: "display"}, onSnapshot(s) {...}, on: {ticket_called(p) {...}}})
 *
 * The server sends a full "snapshot" on every (re)connect, so a screen that lost the network
 * catches up by itself; events after that are applied as they come. While disconnected a red
 * banner says so. Banner texts come from window.HANDOVER.t.conn_lost / conn_refused. */
(function () {
  "use strict";
  const t = (k) => (window.UI ? window.UI.t(k) : k);

  function banner() {
    let b = document.getElementById("conn-banner");
    if (!b) {
      b = document.createElement("div");
      b.id = "conn-banner";
      b.className = "conn-banner hidden";
      b.setAttribute("role", "alert");
      document.body.appendChild(b);
    }
    return b;
  }

  function show(text) {
    const b = banner();
    b.textContent = text;
    b.classList.remove("hidden");
    document.body.classList.add("is-offline");
  }

  function hide() {
    banner().classList.add("hidden");
    document.body.classList.remove("is-offline");
  }

  function connect(opts) {
    // A websocket first: the server writes to it straight from the emitting thread
    // (server/websocket_writes.py). With one server process long-polling is the fallback;
    // with several only a websocket stays with one of them (base.html).
    const only = document.querySelector('meta[name="socket-transports"]');
    const socket = io(
      only
        ? {auth: opts.auth, transports: [only.content]}
        : {auth: opts.auth, transports: ["websocket", "polling"], tryAllTransports: true},
    );
    let everConnected = false;
    // Only complain about a first connection that takes long, not a quick one.
    const slow = setTimeout(() => { if (!socket.connected) show(t("conn_lost")); }, 3000);

    socket.on("connect", () => {
      everConnected = true;
      clearTimeout(slow);
      hide();
    });
    socket.on("disconnect", (reason) => {
      show(t("conn_lost"));
      // The server closed us on purpose: the client does not retry by itself.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 3000);
    });
    socket.on("connect_error", (err) => {
      if (socket.active) {
        show(t("conn_lost")); // network trouble: socket.io retries by itself
      } else {
        // Refused by the server (not logged in, link not valid): say why; try again later.
        show((err && err.message) || t("conn_refused"));
        setTimeout(() => socket.connect(), 15000);
      }
    });
    socket.on("snapshot", (snap) => {
      hide();
      opts.onSnapshot && opts.onSnapshot(snap, {reconnected: everConnected});
    });
    for (const [event, fn] of Object.entries(opts.on || {})) socket.on(event, fn);
    return socket;
  }

  window.Live = {connect};
})();
