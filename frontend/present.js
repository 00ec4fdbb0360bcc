// Presentation mode: the diagram as large as the screen allows (labels never under 16 px,
// see diagram.js), a caption bar (the comment above the current line, the program's
// docstring at step 0, the source line), a thin strip of region events, slides, bookmarks,
// a timeline overlay and a speaker view in a second window that follows this one.
// Slides: the bookmarks (kept per trace in this browser, or given by the page data of an
// export), else the steps marked `# pyrona: slide`, else region events and violations.
// Data comes through the page's JSON API only (`GET .../slides`), so an export can serve it.
"use strict";

const PyronaPresent = ({ state, go, base, page, renderer, diagramFor, diagram }) => {
  const P = Pyrona;
  const { el, api } = P;
  const $ = (id) => document.getElementById(id);
  const trace = page.trace;
  const STORE_KEY = `pyrona:bookmarks:${trace}`;
  const speaker = new URLSearchParams(location.search).get("speaker") === "1";
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(`pyrona-present:${trace}`) : null;

  const me = {
    data: null, // GET .../slides
    loading: null,
    bookmarks: loadBookmarks(),
    started: Date.now(),
  };

  // --- bookmarks ---

  function loadBookmarks() {
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null"); } catch (_) { /* private mode */ }
    const list = Array.isArray(saved) ? saved : Array.isArray(page.bookmarks) ? page.bookmarks : [];
    return [...new Set(list.filter(Number.isInteger))].sort((a, b) => a - b);
  }

  function saveBookmarks() {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(me.bookmarks)); } catch (_) { /* not kept */ }
  }

  function toggleBookmark(n) {
    const at = me.bookmarks.indexOf(n);
    if (at >= 0) me.bookmarks.splice(at, 1);
    else { me.bookmarks.push(n); me.bookmarks.sort((a, b) => a - b); }
    saveBookmarks();
    drawStrip();
    showStep(state.step);
    post({ bookmarks: me.bookmarks });
  }

  // --- slides ---

  function load() {
    if (!me.loading) {
      me.loading = api(`${base}/slides`).then((data) => { me.data = data; drawStrip(); showStep(state.step); return data; })
        .catch((err) => { me.loading = null; throw err; });
    }
    return me.loading;
  }

  /** The steps shown as slides, in order; step 0 (the program's title) always opens them. */
  function slides() {
    let steps;
    if (me.bookmarks.length) steps = me.bookmarks;
    else steps = me.data ? me.data.slides.map((s) => s.step) : [];
    steps = [...new Set([0, ...steps])].filter((s) => s < state.total).sort((a, b) => a - b);
    return steps;
  }

  function slideInfo(n) {
    if (me.bookmarks.length || !me.data) return null;
    return me.data.slides.find((s) => s.step === n) || null;
  }

  const nextSlide = (n) => slides().find((s) => s > n) ?? null;
  const prevSlide = (n) => [...slides()].reverse().find((s) => s < n) ?? null;

  /** The words above the diagram at step n: the slide's own caption, the comment above its
   * line, or the program's docstring at step 0. */
  function caption(n, v) {
    if (!me.data) return "";
    if (n === 0) return me.data.docstring.split(/\n\s*\n/).slice(0, 2).join(" — ").replace(/\s+/g, " ");
    const slide = slideInfo(n);
    if (slide && slide.caption) return slide.caption;
    const main = state.files[0];
    if (v && main && (v.file === main.path || v.file === 0 || state.files.length === 1)) {
      return me.data.captions[String(v.line)] || "";
    }
    return "";
  }

  // --- what is shown ---

  function active() { return document.body.classList.contains("present"); }

  function toggle(on, { full = true } = {}) {
    diagram.hidePopover();
    document.body.classList.toggle("present", on);
    $("present-button").classList.toggle("active", on);
    state.viewMode = "auto";
    if (on) {
      load().catch((err) => { $("present-caption").textContent = "The slides could not be loaded: " + err.message; });
      if (full && !speaker) fullScreen(true);
    } else {
      overlay(false);
      fullScreen(false);
    }
    requestAnimationFrame(diagram.place);
    showStep(state.step);
  }

  function fullScreen(on) {
    const doc = document;
    try {
      if (on && !doc.fullscreenElement && doc.documentElement.requestFullscreen) {
        doc.documentElement.requestFullscreen().catch(() => {});
      } else if (!on && doc.fullscreenElement) {
        doc.exitFullscreen().catch(() => {});
      }
    } catch (_) { /* not allowed here: the window stays as it is */ }
  }

  /** Called by the viewer when step n is chosen and when its StepView arrives. */
  function showStep(n, v = state.view && state.view.index === n ? state.view : null) {
    if (!active()) return;
    const list = slides();
    const at = list.indexOf(n);
    const mark = me.bookmarks.includes(n) ? " ★" : "";
    $("present-count").textContent = at >= 0 ? `${at + 1} / ${list.length}${mark}` : `step ${n}${mark}`;
    const cur = $("present-strip").querySelector(".now");
    if (cur) cur.style.left = `${(n / Math.max(1, state.total - 1)) * 100}%`;
    if (!speaker) post({ step: n });
    if (!v) return; // (the words follow with the step's view)
    const text = caption(n, v);
    $("present-caption").textContent = text;
    $("present-caption").hidden = !text;
    let line = v ? (v.source_line || "").replace(/\s*#\s*pyrona:.*$/, "").trim() : "";
    const said = text && line.lastIndexOf("# " + text);
    if (said > 0) line = line.slice(0, said).trim(); // (its comment is the caption already)
    $("present-where").textContent = v && v.line && n > 0 ? `line ${v.line}` : "";
    $("present-code").textContent = n === 0 ? "" : line; // (step 0: the docstring is the caption)
    const bad = v ? (v.events || []).filter((ev) => ev.kind === "violation") : [];
    $("present-violation").textContent = bad.map((ev) => ev.message).join(" · ");
    $("present-violation").hidden = !bad.length;
    if (speaker) speakerNotes(n, v);
  }

  function drawStrip() {
    const strip = $("present-strip");
    const last = Math.max(1, state.total - 1);
    const marks = [];
    for (const s of slides()) {
      marks.push(el("i", { class: "slide" + (me.bookmarks.includes(s) ? " bookmark" : ""),
                           style: `left:${(s / last) * 100}%`, title: `slide: step ${s}`, onclick: () => go(s) }));
    }
    for (const s of state.eventSteps) {
      const bad = state.violationSteps.includes(s);
      marks.push(el("i", { class: "event" + (bad ? " violation" : ""), style: `left:${(s / last) * 100}%`,
                           title: `step ${s}`, onclick: () => go(s) }));
    }
    marks.push(el("b", { class: "now", style: `left:${(state.step / last) * 100}%` }));
    strip.replaceChildren(...marks);
  }

  // --- the timeline overlay (t) ---

  function overlay(on) {
    const box = $("present-overlay");
    if (!on) { box.hidden = true; return; }
    const list = slides();
    const rows = list.map((s, i) => {
      const info = slideInfo(s);
      const text = s === 0 ? caption(0) : (info && info.caption) || (me.data && info && info.line
        ? me.data.captions[String(info.line)] || "" : "");
      return el("li", { class: s === state.step ? "on" : "", onclick: () => { overlay(false); go(s); } },
        el("span", { class: "n" }, String(i + 1)),
        el("span", { class: "where" }, `step ${s}${info && info.line ? ` · line ${info.line}` : ""}`),
        info && info.kind !== "mark" && info.kind !== "caption" ? el("span", { class: "ev-kind " + info.kind }, P.EVENT_TEXT[info.kind] || info.kind) : "",
        me.bookmarks.includes(s) ? el("span", { class: "star" }, "★") : "",
        el("span", { class: "text" }, text));
    });
    const from = me.bookmarks.length ? "your bookmarks (b)"
      : { marks: "the program's # pyrona: slide marks", events: "the region events and violations",
          captions: "one per commented paragraph" }[me.data && me.data.from] || "";
    box.replaceChildren(el("h2", {}, `Slides: ${from}`), el("ol", {}, rows),
      el("p", { class: "muted" }, "Click a slide to go there; t or Esc closes this."));
    box.hidden = false;
  }

  // --- the speaker view: a second window that follows this one ---

  function post(message) { if (channel) channel.postMessage({ from: speaker ? "speaker" : "main", ...message }); }

  if (channel) {
    channel.onmessage = ({ data }) => {
      if (!data) return;
      if (data.bookmarks) { me.bookmarks = data.bookmarks; drawStrip(); }
      if (speaker && data.from === "main" && Number.isInteger(data.step) && data.step !== state.step) go(data.step);
      if (!speaker && data.from === "speaker" && Number.isInteger(data.go) && data.go !== state.step) go(data.go);
    };
  }

  function openSpeaker() {
    const url = `${location.pathname}?step=${state.step}&speaker=1`;
    window.open(url, `pyrona-speaker-${trace}`, "width=1280,height=800");
  }

  async function speakerNotes(n, v) {
    const next = nextSlide(n);
    $("speaker-notes").replaceChildren(
      el("p", { class: "now" }, caption(n, v) || "(no caption for this step)"),
      next !== null ? el("p", { class: "muted" }, "Next: " + (caption(next, null) || slideInfo(next)?.caption || `step ${next}`)) : "");
    const list = slides();
    $("speaker-count").textContent = `slide ${Math.max(0, list.indexOf(n)) + 1} / ${list.length} · step ${n}`;
    const box = $("speaker-next");
    if (next === null) { box.replaceChildren(el("p", { class: "muted" }, "The last slide.")); return; }
    box.dataset.step = next;
    try {
      const d = await diagramFor(next);
      const svg = await renderer.render(d.text);
      if (Number(box.dataset.step) !== next) return;
      box.innerHTML = svg;
      const node = box.querySelector("svg");
      if (node) { P.sizeSvg(node); node.setAttribute("width", "100%"); node.setAttribute("height", "100%"); }
    } catch (err) {
      if (err.message !== "cancelled") box.textContent = "The next slide could not be drawn: " + err.message;
    }
  }

  function tick() {
    const s = Math.floor((Date.now() - me.started) / 1000);
    $("speaker-timer").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  if (speaker) {
    document.body.classList.add("speaker");
    $("speaker-panel").hidden = false;
    $("speaker-timer").addEventListener("click", () => { me.started = Date.now(); tick(); });
    setInterval(tick, 1000);
    tick();
  }

  // --- keys (presentation mode only; the viewer's keys do the rest) ---

  function goAndTell(n) {
    if (n === null || n === undefined) return;
    go(n);
    if (speaker) post({ go: n });
  }

  function key(e) {
    if (!active()) return false;
    if (!$("present-overlay").hidden && (e.key === "Escape" || e.key === "t")) { overlay(false); return true; }
    const n = state.step;
    const actions = {
      " ": () => goAndTell(nextSlide(n)),
      ArrowRight: () => goAndTell(nextSlide(n)),
      PageDown: () => goAndTell(nextSlide(n)),
      ArrowLeft: () => goAndTell(prevSlide(n)),
      PageUp: () => goAndTell(prevSlide(n)),
      b: () => toggleBookmark(n),
      t: () => overlay(true),
      F: () => fullScreen(!document.fullscreenElement),
      v: openSpeaker,
      Escape: () => toggle(false),
    };
    if (/^[1-9]$/.test(e.key)) {
      const target = me.bookmarks[Number(e.key) - 1];
      if (target !== undefined) goAndTell(target);
      return true;
    }
    const action = actions[e.key];
    if (!action) return false;
    action();
    return true;
  }

  /** Steps worth rendering ahead of time: the next two slides and the one before. */
  function ahead(n) {
    if (!active()) return [];
    const a = nextSlide(n), b = a === null ? null : nextSlide(a);
    return [a, prevSlide(n), b].filter((s) => s !== null);
  }

  if (speaker) requestAnimationFrame(() => toggle(true, { full: false }));

  return { active, toggle, key, showStep, ahead, drawStrip, slides, load, bookmarks: () => me.bookmarks,
           loaded: () => me.data !== null };
};
