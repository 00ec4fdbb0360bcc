// The behaviours page: which behaviour runs at a step, each cown's state and queue, a lane
// per cown and per thread, and the happens-before DAG (mermaid text drawn by the server).
"use strict";

(() => {
  const P = Pyrona;
  const { el, svgEl, api } = P;
  const $ = (id) => document.getElementById(id);
  const page = P.pageData();
  const trace = page.trace;
  const base = `/api/traces/${trace}`;
  const renderer = new P.Renderer($("render-scratch"), 40);
  const state = { step: page.step || 0, total: page.total || 0, token: 0, lanes: null };
  const LANE = 30, BAR = 20, LABEL = 190, AXIS = 24;

  const clamp = (n) => Math.max(0, Math.min(Math.max(0, state.total - 1), n));
  const colour = (bid) => `hsl(${(bid * 137) % 360}deg 65% 72%)`;
  const who = (b) => `#${b.bid} ${b.name}`;

  async function go(n) {
    n = clamp(n);
    const token = ++state.token;
    state.step = n;
    $("bh-step").value = n;
    $("bh-viewer").href = `/traces/${trace}?step=${n}`;
    const nav = $("nav-viewer");
    if (nav) nav.href = `/traces/${trace}?step=${n}`;
    history.replaceState(null, "", `${location.pathname}?step=${n}`);
    document.title = `${page.name} · behaviours at step ${n} · Pyrona Studio`;
    marker();
    let data;
    try {
      data = await api(`${base}/steps/${n}/behaviours`);
    } catch (err) {
      if (token !== state.token) return;
      $("bh-now").replaceChildren(el("div", { class: "notice error" }, err.message));
      return;
    }
    if (token !== state.token) return;
    const now = $("bh-now");
    now.dataset.step = n;
    now.dataset.running = data.running ? data.running.bid : "";
    now.replaceChildren(`Step ${n}: `, data.running
      ? el("span", { class: "who" }, `behaviour ${who(data.running)}`)
      : el("span", { class: "who" }, "the program's own code"),
    data.last_line ? " runs its last line (then releases its cowns)" : " runs",
    `, on thread ${data.thread}.`,
    data.started.length ? ` After this line ${data.started.map(who).join(", ")} acquired ${data.started.length === 1 ? "its" : "their"} cowns.` : "");
    $("bh-cowns").tBodies[0].replaceChildren(...(data.cowns.length ? data.cowns.map((c) => el("tr",
      { dataset: { cown: c.node || "", cid: c.cid === null ? "" : c.cid, state: c.state } },
      el("td", {}, el("b", {}, c.name), c.result_of ? el("span", { class: "muted small" }, ` result of #${c.result_of}`) : ""),
      el("td", {}, el("span", { class: `bh-state ${c.state}` }, c.state)),
      el("td", { class: "holder" }, c.holder ? who(c.holder) : "—"),
      el("td", { class: "queue small" }, c.queue.length
        ? c.queue.flatMap((b, i) => [i ? ", " : "", el("span", { class: "bh-queue-item" }, who(b))]) : "—")))
      : [el("tr", {}, el("td", { colspan: 4, class: "empty" }, `No cown at step ${n}.`))]));
    const box = $("bh-dag");
    if (!data.mermaid) {
      box.replaceChildren(el("div", { class: "empty" }, "No behaviour in this trace."));
      return;
    }
    try {
      const svg = await renderer.render(data.mermaid, { priority: true });
      if (token !== state.token) return;
      box.innerHTML = svg;  // (mermaid's own size: scaled down to the card's width)
      if (data.dag_shown < data.behaviours) {
        box.prepend(el("p", { class: "muted small" }, `${data.dag_shown} of ${data.behaviours} behaviours drawn, around the one running at this step.`));
      }
      box.dataset.step = n;
    } catch (err) {
      if (token === state.token) box.replaceChildren(el("div", { class: "notice error" }, "The diagram could not be drawn: " + err.message));
    }
  }

  /** The lanes: one per cown (the spans a behaviour held it), one per thread (the spans
   * it ran a behaviour's lines). */
  function drawLanes(data) {
    const wrap = $("bh-lanes");
    const lanes = [
      ...data.cowns.map((c) => ({ key: `cown-${c.cid}`, kind: "cown", title: c.name, sub: c.result_of ? `result of #${c.result_of}` : "cown", spans: c.spans, cid: c.cid })),
      ...data.threads.map((t) => ({ key: `thread-${t.name}`, kind: "thread", title: t.name, sub: "thread", spans: t.spans })),
    ];
    if (!lanes.length) {
      wrap.replaceChildren(el("div", { class: "empty" }, "No behaviour in this trace: nothing to draw."));
      return;
    }
    const names = new Map(data.behaviours.map((b) => [b.bid, b]));
    // the steps from a little before the first behaviour started (before: the program's own code)
    const starts = data.behaviours.filter((b) => b.started !== null).map((b) => b.started);
    const first = starts.length ? Math.min(...starts) : 0;
    const lo = Math.max(0, first - Math.max(2, Math.round((data.steps - first) * 0.03)));
    const width = Math.max(600, wrap.clientWidth - 20);
    const scale = (width - LABEL - 10) / Math.max(1, data.steps - lo);
    const x = (s) => LABEL + (Math.max(s, lo) - lo) * scale;
    const height = AXIS + lanes.length * LANE + 4;
    const svg = svgEl("svg", { width, height, class: "bh-lanes", role: "img", "aria-label": "Lanes per cown and per thread",
      "data-first": lo });
    const span10 = Math.max(1, (data.steps - lo) / 10);
    const ticks = span10 < 10 ? Math.ceil(span10) : Math.ceil(span10 / 10) * 10;
    const axis = svgEl("g", { class: "axis" });
    for (let s = Math.ceil(lo / ticks) * ticks; s <= data.steps; s += ticks) axis.append(svgEl("text", { x: x(s), y: 14, "text-anchor": "middle" }, s));
    svg.append(axis);
    lanes.forEach((lane, i) => {
      const y = AXIS + i * LANE;
      const g = svgEl("g", { class: "lane", "data-lane": lane.key, "data-kind": lane.kind });
      g.append(svgEl("text", { x: 6, y: y + 14, class: "lane-label" }, lane.title),
        svgEl("text", { x: 6, y: y + 26, class: "lane-sub" }, lane.sub),
        svgEl("line", { x1: LABEL, x2: width - 10, y1: y + LANE / 2, y2: y + LANE / 2, stroke: "#ddd" }));
      for (const span of lane.spans) {
        const b = span.behaviour === null ? null : names.get(span.behaviour);
        const text = b ? who(b) : "the program";
        const rect = svgEl("rect", {
          x: x(span.start), y: y + (LANE - BAR) / 2, width: Math.max(2, x(span.end) - x(span.start)), height: BAR, rx: 3,
          fill: b ? colour(b.bid) : "#eee", stroke: b ? "#8a5a00" : "#bbb", class: "span",
          "data-start": span.start, "data-end": span.end, "data-behaviour": b ? b.bid : "",
          onclick: () => go(lane.kind === "cown" ? span.start : span.start),
        }, svgEl("title", {}, `${text}: steps ${span.start}–${span.end - 1}${lane.kind === "cown" ? " (held)" : ""}`));
        g.append(rect);
        if (b && x(span.end) - x(span.start) > 34) {
          g.append(svgEl("text", { x: x(span.start) + 3, y: y + LANE / 2 + 4, "font-size": 11, "pointer-events": "none" }, `#${b.bid}`));
        }
      }
      svg.append(g);
    });
    svg.append(svgEl("line", { id: "bh-marker", class: "now", x1: x(state.step), x2: x(state.step), y1: AXIS - 4, y2: height }));
    state.lanes = { x };
    const notes = [];
    if (lo > 0) notes.push(`Steps 0–${lo - 1} (the program's own code, scheduling) are left of the lanes.`);
    if (data.hidden_cowns) notes.push(`${P.plural(data.hidden_cowns, "result cown")} that nothing drew and no other behaviour used ${data.hidden_cowns === 1 ? "has" : "have"} no lane.`);
    wrap.replaceChildren(svg, notes.length ? el("p", { class: "muted small", style: "margin:.3rem .5rem" }, notes.join(" ")) : "");
  }

  function marker() {
    const line = $("bh-marker");
    if (!line || !state.lanes) return;
    const at = state.lanes.x(state.step + 0.5);
    line.setAttribute("x1", at);
    line.setAttribute("x2", at);
  }

  async function start() {
    let data;
    try {
      data = await api(`${base}/behaviours`);
    } catch (err) {
      $("bh-lanes").replaceChildren(el("div", { class: "notice error" }, err.message));
      return null;
    }
    drawLanes(data);
    marker();
    return data;
  }

  $("bh-step").addEventListener("change", () => go(Number($("bh-step").value)));
  $("bh-prev").addEventListener("click", () => go(state.step - 1));
  $("bh-next").addEventListener("click", () => go(state.step + 1));
  document.addEventListener("keydown", (e) => {
    if (e.target.matches && e.target.matches("input, textarea, select")) return;
    if (e.key === "ArrowLeft") { e.preventDefault(); go(state.step - 1); }
    if (e.key === "ArrowRight") { e.preventDefault(); go(state.step + 1); }
  });

  start().then((data) => {
    // no step asked for: the first step a behaviour runs
    if (page.step === null && data && data.behaviours.length) {
      const first = data.behaviours.filter((b) => b.started !== null).map((b) => b.started + 1);
      go(first.length ? Math.min(...first) : 0);
    } else {
      go(state.step);
    }
  });
})();
