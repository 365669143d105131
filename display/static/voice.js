/* The board's voice: prerecorded clips (display/make_voice.py) joined gapless with Web Audio.
 *
 *   BoardVoice.plan(call, {en})  -> ["…/chime.ogg", "…/zh/p-qing.ogg", "…/zh/l-A.ogg", …]
 *   BoardVoice.say(call, {en})   -> Promise resolved when the announcement has been spoken
 *
 * "请 A023 号 到 3 号窗口 办理 签约": letters and digits one by one, counter numbers as numbers.
 * A name without a clip (a counter renamed after the clips were made) is read by the browser's
 * own Chinese voice when it has a good one, else by the number in the name.
 * Sound needs no tap when Chromium runs with --autoplay-policy=no-user-gesture-required;
 * otherwise one tap on the setup button, remembered on this board. */
(function () {
  "use strict";
  const cfg = window.HANDOVER || {};
  const manifest = cfg.voice || {zh: {}, en: {}};
  const base = cfg.voice_base || "/display/static/voice/";
  const ZH_DIGITS = "零一二三四五六七八九";
  const MAX_NUMBER = 60;
  const SOUND_KEY = "handover.board.sound";

  function zhNumber(n) {
    const tens = Math.floor(n / 10), ones = n % 10;
    const head = tens === 0 ? "" : tens === 1 ? "十" : ZH_DIGITS[tens] + "十";
    return head + (ones ? ZH_DIGITS[ones] : "");
  }

  function clip(lang, text) {
    const file = (manifest[lang] || {})[text];
    return file ? base + file : null;
  }

  /** Spoken texts of a ticket: "A023" -> ["A", "零", "二", "三"] (en: ["A", "0", "2", "3"]). */
  function ticketWords(no, lang) {
    return [...String(no).toUpperCase()].map((ch) =>
      /\d/.test(ch) ? (lang === "zh" ? ZH_DIGITS[+ch] : ch) : ch);
  }

  /** A number read as a number where it can be ("十二"), else digit by digit. */
  function numberWords(n, lang) {
    const v = parseInt(n, 10);
    if (v > 0 && v <= MAX_NUMBER) return [lang === "zh" ? zhNumber(v) : String(v)];
    return ticketWords(String(n), lang);
  }

  /** Words of a counter: its own clip, "N号窗口"/"Counter N", else the number in its name. */
  function counterWords(counter, lang) {
    const nm = lang === "zh" ? counter.name_zh : (counter.name_en || counter.name_zh);
    if (clip(lang, nm)) return {words: [nm], complete: true};
    const win = lang === "zh" ? /^(\d+)号窗口$/.exec(nm) : /^Counter (\d+)$/i.exec(nm || "");
    if (win) {
      return lang === "zh"
        ? {words: [...numberWords(win[1], lang), "号窗口"], complete: true}
        : {words: ["counter", ...numberWords(win[1], lang)], complete: true};
    }
    const digits = /(\d+)/.exec(nm || "") || /(\d+)/.exec(counter.code || "");
    const fallback = digits ? numberWords(digits[1], lang) : ticketWords(counter.code || "", lang);
    return {words: lang === "zh" ? [...fallback, "号"] : ["counter", ...fallback], complete: false};
  }

  function stepWords(step, lang) {
    const nm = lang === "zh" ? step.name_zh : (step.name_en || step.name_zh);
    return clip(lang, nm) ? {words: [nm], complete: true} : {words: [], complete: false};
  }

  /** The spoken words of one call in one language, and whether every name has its clip. */
  function words(call, lang) {
    const counter = counterWords(call.counter || {}, lang);
    const step = stepWords(call.step || {}, lang);
    const w = lang === "zh"
      ? [...(call.recall ? ["再次呼叫"] : []), "请", ...ticketWords(call.ticket_no, lang), "号", "到",
        ...counter.words, ...(step.words.length ? ["办理", ...step.words] : [])]
      : [...(call.recall ? ["Calling again"] : []), "Number", ...ticketWords(call.ticket_no, lang),
        "please go to", ...counter.words, ...(step.words.length ? ["for", ...step.words] : [])];
    return {words: w, complete: counter.complete && step.complete};
  }

  /** The clip URLs of one announcement: chime, Mandarin, then English if asked for. */
  function plan(call, opts) {
    const langs = opts && opts.en ? ["zh", "en"] : ["zh"];
    const urls = manifest.chime ? [base + manifest.chime] : [];
    for (const lang of langs) {
      for (const w of words(call, lang).words) {
        const u = clip(lang, w);
        if (u) urls.push(u);
      }
    }
    return urls;
  }

  // ---- playback ----
  const AC = window.AudioContext || window.webkitAudioContext;
  const ctx = AC ? new AC() : null;
  const buffers = new Map(); // url -> Promise<AudioBuffer|null>; bounded by the clip set

  function load(url) {
    if (!buffers.has(url)) {
      buffers.set(url, fetch(url)
        .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(r.status))))
        .then((data) => ctx.decodeAudioData(data))
        .catch(() => { buffers.delete(url); return null; })); // tried again next time
    }
    return buffers.get(url);
  }

  function canPlay() {
    return !!ctx && ctx.state === "running";
  }

  function wait(ms) { return new Promise((r) => setTimeout(r, ms)); }

  /** Plays the clips back to back; resolves when the last one has finished. */
  async function playClips(urls) {
    const bufs = (await Promise.all(urls.map(load))).filter(Boolean);
    let at = ctx.currentTime + 0.05;
    const start = at;
    for (const b of bufs) {
      const src = ctx.createBufferSource();
      src.buffer = b;
      src.connect(ctx.destination);
      src.onended = () => src.disconnect();
      src.start(at);
      at += b.duration;
    }
    await wait((at - start) * 1000 + 80);
    return bufs.length;
  }

  function zhSpeechVoice() {
    const synth = window.speechSynthesis;
    if (!synth) return null;
    // Only an installed (offline) Chinese voice: an online one fails without internet.
    return synth.getVoices().find((v) => /^zh|^cmn/i.test(v.lang) && v.localService) || null;
  }

  function speakText(text, voice) {
    return new Promise((resolve) => {
      const u = new SpeechSynthesisUtterance(text);
      u.voice = voice;
      u.lang = voice.lang;
      u.rate = 0.9;
      u.onend = u.onerror = () => resolve();
      window.speechSynthesis.speak(u);
      setTimeout(resolve, 15000); // never hang the queue on a stuck engine
    });
  }

  /** Speaks one call. Returns how it was said: "clips", "speech" or "silent". */
  async function say(call, opts) {
    if (!canPlay()) return "silent";
    const zh = words(call, "zh");
    const voice = zh.complete ? null : zhSpeechVoice();
    if (voice) {
      if (manifest.chime) await playClips([base + manifest.chime]);
      await speakText(zh.words.join(""), voice);
      return "speech";
    }
    await playClips(plan(call, opts));
    return "clips";
  }

  /** Loads the clips every call needs (phrases, digits, letters) before the first call. */
  function preload() {
    if (!ctx) return;
    const fixed = ["请", "号", "到", "号窗口", "办理", ...ZH_DIGITS, ..."ABCDEFGHJKLMNPQRSTUVWXYZ"];
    if (manifest.chime) load(base + manifest.chime);
    for (const w of fixed) { const u = clip("zh", w); if (u) load(u); }
  }

  // ---- sound on without a person: autoplay flag, or one remembered tap ----
  function setupButton(button, onChange) {
    function refresh() {
      const on = canPlay();
      button.classList.toggle("hidden", on || !ctx);
      onChange && onChange(on);
    }
    button.addEventListener("click", () => {
      try { localStorage.setItem(SOUND_KEY, "on"); } catch (e) { /* private mode */ }
      ctx.resume().then(refresh);
    });
    if (ctx) {
      ctx.onstatechange = refresh;
      // With the autoplay flag this succeeds at once; without it Chromium waits for a gesture.
      const remembered = (() => { try { return localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; } })();
      ctx.resume().catch(() => {});
      if (remembered) {
        // A tap anywhere (or a key) brings the sound back after a reload.
        const wake = () => ctx.resume();
        document.addEventListener("pointerdown", wake, {once: true});
        document.addEventListener("keydown", wake, {once: true});
      }
    }
    setTimeout(refresh, 300);
  }

  window.BoardVoice = {plan, words, say, preload, canPlay, setupButton, zhNumber,
    get state() { return ctx ? ctx.state : "none"; }};
})();
