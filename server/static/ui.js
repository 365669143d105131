/* Small DOM and HTTP helpers shared by every screen.
 * Text always goes in through textContent (el/ text children), never innerHTML. */
(function () {
  "use strict";
  const cfg = window.HANDOVER || {};
  const strings = cfg.t || {};

  /** Translated string by key; "{name}" placeholders filled from params. */
  function t(key, params) {
    let s = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
    }
    return s;
  }

  /** el("div", {class: "x", text: "..."}, child, "text", [more]) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(node, c);
      else node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  /** Replaces a node's content. */
  function fill(node, ...children) {
    node.replaceChildren();
    append(node, children);
    return node;
  }

  /** The localized name of a step/counter ({name_zh, name_en}). */
  function name(obj) {
    if (!obj) return "";
    if (cfg.locale === "en") return obj.name_en || obj.name_zh || "";
    return obj.name_zh || obj.name_en || "";
  }

  /** JSON over fetch; throws Error(message) with the server's translated message. */
  async function api(method, url, body) {
    const opts = {method, credentials: "same-origin", headers: {Accept: "application/json"}};
    if (method !== "GET") opts.headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, opts);
    } catch (e) {
      throw new Error(t("network_error"));
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || t("server_error"));
      err.code = data && data.error && data.error.code;
      err.status = res.status;
      err.details = (data && data.error && data.error.details) || {};
      throw err;
    }
    return data;
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function byId(id) { return document.getElementById(id); }

  window.UI = {cfg, t, el, fill, name, api, byId, csrfToken};
})();
