// The viewer's diagram pane: pan and zoom (wheel, drag, buttons), the automatic view
// (fit, or readable and centred on what changed), and clicks on nodes (a popover).
"use strict";

const PyronaDiagram = ({ state, nodeLabel, placeChip, expandGroup }) => {
  const P = Pyrona;
  const { el } = P;
  const $ = (id) => document.getElementById(id);
  /** The smallest scale the automatic view uses: mermaid draws labels at 16 px, so 0.75
   * keeps them at 12 px on screen in the viewer and 1 keeps them at 16 px when presenting.
   * A diagram larger than that is panned to what matters, never shrunk further. */
  const presenting = () => document.body.classList.contains("present");
  const minScale = () => (presenting() ? 1 : 0.75);
  const maxScale = () => (presenting() ? 2.25 : 1.75);
  const PAD = 28;

  function apply() {
    const { x, y, k } = state.t;
    $("stage").style.transform = `translate(${x}px, ${y}px) scale(${k})`;
  }

  /** Where the diagram goes after a render, a resize or a new mode (see `state.viewMode`). */
  function place() {
    const boxes = nodeBoxes(); // (read once: the layout of a big SVG is not free)
    if (state.viewMode === "user") apply();
    else if (state.viewMode === "whole") fitWhole();
    else autoView(boxes);
    remember(boxes);
  }

  function fitScale() {
    const port = $("viewport").getBoundingClientRect();
    if (!state.size || !port.width) return null;
    const { width, height } = state.size;
    return { port, k: Math.min((port.width - 2 * PAD) / width, (port.height - 2 * PAD) / height) };
  }

  /** The whole diagram, centred. */
  function fitWhole() {
    const fitted = fitScale();
    if (!fitted) { state.t = { x: 0, y: 0, k: 1 }; apply(); return; }
    const { port } = fitted, k = Math.max(0.02, Math.min(maxScale(), fitted.k));
    const { width, height } = state.size;
    state.t = { k, x: (port.width - width * k) / 2, y: Math.max(PAD, (port.height - height * k) / 2) };
    apply();
  }

  /** The drawn nodes' boxes in diagram units (whatever the stage's transform): id -> box. */
  function nodeBoxes() {
    const stage = $("stage").getBoundingClientRect(), k = state.t.k || 1;
    const out = new Map();
    for (const g of $("stage").querySelectorAll("g.node")) {
      const id = drawnId(g);
      if (!id) continue;
      const b = g.getBoundingClientRect();
      out.set(id, { x: (b.left - stage.left) / k, y: (b.top - stage.top) / k, w: b.width / k, h: b.height / k,
                    changed: g.classList.contains("changed") || g.classList.contains("error") });
    }
    return out;
  }

  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
                           return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

  /** The violation's reference in the shown text: [source id, target id] (drawn ids), or null. */
  function redEdge() {
    const text = state.shown && state.shown.text;
    const m = text && text.match(/^(\S+) -->\|"ERROR[^"]*"\| (\S+)$/m);
    return m ? [m[1], m[2]] : null;
  }

  /** The box around `boxes` (diagram units), or null. */
  function union(boxes) {
    const list = boxes.filter(Boolean);
    if (!list.length) return null;
    const x = Math.min(...list.map((b) => b.x)), y = Math.min(...list.map((b) => b.y));
    return { x, y, w: Math.max(...list.map((b) => b.x + b.w)) - x, h: Math.max(...list.map((b) => b.y + b.h)) - y };
  }

  /** One axis of the view: `at` moved as little as possible so that the diagram stays in
   * reach and the span [lo, lo + size] (diagram units × k, a box that matters) is on screen. */
  function clampAxis(at, total, port, box) {
    at = total <= port - 2 * PAD ? Math.min(port - PAD - total, Math.max(PAD, at))
      : Math.min(PAD, Math.max(port - PAD - total, at));
    if (box) {
      const [lo, size] = box;
      if (at + lo + size > port - PAD) at = port - PAD - lo - size;
      if (at + lo < PAD) at = PAD - lo;
    }
    return at;
  }

  /**
   * As large as the screen allows between minScale and maxScale; unchanged objects stay where
   * they were on screen (the step before's positions, so a sequence reads as an animation);
   * then panned as little as needed to show what matters: the violation's red reference and
   * its target (its source too when both fit, else a pointer to it), else what changed.
   */
  function autoView(boxes) {
    const fitted = fitScale();
    if (!fitted) { fitWhole(); return; }
    const { port } = fitted, { width, height } = state.size;
    const k = Math.max(minScale(), Math.min(maxScale(), fitted.k));
    // (anchored only at the same scale: a zoom moves everything anyway, then centre)
    const prev = state.placed && Math.abs(state.placed.k - k) < 0.01 * k ? state.placed : null;
    let x = null, y = null;
    if (prev) {
      const dx = [], dy = [];
      for (const [id, b] of boxes) {
        const p = prev.at.get(id);
        if (!p || b.changed) continue;
        dx.push(p.x - k * (b.x + b.w / 2));
        dy.push(p.y - k * (b.y + b.h / 2));
      }
      if (dx.length) { x = median(dx); y = median(dy); }
    }
    if (x === null) { x = (port.width - width * k) / 2; y = (port.height - height * k) / 2; }
    const red = redEdge();
    let focus = null, pointTo = null;
    if (red) {
      const [src, dst] = [boxes.get(red[0]), boxes.get(red[1])];
      const both = union([src, dst]);
      const fits = both && both.w * k <= port.width - 2 * PAD && both.h * k <= port.height - 2 * PAD;
      focus = fits ? both : dst || src;
      if (!fits && src && dst) pointTo = { id: red[0], box: src };
    } else {
      // what changed, from the top down, as much of it as fits on screen
      const changed = [...boxes.values()].filter((b) => b.changed).sort((a, b) => a.y - b.y || a.x - b.x);
      for (const b of changed) {
        const more = union([focus, b]);
        if (focus && (more.w * k > port.width - 2 * PAD || more.h * k > port.height - 2 * PAD)) break;
        focus = more;
      }
    }
    x = clampAxis(x, width * k, port.width, focus && [focus.x * k, focus.w * k]);
    y = clampAxis(y, height * k, port.height, focus && [focus.y * k, focus.h * k]);
    state.t = { k, x, y };
    apply();
    pointer(pointTo, port);
  }

  /** An arrow at the viewport's edge towards the violation's source when it is off screen. */
  function pointer(target, port) {
    const box = $("offscreen");
    if (!box) return;
    if (!target) { box.hidden = true; return; }
    const { x, y, k } = state.t, b = target.box;
    const cx = x + k * (b.x + b.w / 2), cy = y + k * (b.y + b.h / 2);
    if (cx >= 0 && cx <= port.width && cy >= 0 && cy <= port.height) { box.hidden = true; return; }
    const arrow = cy < 0 ? "↑" : cy > port.height ? "↓" : cx < 0 ? "←" : "→";
    box.textContent = `${arrow} the red reference starts at ${nodeLabel(Number(target.id.slice(1)))}`;
    box.hidden = false;
    const w = box.offsetWidth, h = box.offsetHeight;
    box.style.left = `${Math.max(8, Math.min(port.width - w - 8, cx - w / 2))}px`;
    box.style.top = `${Math.max(8, Math.min(port.height - h - 8, cy - h / 2))}px`;
  }

  /** Where each node is on screen now (for the next step's anchoring), and how far the
   * unchanged ones moved since the step before (`state.moves`: medians, in pixels). */
  function remember(boxes = nodeBoxes()) {
    const { x, y, k } = state.t;
    const at = new Map();
    const moved = [];
    const prev = state.placed;
    for (const [id, b] of boxes) {
      const p = { x: x + k * (b.x + b.w / 2), y: y + k * (b.y + b.h / 2) };
      at.set(id, p);
      const q = prev && prev.step !== state.step && !b.changed && prev.at.get(id);
      if (q) moved.push(Math.hypot(p.x - q.x, p.y - q.y));
    }
    if (prev && prev.step !== state.step && moved.length) {
      state.moves.push({ from: prev.step, to: state.step, nodes: moved.length, median: median(moved) });
      if (state.moves.length > 1000) state.moves.shift();
    }
    state.placed = { k, at, step: state.step };
  }

  function fit() {
    state.viewMode = "whole";
    fitWhole();
  }

  function zoomAt(cx, cy, factor) {
    const t = state.t;
    const k = Math.max(0.05, Math.min(8, t.k * factor));
    const ratio = k / t.k;
    state.t = { k, x: cx - (cx - t.x) * ratio, y: cy - (cy - t.y) * ratio };
    state.viewMode = "user";
    apply();
  }

  function zoomCentre(factor) {
    const port = $("viewport").getBoundingClientRect();
    zoomAt(port.width / 2, port.height / 2, factor);
  }

  const viewport = $("viewport");
  viewport.addEventListener("wheel", (e) => {
    e.preventDefault();
    const port = viewport.getBoundingClientRect();
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    zoomAt(e.clientX - port.left, e.clientY - port.top, Math.exp(-delta * 0.0015));
  }, { passive: false });

  let drag = null;
  viewport.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || e.target.closest(".view-controls, .banner, .popover, .render-state")) return;
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY, tx: state.t.x, ty: state.t.y, moved: false, target: e.target };
  });
  viewport.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    if (!drag.moved) { drag.moved = true; viewport.setPointerCapture(e.pointerId); viewport.classList.add("dragging"); }
    state.t = { ...state.t, x: drag.tx + dx, y: drag.ty + dy };
    state.viewMode = "user";
    apply();
  });
  const endDrag = (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const { moved, target } = drag;
    drag = null;
    viewport.classList.remove("dragging");
    if (!moved) clickDiagram(target, e);
  };
  viewport.addEventListener("pointerup", endDrag);
  viewport.addEventListener("pointercancel", () => { drag = null; viewport.classList.remove("dragging"); });

  $("zoom-in").addEventListener("click", () => zoomCentre(1.25));
  $("zoom-out").addEventListener("click", () => zoomCentre(0.8));
  $("fit").addEventListener("click", fit);
  window.addEventListener("resize", P.debounce(place, 100));

  // --- clicking a node: what it is ---

  function drawnId(g) {
    const raw = g.dataset.id || g.id || "";
    const m = raw.match(/(?:^|-)((?:n|rg|gp)\d+)(?:-\d+)?$/);
    return m ? m[1] : null;
  }

  function clickDiagram(target) {
    const g = target && target.closest && target.closest("g.node");
    if (!g) { hidePopover(); return; }
    const drawn = drawnId(g);
    if (drawn && drawn.startsWith("gp")) { expandGroup(drawn); return; } // that group: drawn one by one
    if (!drawn || !state.view) return;
    for (const other of $("stage").querySelectorAll("g.node.picked")) other.classList.remove("picked");
    g.classList.add("picked");
    showPopover(drawn, g);
  }

  function showPopover(drawn, g) {
    const v = state.view;
    const pop = $("popover");
    const rows = [];
    let title;
    if (drawn.startsWith("rg")) {
      const rid = Number(drawn.slice(2));
      const r = v.regions.find((x) => x.rid === rid);
      title = `Region #${rid}${r && r.name ? " (" + r.name + ")" : ""}`;
      if (r) {
        rows.push(["state", r.open ? "open" : "closed"], ["LRC / SBRC", `${r.lrc} / ${r.sbrc}`]);
        if (r.parent !== null && r.parent !== undefined) rows.push(["parent", `region #${r.parent}`]);
        if (r.owner !== null && r.owner !== undefined) rows.push(["owner", nodeLabel(r.owner)]);
      }
      const members = v.nodes.filter((x) => x.place === `r${rid}`).length;
      rows.push(["objects", String(members)]);
    } else {
      const id = Number(drawn.slice(1));
      const node = v.nodes.find((x) => x.id === id);
      if (!node) return;
      title = nodeLabel(id);
      rows.push(["kind", `${node.kind} (${node.type_name})`], ["lives in", placeChip(node.place)]);
      if (node.detail) rows.push(["detail", node.detail]);
      for (const f of v.fields.filter((x) => x.node === id).slice(0, 12)) rows.push([f.name, el("code", {}, f.value)]);
      for (const e of v.edges.filter((x) => x.src === id).slice(0, 12)) {
        rows.push([e.name, el("a", { class: "ref", href: "#", onclick: (ev) => { ev.preventDefault(); focusNode(e.dst); } }, nodeLabel(e.dst))]);
      }
      const incoming = v.edges.filter((x) => x.dst === id);
      if (incoming.length) rows.push(["referenced by", incoming.slice(0, 6).map((x) => `${nodeLabel(x.src)}.${x.name}`).join(", ")]);
    }
    pop.replaceChildren(
      el("button", { class: "close", type: "button", "aria-label": "Close", onclick: hidePopover }, "×"),
      el("h4", {}, title),
      el("table", {}, rows.map(([k, val]) => el("tr", {}, el("td", { class: "muted" }, k), el("td", {}, val)))));
    pop.hidden = false;
    const port = viewport.getBoundingClientRect(), box = g.getBoundingClientRect();
    const left = Math.min(port.width - 370, Math.max(8, box.right - port.left + 10));
    const top = Math.min(port.height - pop.offsetHeight - 8, Math.max(8, box.top - port.top));
    pop.style.left = `${left}px`;
    pop.style.top = `${Math.max(8, top)}px`;
  }

  function hidePopover() {
    $("popover").hidden = true;
    for (const other of $("stage").querySelectorAll("g.node.picked")) other.classList.remove("picked");
  }

  /** Highlight node `id` in the diagram and bring it into view. */
  function focusNode(id) {
    const g = [...$("stage").querySelectorAll("g.node")].find((x) => drawnId(x) === `n${id}`);
    if (!g) return;
    for (const other of $("stage").querySelectorAll("g.node.picked")) other.classList.remove("picked");
    g.classList.add("picked");
    const port = viewport.getBoundingClientRect(), box = g.getBoundingClientRect();
    const cx = box.left + box.width / 2 - port.left, cy = box.top + box.height / 2 - port.top;
    if (cx < 0 || cy < 0 || cx > port.width || cy > port.height) {
      state.t = { ...state.t, x: state.t.x + port.width / 2 - cx, y: state.t.y + port.height / 2 - cy };
      state.viewMode = "user";
      apply();
    }
    showPopover(`n${id}`, g);
  }

  return { apply, place, fit, zoomCentre, hidePopover, focusNode, remember };
};
