// The region timeline: one lane per region across the steps, drawn as SVG from
// /api/traces/{id}/timeline. Spans show open/closed and the parent; marks show events.
// A trace with behaviours also gets a lane per cown (the behaviour holding it), and one
// with behaviours or threads a lane per thread (the steps it ran, the behaviour whose
// lines they are), from /api/traces/{id}/behaviours.
"use strict";

(() => {
  const P = Pyrona;
  const { el, svgEl, api } = P;
  const $ = (id) => document.getElementById(id);
  const page = P.pageData();
  const trace = page.trace;

  const GUTTER = 200, LANE = 48, TOP = 34, PAD_RIGHT = 28, BAR = 22;
  const MARKS = {
    "created": { shape: "circle", fill: "#43a047", label: "created" },
    "moved": { shape: "dot", fill: "#e08a00", label: "object moved in" },
    "became-child": { shape: "tri", fill: "#e08a00", label: "became a child" },
    "unparented": { shape: "tri-down", fill: "#e08a00", label: "lost its parent" },
    "frozen": { shape: "diamond", fill: "#2bb7c4", label: "frozen" },
    "closed": { shape: "square", fill: "#78909c", label: "closed" },
    "opened": { shape: "ring", fill: "#5d4037", label: "opened" },
    "merged": { shape: "diamond", fill: "#8e44ad", label: "merged" },
    "dissolved": { shape: "cross", fill: "#5d4037", label: "dissolved" },
    "collected": { shape: "cross", fill: "#90a4ae", label: "collected" },
    "cown-created": { shape: "square", fill: "#7e57c2", label: "cown created" },
    "cown-acquired": { shape: "square", fill: "#512da8", label: "cown acquired" },
    "cown-released": { shape: "square", fill: "#b39ddb", label: "cown released" },
    "behaviour-scheduled": { shape: "ring", fill: "#7e57c2", label: "behaviour scheduled" },
    "behaviour-started": { shape: "tri", fill: "#512da8", label: "behaviour started" },
    "behaviour-finished": { shape: "tri-down", fill: "#b39ddb", label: "behaviour finished" },
    "violation": { shape: "tri", fill: "#d32f2f", label: "violation", big: true },
    "pre-freeze": { shape: "dot", fill: "#2bb7c4", label: "pre-freeze hook" },
    "freeze-rolled-back": { shape: "cross", fill: "#d32f2f", label: "freeze rolled back" },
    "scc-collected": { shape: "cross", fill: "#4fc3f7", label: "frozen SCC collected" },
    "sent": { shape: "tri", fill: "#00897b", label: "sent to an interpreter" },
    "received": { shape: "tri-down", fill: "#00897b", label: "received from an interpreter" },
  };
  const state = { data: null, zoom: 1, lines: null, behaviours: null };

  function mark(kind, x, y, extra) {
    const m = MARKS[kind] || { shape: "dot", fill: "#546e7a" };
    const s = m.big ? 8 : 6;
    const common = { fill: m.fill, stroke: "#ffffff", "stroke-width": 1.2, ...extra };
    switch (m.shape) {
      case "circle": return svgEl("circle", { cx: x, cy: y, r: s, ...common });
      case "dot": return svgEl("circle", { cx: x, cy: y, r: 4, ...common });
      case "ring": return svgEl("circle", { cx: x, cy: y, r: s - 1, ...common, fill: "#ffffff", stroke: m.fill, "stroke-width": 2.5 });
      case "square": return svgEl("rect", { x: x - s + 1, y: y - s + 1, width: 2 * s - 2, height: 2 * s - 2, ...common });
      case "diamond": return svgEl("path", { d: `M${x},${y - s - 1}L${x + s + 1},${y}L${x},${y + s + 1}L${x - s - 1},${y}Z`, ...common });
      case "tri": return svgEl("path", { d: `M${x},${y - s - 1}L${x + s + 1},${y + s}L${x - s - 1},${y + s}Z`, ...common });
      case "tri-down": return svgEl("path", { d: `M${x},${y + s + 1}L${x + s + 1},${y - s}L${x - s - 1},${y - s}Z`, ...common });
      case "cross": return svgEl("path", { d: `M${x - s},${y - s}L${x + s},${y + s}M${x + s},${y - s}L${x - s},${y + s}`, ...common, stroke: m.fill, "stroke-width": 3 });
      default: return svgEl("circle", { cx: x, cy: y, r: 4, ...common });
    }
  }

  /** The key: the span styles, and the marks of the kinds this trace has. */
  function legend(d) {
    const kinds = new Set(d.events.map((e) => e.kind));
    const spans = d.regions.flatMap((r) => r.spans);
    const items = [el("span", {}, legendSwatch("#f2ec59", "#b5ad1c", false), " open")];
    if (spans.some((s) => !s.open)) items.push(el("span", {}, legendSwatch("#fcfbdd", "#c9c48a", true), " closed"));
    if (spans.some((s) => s.parent !== null && s.parent !== undefined)) {
      items.push(el("span", {}, svgBox(svgEl("line", { x1: 2, y1: 11, x2: 26, y2: 11, stroke: "#e08a00",
                                                        "stroke-width": 2, "stroke-dasharray": "4 3" })), " parent link"));
    }
    for (const [kind, m] of Object.entries(MARKS)) {
      if (kinds.has(kind)) items.push(el("span", {}, svgBox(mark(kind, 14, 11)), " " + m.label));
    }
    for (const kind of kinds) {
      if (!MARKS[kind]) items.push(el("span", {}, svgBox(mark(kind, 14, 11)), " " + kind));
    }
    $("tl-legend").replaceChildren(...items);
  }

  function svgBox(child) {
    return svgEl("svg", { width: 28, height: 22, viewBox: "0 0 28 22" }, child);
  }

  function legendSwatch(fill, stroke, dashed) {
    return svgBox(svgEl("rect", { x: 2, y: 5, width: 24, height: 12, rx: 3, fill, stroke, "stroke-width": 1.5,
                                  "stroke-dasharray": dashed ? "4 2" : null }));
  }

  async function load() {
    try {
      const [data, moved, behaviours] = await Promise.all([api(`/api/traces/${trace}/timeline`),
        api(`/api/traces/${trace}/events?kinds=moved`).catch(() => ({ events: [] })),
        api(`/api/traces/${trace}/behaviours`).catch(() => null)]);
      state.data = data;
      // (threads alone, without behaviours: a program that starts plain threads)
      state.behaviours = behaviours && (behaviours.behaviours.length || behaviours.threads.length) ? behaviours : null;
      if (!data.events.some((e) => e.kind === "moved")) data.events.push(...movesByStep(moved.events));
    } catch (err) {
      $("tl-wrap").replaceChildren(el("div", { class: "notice error" }, "The timeline could not be loaded: " + err.message));
      return;
    }
    const d = state.data;
    const violations = d.events.filter((e) => e.kind === "violation").length;
    $("tl-summary").textContent = [P.plural(d.steps, "step"), P.plural(d.regions.length, "region"),
      P.plural(d.events.length, "event"), ...(violations ? [P.plural(violations, "violation")] : [])].join(" · ");
    legend(d);
    draw();
    if (d.steps <= 50000) { // the source line of each step, for the hover text
      api(`/api/traces/${trace}/steps?first=0&count=${d.steps}`).then((r) => {
        state.lines = new Map(r.steps.map((s) => [s.index, s.line]));
      }).catch(() => {});
    }
  }

  function draw() {
    const d = state.data;
    const wrap = $("tl-wrap");
    const total = Math.max(1, d.steps);
    const fitWidth = Math.max(400, wrap.clientWidth - GUTTER - PAD_RIGHT - 2);
    const plot = fitWidth * state.zoom;
    const x = (step) => GUTTER + (step / total) * plot;
    const stepW = Math.max(1.5, plot / total);

    const lanes = []; // {key, title, sub, rid}
    const unplaced = d.events.filter((e) => e.rid === null || e.rid === undefined || !d.regions.some((r) => r.rid === e.rid));
    if (unplaced.length) lanes.push({ key: "program", title: "Program", sub: "cowns, violations", rid: null });
    for (const r of d.regions) lanes.push({ key: `r${r.rid}`, title: `Region #${r.rid}`, sub: r.name || "", rid: r.rid });
    const bh = state.behaviours;
    if (bh) {
      for (const c of bh.cowns) {
        lanes.push({ key: `cown-${c.cid}`, title: c.name, sub: c.result_of ? `cown: result of #${c.result_of}` : "cown", spans: c.spans });
      }
      for (const t of bh.threads) lanes.push({ key: `thread-${t.name}`, title: t.name, sub: "thread", spans: t.spans });
    }
    const laneY = new Map(lanes.map((l, i) => [l.key, TOP + i * LANE]));
    const height = TOP + lanes.length * LANE + 12;
    const width = GUTTER + plot + PAD_RIGHT;

    const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
                                "aria-label": "Region timeline" });
    // lanes
    lanes.forEach((l, i) => {
      const y = TOP + i * LANE;
      svg.append(svgEl("rect", { x: 0, y, width, height: LANE, fill: i % 2 ? "#fafbfc" : "#ffffff" }));
      svg.append(svgEl("text", { x: 12, y: y + 21, class: "lane-label" }, l.title));
      if (l.sub) svg.append(svgEl("text", { x: 12, y: y + 38, class: "lane-sub" }, l.sub.length > 24 ? l.sub.slice(0, 23) + "…" : l.sub));
    });
    svg.append(svgEl("line", { x1: GUTTER - 8, y1: TOP, x2: GUTTER - 8, y2: height, stroke: "#d6dbe3" }));
    // axis
    const axis = svgEl("g", { class: "axis" });
    const every = niceStep(total, plot / 90);
    for (let s = 0; s <= total; s += every) {
      axis.append(svgEl("line", { x1: x(s), y1: TOP - 6, x2: x(s), y2: height, stroke: "#eef1f4" }));
      axis.append(svgEl("text", { x: x(s), y: TOP - 10, "text-anchor": "middle" }, String(s)));
    }
    svg.append(axis);
    // spans
    const spans = svgEl("g", { class: "spans" });
    for (const r of d.regions) {
      const y = laneY.get(`r${r.rid}`) + (LANE - BAR) / 2;
      let previousParent;
      merged(r.spans, total).forEach((block, i) => {
        const { start, end, open: isOpen, parent, parts } = block;
        const rect = svgEl("rect", {
          x: x(start), y, width: Math.max(2, x(end) - x(start)), height: BAR, rx: 4,
          fill: isOpen ? "#f2ec59" : "#fcfbdd", stroke: isOpen ? "#b5ad1c" : "#c9c48a", "stroke-width": 1.5,
          "stroke-dasharray": isOpen ? null : "5 3", class: "span", "data-step": start, "data-rid": r.rid,
        });
        const at = (e) => { // the step under the pointer, and its span
          const box = svg.getBoundingClientRect();
          const step = Math.max(start, Math.min(end - 1, Math.floor(((e.clientX - box.left) - GUTTER) / plot * total)));
          return { step, part: parts.find((p) => p.start <= step && step < p.end) || parts[0] };
        };
        rect.addEventListener("mousemove", (e) => {
          const { step, part } = at(e);
          tip(e, [
            `<b>Region #${r.rid}</b>${r.name ? " " + esc(r.name) : ""}: ${isOpen ? "open" : "closed"} (steps ${start}–${Math.max(start, end - 1)})`,
            `at step ${step}: LRC ${part.lrc} · SBRC ${part.sbrc}`,
            parent !== null ? `child of region #${parent}` : "root region"]);
        });
        rect.addEventListener("mouseleave", untip);
        rect.addEventListener("click", (e) => open(at(e).step));
        rect.style.cursor = "pointer";
        spans.append(rect);
        if (parent !== null && (i === 0 || parent !== previousParent) && laneY.has(`r${parent}`)) {
          const py = laneY.get(`r${parent}`) + LANE / 2;
          spans.append(svgEl("line", { x1: x(start), y1: y + BAR / 2, x2: x(start), y2: py, stroke: "#e08a00",
                                       "stroke-width": 2, "stroke-dasharray": "4 3" }));
        }
        if (parent !== null && x(end) - x(start) > 80) {
          spans.append(svgEl("text", { x: x(start) + 22, y: y + BAR / 2 + 4, "font-size": 11, fill: "#6b5d00",
                                       "pointer-events": "none" }, `in #${parent}`));
        }
        previousParent = parent;
      });
    }
    if (bh) spans.append(behaviourSpans(bh, lanes, laneY, x, svg, plot, total));
    svg.append(spans);
    // cursor: the step the viewer came from
    if (page.step !== null && page.step !== undefined) {
      svg.append(svgEl("line", { x1: x(page.step) + stepW / 2, y1: TOP - 4, x2: x(page.step) + stepW / 2, y2: height,
                                 stroke: "#0f7c86", "stroke-width": 2, "stroke-dasharray": "6 4" }));
    }
    // marks: one per (lane, kind, pixel column)
    const marks = svgEl("g", { class: "marks" });
    const seen = new Map();
    const order = (e) => (e.kind === "violation" ? 1 : 0);
    for (const e of [...d.events].sort((a, b) => order(a) - order(b))) {
      const key = laneY.has(`r${e.rid}`) ? `r${e.rid}` : "program";
      const bucket = `${key}|${e.kind}|${Math.round(x(e.step) / 4)}`;
      if (seen.has(bucket)) { seen.get(bucket).push(e); continue; }
      const group = [e];
      seen.set(bucket, group);
      const cx = x(e.step) + Math.min(stepW / 2, 6);
      const cy = laneY.get(key) + (e.kind === "violation" ? 11 : e.kind === "moved" ? LANE / 2 + 15 : LANE / 2);
      const m = mark(e.kind, cx, cy, { class: "mark", "data-step": e.step, "data-kind": e.kind });
      m.addEventListener("mousemove", (ev) => tip(ev, group.slice(0, 6).map(describe).concat(
        group.length > 6 ? [`… and ${group.length - 6} more`] : [])));
      m.addEventListener("mouseleave", untip);
      m.addEventListener("click", () => open(e.step));
      marks.append(m);
    }
    svg.append(marks);
    wrap.replaceChildren(svg);
    if (!lanes.length) wrap.append(el("div", { class: "empty" }, "This trace has no regions and no events."));
  }

  /** The spans of the cown and thread lanes: the behaviour holding the cown, or whose
   * lines the thread runs (grey: the program's own code). Click: the span's first step. */
  function behaviourSpans(bh, lanes, laneY, x, svg, plot, total) {
    const names = new Map(bh.behaviours.map((b) => [b.bid, b]));
    const g = svgEl("g", { class: "behaviour-spans" });
    for (const lane of lanes.filter((l) => l.spans)) {
      const y = laneY.get(lane.key) + (LANE - BAR) / 2;
      for (const s of lane.spans) {
        const b = s.behaviour === null ? null : names.get(s.behaviour);
        const rect = svgEl("rect", {
          x: x(s.start), y, width: Math.max(2, x(s.end) - x(s.start)), height: BAR, rx: 4,
          fill: b ? `hsl(${(b.bid * 137) % 360}deg 65% 72%)` : "#eeeeee", stroke: b ? "#8a5a00" : "#bbbbbb",
          class: "span", "data-lane": lane.key, "data-step": s.start, "data-end": s.end, "data-behaviour": b ? b.bid : "",
        });
        rect.addEventListener("mousemove", (e) => tip(e, [
          `<b>${esc(lane.title)}</b>: ${b ? `behaviour #${b.bid} ${esc(b.name)}` : "the program's own code"}`,
          `steps ${s.start}–${Math.max(s.start, s.end - 1)}${lane.key.startsWith("cown-") ? " (held)" : ""}`]));
        rect.addEventListener("mouseleave", untip);
        rect.addEventListener("click", () => open(s.start));
        rect.style.cursor = "pointer";
        g.append(rect);
        if (b && x(s.end) - x(s.start) > 30) {
          g.append(svgEl("text", { x: x(s.start) + 4, y: y + BAR / 2 + 4, "font-size": 11, "pointer-events": "none" }, `#${b.bid}`));
        }
      }
    }
    return g;
  }

  /** Objects moved into a region: one event per region and step, with every node moved. */
  function movesByStep(events) {
    const out = new Map();
    for (const e of events) {
      const key = `${e.rid}|${e.step}`;
      const seen = out.get(key);
      if (seen) seen.nodes = seen.nodes.concat(e.nodes || []);
      else out.set(key, { ...e, nodes: [...(e.nodes || [])], message: "" });
    }
    return [...out.values()];
  }

  /** Consecutive spans with the same state and parent, as one block (counters kept in `parts`). */
  function merged(spans, total) {
    const blocks = [];
    for (const s of spans) {
      const start = s.start, end = Math.min(total, s.end === null || s.end === undefined ? total : s.end);
      const parent = s.parent === undefined ? null : s.parent;
      const last = blocks[blocks.length - 1];
      const part = { start, end, lrc: s.lrc, sbrc: s.sbrc };
      if (last && last.end === start && last.open === !!s.open && last.parent === parent) {
        last.end = end;
        last.parts.push(part);
      } else {
        blocks.push({ start, end, open: !!s.open, parent, parts: [part] });
      }
    }
    return blocks;
  }

  function describe(e) {
    const line = state.lines && state.lines.has(e.step) ? ` (line ${state.lines.get(e.step)})` : "";
    const what = (P.EVENT_TEXT[e.kind] || e.kind);
    const detail = P.describeEvent(e);
    return `<b>step ${e.step}</b>${line}: ${esc(what)}${detail ? " · " + esc(detail) : ""}`;
  }

  function esc(text) {
    return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  }

  function tip(e, lines) {
    const box = $("tl-tip");
    box.innerHTML = lines.join("<br>");
    box.hidden = false;
    const w = box.offsetWidth, h = box.offsetHeight;
    box.style.left = `${Math.min(window.innerWidth - w - 8, e.clientX + 14)}px`;
    box.style.top = `${Math.min(window.innerHeight - h - 8, e.clientY + 14)}px`;
  }

  function untip() { $("tl-tip").hidden = true; }

  function open(step) { window.location.assign(`/traces/${trace}?step=${step}`); }

  function niceStep(total, ticks) {
    const raw = total / Math.max(1, ticks);
    const pow = Math.pow(10, Math.floor(Math.log10(Math.max(1, raw))));
    for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return Math.max(1, m * pow);
    return Math.max(1, 10 * pow);
  }

  $("tl-zoom-in").addEventListener("click", () => { state.zoom = Math.min(64, state.zoom * 2); if (state.data) draw(); });
  $("tl-zoom-out").addEventListener("click", () => { state.zoom = Math.max(1, state.zoom / 2); if (state.data) draw(); });
  $("tl-fit").addEventListener("click", () => { state.zoom = 1; if (state.data) draw(); });
  window.addEventListener("resize", P.debounce(() => { if (state.data) draw(); }, 150));

  load();
})();
