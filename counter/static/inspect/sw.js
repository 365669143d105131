/* Service worker of the inspection tablet: keeps the app shell so the page opens (and reloads)
 * with no network in the unit. Data never goes through here: the page keeps it in IndexedDB.
 * Navigations: network first, the cached page when offline. Static files and stored images
 * (content-named, never changing): cache first. API calls: straight to the network. */
const CACHE = "inspect-shell-v2";
const SHELL = [
  "/inspect/",
  "/static/ui.js",
  "/static/app.css",
  "/static/favicon.svg",
  "/inspect/static/store.js",
  "/inspect/static/inspect.js",
  "/inspect/static/inspect.css",
  "/inspect/static/icon-192.png",
  "/inspect/static/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      Promise.all(SHELL.map((url) =>
        fetch(url, {credentials: "same-origin"}).then((response) => {
          // Never keep the login page as the app (a redirect when the session had ended).
          if (response.ok && !response.redirected) return cache.put(url, response);
          return null;
        }).catch(() => null)))
    ).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) cache.put("/inspect/", response.clone());
    return response;
  } catch (e) {
    const cached = await cache.match("/inspect/");
    if (cached) return cached;
    throw e;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, {ignoreSearch: true});
  const refresh = fetch(request).then((response) => {
    if (response.ok) cache.put(request, response.clone());
    return response;
  });
  if (cached) {
    refresh.catch(() => null);  // keep the shell fresh when in range
    return cached;
  }
  return refresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === "/inspect/") {
    event.respondWith(networkFirst(request));
  } else if (
    url.pathname.startsWith("/inspect/static/") ||
    url.pathname.startsWith("/api/inspect/files/") ||
    SHELL.includes(url.pathname)
  ) {
    event.respondWith(cacheFirst(request));
  }
});
