// The SCC view: the frozen subgraph's strongly connected components at a step, as a table
// and as the condensation diagram drawn by the server.
"use strict";

(() => {
  const P = Pyrona;
  const { el, api } = P;
  const $ = (id) => document.getElementById(id);
  const page = P.pageData();
  const trace = page.trace;
  const base = `/api/traces/${trace}`;
  const renderer = new P.Renderer($("render-scratch"), 40);
  const state = { step: page.step || 0, total: page.total || 0, token: 0 };

  const clamp = (n) => Math.max(0, Math.min(Math.max(0, state.total - 1), n));

  async function go(n) {
    n = clamp(n);
    const token = ++state.token;
    state.step = n;
    $("scc-step").value = n;
    $("scc-viewer").href = `/traces/${trace}?step=${n}`;
    $("nav-viewer").href = `/traces/${trace}?step=${n}`;
    history.replaceState(null, "", `${location.pathname}?step=${n}`);
    document.title = `${page.name} · SCCs at step ${n} · Pyrona Studio`;
    let data, view;
    try {
      [data, view] = await Promise.all([api(`${base}/steps/${n}/sccs`), api(`${base}/steps/${n}`).catch(() => null)]);
    } catch (err) {
      if (token !== state.token) return;
      $("scc-table").tBodies[0].replaceChildren(el("tr", {}, el("td", { colspan: 5 }, el("div", { class: "notice error" }, err.message))));
      $("scc-diagram").replaceChildren();
      return;
    }
    if (token !== state.token) return;
    const nodes = new Map((view ? view.nodes : []).map((x) => [x.id, x]));
    const label = (id) => {
      const node = nodes.get(id);
      return node ? `#${id} ${node.label && node.label !== node.type_name ? node.label : node.type_name}` : `#${id}`;
    };
    const sccs = data.sccs || [];
    const objects = sccs.reduce((sum, s) => sum + s.size, 0);
    const cyclic = sccs.filter((s) => s.cyclic).length;
    $("scc-summary").textContent = sccs.length
      ? `${P.plural(objects, "frozen object")} in ${P.plural(sccs.length, "SCC")}; ${cyclic} cyclic.`
      : "";
    $("scc-table").tBodies[0].replaceChildren(...(sccs.length ? sccs.map((s) => el("tr", { class: s.cyclic ? "cyclic" : "" },
      el("td", {}, el("b", {}, `SCC ${s.id}`)),
      el("td", { class: "num" }, s.size),
      el("td", { class: "small" }, s.nodes.slice(0, 8).map(label).join(", ") + (s.nodes.length > 8 ? `, … (${s.nodes.length - 8} more)` : "")),
      el("td", { class: "num" }, s.external_refs),
      el("td", {}, s.cyclic ? el("span", { class: "badge truncated" }, "cyclic") : "no")))
      : [el("tr", {}, el("td", { colspan: 5, class: "empty" }, `No frozen objects at step ${n}.`))]));
    const edges = data.edges || [];
    $("scc-edges").replaceChildren(edges.length
      ? el("ul", {}, edges.map((e) => el("li", {}, `SCC ${e.src} → SCC ${e.dst}`, el("span", { class: "muted" }, ` (${e.refs} reference${e.refs === 1 ? "" : "s"})`))))
      : el("span", { class: "muted" }, "None."));
    const box = $("scc-diagram");
    if (!sccs.length || !data.mermaid) {
      box.replaceChildren(el("div", { class: "empty" }, "Nothing frozen at this step: nothing to draw."));
      return;
    }
    box.replaceChildren(el("span", { class: "spinner" }), " Drawing…");
    try {
      const svg = await renderer.render(data.mermaid, { priority: true });
      if (token !== state.token) return;
      box.innerHTML = svg;
      const node = box.querySelector("svg");
      if (node) P.sizeSvg(node);
      box.dataset.step = n;
    } catch (err) {
      if (token === state.token) box.replaceChildren(el("div", { class: "notice error" }, "The diagram could not be drawn: " + err.message));
    }
  }

  async function frozenSteps() {
    try {
      const { events } = await api(`${base}/events?kinds=frozen`);
      const steps = [...new Set(events.map((e) => e.step))].sort((a, b) => a - b);
      const box = $("frozen-steps");
      if (!steps.length) { box.textContent = "Nothing is frozen in this trace."; return; }
      box.replaceChildren("Objects were frozen at steps: ",
        ...steps.slice(0, 40).map((s) => el("a", { href: `?step=${s}`, class: "badge", style: "margin-right:.3rem;text-decoration:none",
          onclick: (e) => { e.preventDefault(); go(s); } }, String(s))),
        steps.length > 40 ? ` … (${steps.length - 40} more)` : "");
    } catch (_) { /* optional */ }
  }

  // Each SCC's outside count over the trace: a small step chart per SCC, its collection marked.
  function sparkline(counts, collectedAt) {
    const width = 220, height = 34, total = Math.max(1, state.total - 1);
    const top = Math.max(1, ...counts.map((c) => c[1]));
    const x = (step) => (step / total) * (width - 4) + 2;
    const y = (count) => height - 3 - (count / top) * (height - 8);
    let d = "";
    counts.forEach(([step, count], i) => {
      d += i ? `H${x(step).toFixed(1)}V${y(count).toFixed(1)}` : `M${x(step).toFixed(1)},${y(count).toFixed(1)}`;
    });
    const svg = P.svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "scc-spark", role: "img",
      "aria-label": `outside references from ${counts[0][1]} to ${counts[counts.length - 1][1]}` });
    svg.append(P.svgEl("path", { d, fill: "none", stroke: "#3a87c8", "stroke-width": 1.6 }));
    if (collectedAt !== null) svg.append(P.svgEl("circle", { cx: x(collectedAt), cy: y(0), r: 3.5, fill: "#4fc3f7", stroke: "#01579b" }));
    return svg;
  }

  async function countsOverTime() {
    const body = $("scc-history").tBodies[0];
    try {
      const data = await api(`${base}/sccs/history`);
      const rows = (data.sccs || []).filter((s) => s.counts.length);
      body.replaceChildren(...(rows.length ? rows.map((s) => el("tr", { class: s.collected_at !== null ? "collected" : "" },
        el("td", { class: "small" }, s.names.join(", ") + (s.size > 3 ? ` +${s.size - 3}` : "")),
        el("td", {}, sparkline(s.counts, s.collected_at), el("span", { class: "muted small" },
          ` ${s.counts[0][1]} → ${s.counts[s.counts.length - 1][1]}`)),
        el("td", {}, s.collected_at === null ? el("span", { class: "muted" }, "no")
          : el("a", { href: `?step=${s.collected_at}`, onclick: (e) => { e.preventDefault(); go(s.collected_at); } },
            `at step ${s.collected_at}`))))
        : [el("tr", {}, el("td", { colspan: 3, class: "empty" }, "Nothing is frozen in this trace."))]));
    } catch (err) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 3 }, el("div", { class: "notice error" }, err.message))));
    }
  }

  $("scc-step").addEventListener("change", () => go(Number($("scc-step").value)));
  $("scc-prev").addEventListener("click", () => go(state.step - 1));
  $("scc-next").addEventListener("click", () => go(state.step + 1));
  document.addEventListener("keydown", (e) => {
    if (e.target.matches && e.target.matches("input, textarea, select")) return;
    if (e.key === "ArrowLeft") { e.preventDefault(); go(state.step - 1); }
    if (e.key === "ArrowRight") { e.preventDefault(); go(state.step + 1); }
  });

  go(state.step);
  frozenSteps();
  countsOverTime();
})();
