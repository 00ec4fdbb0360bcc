// The viewer's diagram pane: pan and zoom (wheel, drag, buttons), the automatic view
// (fit, or readable and centred on what changed), and clicks on nodes (a popover).
"use strict";

const PyronaDiagram = ({ state, nodeLabel, placeChip }) => {
  const P = Pyrona;
  const { el } = P;
  const $ = (id) => document.getElementById(id);
  /** The smallest scale the automatic view uses (then it centres on what changed). */
  const READABLE = 0.55;
  const PAD = 28;

  function apply() {
    const { x, y, k } = state.t;
    $("stage").style.transform = `translate(${x}px, ${y}px) scale(${k})`;
  }

  /** Where the diagram goes after a render, a resize or a new mode (see `state.viewMode`). */
  function place() {
    if (state.viewMode === "user") apply();
    else if (state.viewMode === "whole") fitWhole();
    else autoView();
  }

  function fitScale() {
    const port = $("viewport").getBoundingClientRect();
    if (!state.size || !port.width) return null;
    const { width, height } = state.size;
    return { port, k: Math.min((port.width - 2 * PAD) / width, (port.height - 2 * PAD) / height, 1.75) };
  }

  /** The whole diagram, centred. */
  function fitWhole() {
    const fitted = fitScale();
    if (!fitted) { state.t = { x: 0, y: 0, k: 1 }; apply(); return; }
    const { port } = fitted, k = Math.max(0.02, fitted.k);
    const { width, height } = state.size;
    state.t = { k, x: (port.width - width * k) / 2, y: Math.max(PAD, (port.height - height * k) / 2) };
    apply();
  }

  /** Fit when that stays readable; else zoom to READABLE around the changed nodes (or the top). */
  function autoView() {
    const fitted = fitScale();
    if (!fitted || fitted.k >= READABLE) { fitWhole(); return; }
    const { port } = fitted, k = READABLE;
    const { width, height } = state.size;
    let cx = width / 2, cy = 0;
    const changed = [...$("stage").querySelectorAll("g.node.changed, g.node.error")];
    if (changed.length) { // their box, in diagram units (the stage's transform undone)
      const stage = $("stage").getBoundingClientRect(), k0 = state.t.k || 1;
      const boxes = changed.map((g) => g.getBoundingClientRect());
      const left = Math.min(...boxes.map((b) => b.left)), right = Math.max(...boxes.map((b) => b.right));
      const top = Math.min(...boxes.map((b) => b.top)), bottom = Math.max(...boxes.map((b) => b.bottom));
      cx = ((left + right) / 2 - stage.left) / k0;
      cy = ((top + bottom) / 2 - stage.top) / k0 - port.height / (2 * k);
    }
    // centre horizontally on cx, keep the diagram's edges within reach
    let x = port.width / 2 - cx * k;
    x = width * k <= port.width - 2 * PAD ? (port.width - width * k) / 2
      : Math.min(PAD, Math.max(port.width - PAD - width * k, x));
    let y = PAD - Math.max(0, cy) * k;
    y = height * k <= port.height - 2 * PAD ? (port.height - height * k) / 2
      : Math.min(PAD, Math.max(port.height - PAD - height * k, y));
    state.t = { k, x, y };
    apply();
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
    const m = raw.match(/(?:^|-)((?:n|rg)\d+)(?:-\d+)?$/);
    return m ? m[1] : null;
  }

  function clickDiagram(target) {
    const g = target && target.closest && target.closest("g.node");
    if (!g) { hidePopover(); return; }
    const drawn = drawnId(g);
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

  return { apply, place, fit, zoomCentre, hidePopover, focusNode };
};
