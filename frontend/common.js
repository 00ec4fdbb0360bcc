// Helpers shared by every page: the JSON API, small DOM builders, and a mermaid renderer
// that renders one diagram at a time (foreground first), off screen, with an SVG cache.
"use strict";

const Pyrona = (() => {
  /** The page's small data dict, written by the template. */
  function pageData() {
    const el = document.getElementById("page-data");
    return el ? JSON.parse(el.textContent) : {};
  }

  class ApiError extends Error {
    constructor(status, kind, message) {
      super(message);
      this.status = status;
      this.kind = kind;
    }
  }

  async function request(path, options = {}) {
    let response;
    try {
      // an exported page answers from the data written into it (offline.js)
      response = await (window.PyronaOffline ? window.PyronaOffline.fetch(path, options) : fetch(path, options));
    } catch (err) {
      throw new ApiError(0, "network", "The server did not answer: " + err.message);
    }
    if (!response.ok) {
      let kind = "http", message = `${response.status} ${response.statusText}`;
      try {
        const body = await response.json();
        if (body && body.error) ({ kind, message } = body.error);
        else if (body && body.detail) message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      } catch (_) { /* not JSON */ }
      throw new ApiError(response.status, kind, message);
    }
    return response;
  }

  async function api(path, options) {
    const response = await request(path, options);
    return response.status === 204 ? null : response.json();
  }

  async function text(path, options) {
    return (await request(path, options)).text();
  }

  /** el("div", {class: "x", onclick: f}, child, "text", ...) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function svgEl(tag, attrs, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const number = new Intl.NumberFormat("en");
  function fmt(n) { return n === null || n === undefined ? "–" : number.format(n); }

  function date(value) {
    if (value === null || value === undefined || value === "") return "";
    const d = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
    if (isNaN(d)) return String(value);
    const now = new Date();
    const sameDay = d.toDateString() === now.toDateString();
    return sameDay ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : d.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" }) + " " +
        d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // --- mermaid ---

  let mermaidReady = false;

  /** Resolves once mermaid's script has run. A page may list it after its own scripts, so that
   * their first fetches travel while its 3.5 MB start up; every classic script of a page has run
   * by DOMContentLoaded. */
  function mermaidLoaded() {
    if (window.mermaid) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => (window.mermaid ? resolve() : reject(new Error("mermaid is not loaded (make setup)")));
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", check, { once: true });
      else check();
    });
  }

  function initMermaid() {
    if (mermaidReady || !window.mermaid) return;
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: "neutral",
      maxTextSize: 10000000,
      maxEdges: 200000,
      suppressErrorRendering: true,
      flowchart: { useMaxWidth: false, htmlLabels: true },
    });
    mermaidReady = true;
  }

  /** How many nodes a diagram draws: lines that define a node (`n12[...]`, `rg3(...)`, a group `gp4[...]`). */
  function countNodes(text) {
    const found = text.match(/^\s*(?:n|rg|gp)\d+\s*[\[\(\{>]/gm);
    return found ? found.length : 0;
  }

  /** Give a mermaid SVG its natural size (from its viewBox): mermaid writes width=100%. */
  function sizeSvg(svg) {
    const box = svg.viewBox && svg.viewBox.baseVal;
    let w = box && box.width, h = box && box.height;
    if (!w || !h) { w = 300; h = 150; }
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    svg.style.maxWidth = "none";
    return { width: w, height: h };
  }

  /** After the next frame is painted (or 100 ms, in a hidden tab that paints no frames). */
  const nextFrame = () => new Promise((resolve) => {
    const done = () => setTimeout(resolve, 0);
    const timer = setTimeout(resolve, 100);
    requestAnimationFrame(() => { clearTimeout(timer); done(); });
  });

  /**
   * Renders mermaid text to SVG strings one at a time, in an off-screen container.
   * `render(text, {priority: true})` jumps the queue; waiting jobs can be dropped with
   * `dropWaiting()`. Results are cached by the text itself, so two steps that draw the
   * same diagram share one SVG.
   */
  class Renderer {
    constructor(scratch, limit = 160) {
      this.scratch = scratch;
      this.limit = limit;
      this.cache = new Map(); // text -> {promise, svg, done}
      this.queue = []; // jobs: {text, resolve, reject, priority}
      this.busy = false;
      this.seq = 0;
      this.onIdle = null;
    }

    has(text) { const c = this.cache.get(text); return !!(c && c.done); }

    render(text, { priority = false, keep = false } = {}) {
      const cached = this.cache.get(text);
      if (cached) {
        this.cache.delete(text); // refresh its place (LRU)
        this.cache.set(text, cached);
        if (priority && cached.job) { // move a waiting background job to the front
          const i = this.queue.indexOf(cached.job);
          if (i > 0) { this.queue.splice(i, 1); this.queue.unshift(cached.job); }
          cached.job.priority = true;
        }
        return cached.promise;
      }
      const entry = { done: false, svg: null, job: null };
      entry.promise = new Promise((resolve, reject) => {
        entry.job = { text, resolve, reject, priority, keep };
      });
      entry.promise.catch(() => {});
      this.cache.set(text, entry);
      if (priority) this.queue.unshift(entry.job); else this.queue.push(entry.job);
      this.trim();
      this.pump();
      return entry.promise;
    }

    /** Forget every waiting job but those asked with `keep` (their promises reject with
     * "cancelled"): what the user looked at a moment ago is no longer urgent. */
    dropWaiting() {
      const keep = [];
      for (const job of this.queue) {
        if (job.keep) { keep.push(job); continue; }
        this.cache.delete(job.text);
        job.reject(new Error("cancelled"));
      }
      this.queue = keep;
    }

    pending() { return this.queue.length + (this.busy ? 1 : 0); }

    trim() {
      while (this.cache.size > this.limit) {
        const [oldest, entry] = this.cache.entries().next().value;
        if (!entry.done) break;
        this.cache.delete(oldest);
      }
    }

    async pump() {
      if (this.busy) return;
      this.busy = true;
      try {
        await mermaidLoaded();
      } catch (err) {
        for (const job of this.queue.splice(0)) { this.cache.delete(job.text); job.reject(err); }
        this.busy = false;
        return;
      }
      initMermaid();
      while (this.queue.length) {
        // a job rendered ahead starts after the next frame: a picture just mounted is painted
        // first (a render holds the page until it is done)
        if (!this.queue[0].priority) await nextFrame();
        if (!this.queue.length) break;
        const job = this.queue.shift();
        const entry = this.cache.get(job.text);
        try {
          const id = "mmd" + (++this.seq);
          const { svg } = await window.mermaid.render(id, job.text, this.scratch);
          if (entry) { entry.svg = svg; entry.done = true; entry.job = null; }
          job.resolve(svg);
        } catch (err) {
          if (entry) this.cache.delete(job.text);
          job.reject(err instanceof Error ? err : new Error(String(err && err.message || err)));
        } finally {
          if (this.scratch) this.scratch.replaceChildren();
        }
        // let input events and painting in between two renders
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      this.busy = false;
      if (this.onIdle) this.onIdle();
    }
  }

  // --- the model's words ---

  const EVENT_TEXT = {
    "created": "region created",
    "moved": "moved into region",
    "became-child": "became a child region",
    "unparented": "lost its parent",
    "frozen": "frozen",
    "closed": "region closed",
    "opened": "region opened",
    "merged": "merged",
    "dissolved": "dissolved",
    "collected": "collected",
    "cown-created": "cown created",
    "cown-released": "cown released",
    "cown-acquired": "cown acquired",
    "behaviour-scheduled": "behaviour scheduled",
    "behaviour-started": "behaviour started",
    "behaviour-finished": "behaviour finished",
    "violation": "violation",
    "pre-freeze": "__pre_freeze__ called",
    "freeze-rolled-back": "freeze rolled back",
    "scc-collected": "frozen SCC collected",
    "sent": "sent to an interpreter",
    "received": "received from an interpreter",
  };

  function placeName(place) {
    if (place === "local") return "local";
    if (place === "frozen") return "immutable";
    if (place === "cown") return "cown";
    if (/^r\d+$/.test(place || "")) return "region #" + place.slice(1);
    return place || "";
  }

  function placeClass(place) {
    return /^r\d+$/.test(place || "") ? "region" : place;
  }

  /** One line about an event; `label(nodeId)` names a node when it is known. */
  function describeEvent(ev, label) {
    const parts = [];
    if (ev.rid !== null && ev.rid !== undefined) parts.push("region #" + ev.rid);
    const nodes = ev.nodes || [];
    if (ev.kind === "moved" || ev.kind === "frozen" || ev.kind === "collected" || ev.kind === "pre-freeze") {
      if (nodes.length) parts.push(nodes.length === 1 ? (label ? label(nodes[0]) : "#" + nodes[0]) : nodes.length + " objects");
    }
    if (ev.kind === "freeze-rolled-back" && nodes.length) parts.push(plural(nodes.length, "object") + " visited, none frozen");
    if (ev.message) parts.push(ev.message);
    return parts.join(" · ");
  }

  /** `1 violation`, `2 violations` (`many`: an irregular plural). */
  function plural(count, word, many) {
    return `${fmt(count)} ${count === 1 ? word : many || word + "s"}`;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  return {
    pageData, api, text, request, ApiError, el, svgEl, fmt, date, initMermaid, countNodes, sizeSvg,
    Renderer, EVENT_TEXT, describeEvent, placeName, placeClass, debounce, plural,
  };
})();
