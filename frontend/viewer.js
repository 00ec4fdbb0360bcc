// The trace viewer: the diagram of one step (rendered here, drawn by the server), the source,
// frames, output and events of that step, navigation, view options, pan and zoom.
// Speed: SVGs are cached by their mermaid text and neighbouring steps are rendered ahead.
"use strict";

(() => {
  const P = Pyrona;
  const { el, api } = P;
  const $ = (id) => document.getElementById(id);
  const page = P.pageData();
  const trace = page.trace;
  const base = `/api/traces/${trace}`;

  const OPTIONS = ["frozen", "cowns", "structure", "unreachable", "collapse", "changes", "group"];
  const DEFAULTS = { frozen: 1, cowns: 1, structure: 0, unreachable: 0, collapse: 0, changes: 1, group: 1 };
  const OPTION_KEYS = { i: "frozen", c: "cowns", s: "structure", u: "unreachable", r: "collapse", g: "group" };
  /** Above this many nodes a step is first drawn with its regions collapsed. */
  const LARGE = 60;
  /** A collapsed step up to this many nodes also has its whole picture rendered ahead, so that
   * Expand shows it at once (a larger one could hold the renderer for seconds: mermaid's
   * render cannot be interrupted), from the moment the pointer or focus reaches Expand: not
   * before, as it would delay the next steps of someone who steps on. */
  const EXPAND_AHEAD = 160;

  const state = {
    step: page.step || 0,
    total: page.total || 0,
    options: { ...DEFAULTS },
    expandLarge: false,
    token: 0,
    shown: null, // {text, step, key}
    view: null, // the StepView of the step shown in the side panel
    // "auto": as large as fits, never below the readable scale (then panned to what matters);
    // "whole": fit the whole diagram (the Fit button); "user": zoomed or panned by hand, kept.
    viewMode: "auto",
    t: { x: 0, y: 0, k: 1 },
    size: null,
    files: [],
    fileShown: null,
    lineEls: [],
    marked: { ran: [], current: null },
    eventSteps: [],
    violationSteps: [],
    analysisStep: null,
    hiddenNames: new Set(), // variables `# pyrona: hide NAME` keeps out of the diagrams and the Frames panel
    openGroups: new Set(), // groups opened by a click (the number of their id gpN)
    lastCount: null,
    shownDiagram: null, // diagramFor's answer for the step shown ({text, auto, count, full, step}) // nodes of the last step's whole picture (large: its collapsed text asked for at once)
    placed: null, // where the shown step's nodes are on screen (diagram.js anchors the next one)
    moves: [], // median on-screen displacement of unchanged nodes, per step change
  };

  const renderer = new P.Renderer($("render-scratch"), 200);
  const views = new Map(); // step -> Promise<StepView>
  const texts = new Map(); // "step|query" -> Promise<text>
  window.pyronaViewer = { state, renderer };

  // --- URL and options ---

  const params = new URLSearchParams(location.search);
  for (const name of OPTIONS) {
    if (params.has(name)) state.options[name] = params.get(name) === "1" ? 1 : 0;
  }
  for (const box of document.querySelectorAll("[data-option]")) {
    box.checked = !!state.options[box.dataset.option];
    box.addEventListener("change", () => setOption(box.dataset.option, box.checked ? 1 : 0));
  }

  function query(options) {
    const flags = OPTIONS.map((name) => `${name}=${options[name] ? 1 : 0}`).join("&");
    const open = options.group && state.openGroups.size ? [...state.openGroups].sort((a, b) => a - b) : null;
    return open ? `${flags}&open=${open.join(",")}` : flags;
  }

  /** A click on a group node ("41 × dict"): that group drawn one by one, the others stay.
   * (An exported file holds no such diagrams: there every group opens.) */
  function expandGroup(drawn) {
    if (page.offline) { setOption("group", 0); return; }
    state.openGroups.add(Number(drawn.slice(2)));
    if (state.viewMode === "user") state.viewMode = "auto";
    go(state.step);
  }

  function writeURL() {
    const q = new URLSearchParams();
    q.set("step", state.step);
    for (const name of OPTIONS) if (state.options[name] !== DEFAULTS[name]) q.set(name, state.options[name]);
    history.replaceState(null, "", `${location.pathname}?${q}`);
    $("nav-sccs").href = `/traces/${trace}/sccs?step=${state.step}`;
    $("nav-timeline").href = `/traces/${trace}/timeline?step=${state.step}`;
    document.title = `${page.name} · step ${state.step} · Pyrona Studio`;
  }

  function setOption(name, value) {
    state.options[name] = value;
    if (name === "group") state.openGroups.clear(); // (grouped again: every group closed)
    const box = document.querySelector(`[data-option="${name}"]`);
    if (box) box.checked = !!value;
    if (state.viewMode === "user") state.viewMode = "auto";
    if (state.view && name === "structure") panels.showFrames(state.view);
    go(state.step);
  }

  // --- data, cached ---

  function lru(map, key, make, limit) {
    let value = map.get(key);
    if (value) { map.delete(key); map.set(key, value); return value; }
    value = make();
    value.catch(() => map.delete(key));
    map.set(key, value);
    if (map.size > limit) map.delete(map.keys().next().value);
    return value;
  }

  const stepView = (n) => lru(views, n, () => api(`${base}/steps/${n}`), 400);
  const mermaidText = (n, options) => {
    const q = query(options);
    return lru(texts, `${n}|${q}`, () => P.text(`${base}/steps/${n}/mermaid?${q}`), 800);
  };

  /** The text to draw for step n: collapsed first when the step is large, unless expanded.
   * While steps are large (and at the first one), the collapsed text is asked for alongside
   * the whole one rather than after it. */
  async function diagramFor(n) {
    const options = state.options;
    const mayCollapse = !options.collapse && !state.expandLarge;
    const collapsed = mayCollapse && (state.lastCount === null || state.lastCount > LARGE)
      ? mermaidText(n, { ...options, collapse: 1 }) : null;
    if (collapsed) collapsed.catch(() => {}); // (not needed when the step is small)
    const full = await mermaidText(n, options);
    const count = P.countNodes(full);
    state.lastCount = count;
    if (mayCollapse && count > LARGE) {
      return { text: await (collapsed || mermaidText(n, { ...options, collapse: 1 })), auto: true, count, full };
    }
    return { text: full, auto: false, count, full };
  }

  // --- navigation ---

  const clamp = (n) => Math.max(0, Math.min(state.total - 1, n));

  async function go(n) {
    if (!state.total) return;
    n = clamp(n);
    const token = ++state.token;
    state.step = n;
    $("slider").value = n;
    $("step-label").textContent = `${n} / ${state.total - 1}`;
    writeURL();
    renderer.dropWaiting();
    diagram.hidePopover();

    presenter.showStep(n, null);
    stepView(n).then((v) => { if (token === state.token) { panels.showSide(v); presenter.showStep(n, v); } })
      .catch((err) => { if (token === state.token) panels.sideError(err); });

    let d;
    try {
      d = await diagramFor(n);
    } catch (err) {
      if (token === state.token) diagramError(err);
      return;
    }
    if (token !== state.token) return;
    state.shownDiagram = { ...d, step: n };
    banner(d);
    if (state.shown && d.text === state.shown.text) { // same picture: only the line marker moves
      state.shown.step = n;
      $("stage").dataset.step = n;
      diagram.remember(); // (nothing moved: recorded as such)
      renderState(false);
      prefetch(n, token);
      return;
    }
    if (!renderer.has(d.text)) renderState(true, `Drawing step ${n}…`);
    let svg;
    try {
      svg = await renderer.render(d.text, { priority: true });
    } catch (err) {
      if (token === state.token && err.message !== "cancelled") diagramError(err);
      return;
    }
    if (token !== state.token) return;
    mount(svg, d.text, n);
    renderState(false);
    prefetch(n, token);
  }

  /** Render in the background what the user will likely look at next. */
  async function prefetch(n, token) {
    const want = [...presenter.ahead(n), n + 1, n + 2, nextIn(state.eventSteps, n), n - 1,
                  nextIn(state.violationSteps, n), prevIn(state.eventSteps, n), n + 3,
                  nextIn(state.eventSteps, nextIn(state.eventSteps, n) ?? n)];
    const seen = new Set([n]);
    for (const s of want) {
      if (s === null || s === undefined || s < 0 || s >= state.total || seen.has(s)) continue;
      seen.add(s);
      stepView(s).catch(() => {});
      try {
        const d = await diagramFor(s);
        if (token !== state.token) return;
        renderer.render(d.text).catch(() => {});
      } catch (_) { /* a missing step is not our concern here */ }
    }
  }

  function nextIn(list, n) {
    let lo = 0, hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid] <= n) lo = mid + 1; else hi = mid; }
    return lo < list.length ? list[lo] : null;
  }

  function prevIn(list, n) {
    let lo = 0, hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid] < n) lo = mid + 1; else hi = mid; }
    return lo > 0 ? list[lo - 1] : null;
  }

  function jump(target) { if (target !== null && target !== undefined) go(target); }

  // --- the diagram ---

  function mount(svgText, text, n) {
    const stage = $("stage");
    stage.innerHTML = svgText;
    const svg = stage.querySelector("svg");
    state.size = svg ? P.sizeSvg(svg) : null;
    state.shown = { text, step: n };
    stage.dataset.step = n;
    diagram.place();
  }

  function banner(d) {
    const box = $("collapse-banner");
    if (d.auto) {
      $("collapse-text").textContent = `This step draws ${P.plural(d.count, "object")}: regions are collapsed so it draws fast.`;
      $("expand").textContent = "Expand";
      box.hidden = false;
    } else if (state.expandLarge && d.count > LARGE) {
      $("collapse-text").textContent = `Drawing all ${P.plural(d.count, "object")} (slower).`;
      $("expand").textContent = "Collapse large steps";
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }
  /** The whole picture of the collapsed step shown, rendered while the user reaches for Expand. */
  function expandAhead() {
    const d = state.shownDiagram;
    if (d && d.auto && d.count <= EXPAND_AHEAD && d.step === state.step) renderer.render(d.full).catch(() => {});
  }
  $("expand").addEventListener("pointerenter", expandAhead);
  $("expand").addEventListener("focus", expandAhead);
  $("expand").addEventListener("click", () => { state.expandLarge = !state.expandLarge; state.viewMode = "auto"; go(state.step); });

  function renderState(on, message) {
    $("render-state").hidden = !on;
    if (message) $("render-text").textContent = message;
  }

  function diagramError(err) {
    renderState(false);
    state.shown = null;
    $("stage").replaceChildren(el("div", { class: "notice error", style: "margin:2rem;max-width:40rem" },
      el("strong", {}, "This step could not be drawn"), err.message));
    state.size = null;
    state.t = { x: 0, y: 0, k: 1 };
    diagram.apply();
  }

  function nodeLabel(id) {
    const node = state.view && state.view.nodes.find((x) => x.id === id);
    if (!node) return `#${id}`;
    const text = node.label && node.label !== node.type_name ? node.label : node.type_name;
    return `#${id} ${text}`;
  }

  function placeChip(place) {
    return el("span", { class: "place " + P.placeClass(place) }, P.placeName(place));
  }

  const diagram = PyronaDiagram({ state, nodeLabel, placeChip, expandGroup });
  const panels = PyronaPanels({ state, views, base, nodeLabel, placeChip,
                                focusNode: (id) => diagram.focusNode(id) });
  const presenter = PyronaPresent({ state, go, base, page, renderer, diagramFor, diagram });
  Object.assign(window.pyronaViewer, { go, presenter });

  // --- events along the trace: ticks and jumps ---

  async function loadEvents() {
    try {
      const { events } = await api(`${base}/events`);
      const all = new Set(), bad = new Set();
      for (const ev of events) { all.add(ev.step); if (ev.kind === "violation") bad.add(ev.step); }
      state.eventSteps = [...all].sort((a, b) => a - b);
      state.violationSteps = [...bad].sort((a, b) => a - b);
      drawTicks(events);
      presenter.drawStrip();
      $("prev-violation").disabled = $("next-violation").disabled = !bad.size;
    } catch (_) { /* navigation by events is a bonus */ }
  }

  function drawTicks(events) {
    const box = $("ticks");
    const last = Math.max(1, state.total - 1);
    const buckets = new Map(); // position bucket -> {step, violation}
    for (const ev of events) {
      const b = Math.round((ev.step / last) * 400);
      const cur = buckets.get(b);
      if (!cur) buckets.set(b, { step: ev.step, violation: ev.kind === "violation", kinds: new Set([ev.kind]) });
      else { cur.kinds.add(ev.kind); if (ev.kind === "violation") { cur.violation = true; cur.step = ev.step; } }
    }
    box.replaceChildren(...[...buckets.values()].map((b) => el("i", {
      class: b.violation ? "violation" : "",
      style: `left:${(b.step / last) * 100}%`,
      title: `step ${b.step}: ${[...b.kinds].join(", ")}`,
      onclick: () => go(b.step),
    })));
  }

  // --- controls ---

  const slider = $("slider");
  const slide = P.debounce(() => go(Number(slider.value)), 60);
  slider.addEventListener("input", () => { $("step-label").textContent = `${slider.value} / ${state.total - 1}`; slide(); });
  $("first").addEventListener("click", () => go(0));
  $("last").addEventListener("click", () => go(state.total - 1));
  $("prev").addEventListener("click", () => go(state.step - 1));
  $("next").addEventListener("click", () => go(state.step + 1));
  $("prev-event").addEventListener("click", () => jump(prevIn(state.eventSteps, state.step)));
  $("next-event").addEventListener("click", () => jump(nextIn(state.eventSteps, state.step)));
  $("prev-violation").addEventListener("click", () => jump(prevIn(state.violationSteps, state.step)));
  $("next-violation").addEventListener("click", () => jump(nextIn(state.violationSteps, state.step)));

  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("click", (e) => { if (e.target === dialog || e.target.closest("[data-close]")) dialog.close(); });
  }
  let legendDrawn = false;
  function openLegend() {
    const dialog = $("legend-dialog");
    dialog.showModal();
    if (legendDrawn) return;
    legendDrawn = true;
    renderer.render($("legend-source").textContent, { priority: true, keep: true }).then((svg) => {
      const box = $("legend-diagram");
      box.innerHTML = svg;
      const node = box.querySelector("svg");
      if (node) { node.setAttribute("width", "100%"); node.setAttribute("height", "100%"); }
    }).catch((err) => { legendDrawn = false; $("legend-diagram").textContent = "The legend could not be drawn: " + err.message; });
  }
  $("legend-button").addEventListener("click", openLegend);
  $("keys-button").addEventListener("click", () => $("keys-dialog").showModal());
  const present = (on) => presenter.toggle(on);
  $("present-button").addEventListener("click", () => present(!presenter.active()));

  PyronaExports({ state, base, trace, query });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t.matches && t.matches("textarea, select, input[type=text], input[type=number]")) return;
    if (document.querySelector("dialog[open]")) {
      if (e.key === "l" && $("legend-dialog").open) $("legend-dialog").close();
      return;
    }
    if (presenter.key(e)) { e.preventDefault(); return; }
    const actions = {
      ArrowRight: () => go(state.step + 1),
      ArrowLeft: () => go(state.step - 1),
      Home: () => go(0),
      End: () => go(state.total - 1),
      j: () => jump(prevIn(state.eventSteps, state.step)),
      k: () => jump(nextIn(state.eventSteps, state.step)),
      n: () => jump(nextIn(state.violationSteps, state.step)),
      p: () => jump(prevIn(state.violationSteps, state.step)),
      f: diagram.fit,
      "+": () => diagram.zoomCentre(1.25),
      "=": () => diagram.zoomCentre(1.25),
      "-": () => diagram.zoomCentre(0.8),
      l: openLegend,
      "?": () => $("keys-dialog").showModal(),
      P: () => present(!presenter.active()),
      Escape: () => { diagram.hidePopover(); present(false); },
    };
    let action = actions[e.key];
    if (!action && OPTION_KEYS[e.key]) {
      const name = OPTION_KEYS[e.key];
      action = () => setOption(name, state.options[name] ? 0 : 1);
    }
    if (!action) return;
    e.preventDefault();
    if (t.blur && t !== document.body && t.matches("input[type=checkbox], button")) t.blur();
    action();
  });

  // --- start ---

  async function start() {
    if (!state.total) {
      $("stage").replaceChildren(el("div", { class: "notice warn", style: "margin:2rem;max-width:40rem" },
        el("strong", {}, "This trace has no steps"), page.message || "Nothing was recorded."));
      return;
    }
    // the first step's data travels while the source arrives (and while mermaid starts up)
    stepView(state.step).catch(() => {});
    diagramFor(state.step).catch(() => {});
    try {
      const { files } = await api(`${base}/source`);
      state.files = files || [];
      if (state.files.length > 1) {
        $("file-tabs").replaceChildren(...state.files.map((f) => el("button", {
          type: "button", "data-file": f.file, title: f.path,
          onclick: () => {
            panels.showFile(f);
            if (state.view && panels.fileOf(state.view.file) === f) panels.showSource(state.view, f);
          },
        }, f.path.split("/").pop())));
      }
    } catch (err) {
      $("source").replaceChildren(el("div", { class: "notice error" }, "The source could not be loaded: " + err.message));
    }
    P.initMermaid();
    go(state.step);
    presenter.load().then((data) => {
      state.hiddenNames = new Set(data.hidden || []);
      if (state.hiddenNames.size && state.view) panels.showFrames(state.view);
    }).catch(() => { /* the Frames panel then lists every variable */ });
    loadEvents().then(() => { if (state.shown) prefetch(state.step, state.token); });
  }

  start();
})();
