/* The inspection tablet's own storage: IndexedDB, so what is captured in the unit survives a
 * reload, a browser restart or a flat battery. Three stores:
 *   walks   one per visit taken: the walk data downloaded at the counter and the floor plan blob
 *   records checks, defects, known-issue answers and outcomes, in capture order (seq)
 *   blobs   photos (JPEG, resized on the tablet) and signatures (PNG)
 * Every record and blob carries the client_id made here; the server keys on it, so a retried
 * upload can never create a second row. */
(function () {
  "use strict";
  const NAME = "handover-inspect";
  const VERSION = 1;
  let dbPromise = null;

  function open() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore("walks", {keyPath: "key"});
        const rec = db.createObjectStore("records", {keyPath: "client_id"});
        rec.createIndex("walk", "walk");
        const blobs = db.createObjectStore("blobs", {keyPath: "client_id"});
        blobs.createIndex("walk", "walk");
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return dbPromise;
  }

  function done(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function run(store, mode, fn) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      let result;
      Promise.resolve(fn(tx.objectStore(store))).then((r) => { result = r; }, reject);
      // Resolve only once the transaction is durable, not when the request succeeded.
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  const put = (store, value) => run(store, "readwrite", (s) => { s.put(value); return value; });
  const get = (store, key) => run(store, "readonly", (s) => done(s.get(key)));
  const all = (store) => run(store, "readonly", (s) => done(s.getAll()));
  const del = (store, key) => run(store, "readwrite", (s) => { s.delete(key); });
  const byWalk = (store, walk) =>
    run(store, "readonly", (s) => done(s.index("walk").getAll(walk)));

  /** Sequence within this tablet: capture order survives clock changes and reloads. */
  let lastSeq = 0;
  function nextSeq() {
    lastSeq = Math.max(Date.now() * 1000, lastSeq + 1);
    return lastSeq;
  }

  function newId(prefix) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  window.InspectStore = {open, put, get, all, del, byWalk, nextSeq, newId};
})();
