// The viewer's side panel: the violation and its explanation, the step's events, the
// source with the current line and the lines run, frames, output, regions and analysis.
"use strict";

const PyronaPanels = ({ state, views, base, nodeLabel, placeChip, focusNode }) => {
  const P = Pyrona;
  const { el, api } = P;
  const $ = (id) => document.getElementById(id);

  function showSide(v) {
    state.view = v;
    const line = v.line;
    const file = fileOf(v.file);
    const many = state.files.length > 1;
    $("where").textContent = `${many && file ? file.path + ":" : "Line "}${line}`;
    // (a `# pyrona: ...` mark is for the tools, not for the audience)
    $("code-line").textContent = withoutMarks(v.source_line || "").trim();
    const kind = v.event || "line";
    $("step-event").textContent = kind;
    $("caption-event").replaceChildren(kind === "line" ? "" : el("span", { class: "badge" }, kind));
    showThread(v);
    showEvents(v);
    showSource(v, file);
    showFrames(v);
    showOutput(v);
    showRegions(v);
    if ($("analysis-details").open) loadAnalysis(v.index);
  }

  /** Which thread runs the step, and the behaviour whose line it is (shown when the
   * program ran several threads, or a behaviour runs). */
  function showThread(v) {
    const chip = $("step-thread");
    const shown = Boolean(v.threaded || v.behaviour);
    chip.hidden = !shown;
    chip.replaceChildren(...(shown ? [el("span", { class: "muted" }, "thread "), el("b", {}, v.thread || ""),
      ...(v.behaviour ? [el("span", { class: "muted" }, " · behaviour "), el("b", {}, `#${v.behaviour.bid} ${v.behaviour.name}`)] : [])] : []));
    chip.title = shown ? `This step runs on thread ${v.thread}${v.behaviour ? `, in behaviour #${v.behaviour.bid}` : ""}` : "";
  }

  function sideError(err) {
    $("events").replaceChildren(el("li", { class: "notice error" }, "This step could not be loaded: " + err.message));
  }

  function showEvents(v) {
    const list = $("events");
    const events = v.events || [];
    const lines = new Map(); // one line per distinct text, counted
    for (const ev of events) {
      if (ev.kind === "violation") continue; // shown in its own box, above
      const key = `${ev.kind}|${P.describeEvent(ev, nodeLabel)}`;
      const line = lines.get(key);
      if (line) line.count += 1; else lines.set(key, { ev, text: P.describeEvent(ev, nodeLabel), count: 1 });
    }
    list.replaceChildren(...(lines.size ? [...lines.values()].map(({ ev, text, count }) => el("li", {},
      el("span", { class: "ev-kind " + ev.kind }, P.EVENT_TEXT[ev.kind] || ev.kind),
      el("span", {}, text, count > 1 ? el("span", { class: "muted" }, ` ×${count}`) : "")))
      : [el("li", { class: "muted" }, events.length ? "No other region events at this step."
                                                        : "No region events at this step.")]));
    const violations = events.filter((ev) => ev.kind === "violation");
    const box = $("violation");
    box.hidden = !violations.length;
    if (!violations.length) return;
    $("violation-message").textContent = violations.map((ev) => ev.message).join(" · ");
    const cause = violations[0];
    const has = (x) => x !== null && x !== undefined;
    const stopped = events.some((ev) => ev.kind === "freeze-rolled-back"); // (a freeze refused)
    // the offending reference, drawn red; or, when there is none (a write to a frozen
    // object), the object written to, outlined in red
    const causeLine = () => !has(cause.src) ? ""
      : has(cause.dst) ? el("div", { class: "small" }, "The red edge: ",
        el("code", {}, `${nodeLabel(cause.src)}${cause.edge ? "." + cause.edge : ""} → ${nodeLabel(cause.dst)}`))
        : el("div", { class: "small" }, stopped ? "Outlined in red, the object that stopped the freeze: "
          : "Outlined in red, the object written to: ", el("code", {}, nodeLabel(cause.src)),
          stopped ? " (pale teal: the objects it visited, none frozen)" : "");
    $("violation-path").replaceChildren(causeLine(),
      el("div", { class: "small muted" }, el("span", { class: "spinner" }), " explaining…"));
    const step = v.index;
    api(`${base}/steps/${step}/analysis`).then((a) => {
      if (state.step !== step) return;
      const path = a.violation && a.violation.path ? a.violation.path : [];
      const parts = [];
      if (has(cause.src)) parts.push(causeLine());
      if (path.length) {
        parts.push(el("div", { class: "small", style: "margin-top:.4rem" }, "Why: the path of references"),
          el("ol", {}, path.map((e, i) => el("li", { class: i === path.length - 1 ? "cause" : "" },
            `${nodeLabel(e.src)} .${e.name} → ${nodeLabel(e.dst)}`))));
      }
      if (!path.length && a.violation && a.violation.message) { // no path: the explanation says why
        const why = a.violation.message.split("\n").slice(1).join(" ").trim();
        if (why) parts.push(el("div", { class: "small" }, why));
      }
      $("violation-path").replaceChildren(...parts);
      showAnalysis(a, step);
    }).catch(() => {
      if (state.step === step) $("violation-path").replaceChildren(causeLine());
    });
  }

  function fileOf(key) {
    if (!state.files.length) return null;
    if (typeof key === "number") return state.files.find((f) => f.file === key) || state.files[0];
    if (typeof key === "string") {
      return state.files.find((f) => f.path === key || key.endsWith("/" + f.path) || f.path.endsWith("/" + key))
        || state.files[0];
    }
    return state.files[0];
  }

  /** A source line as the audience sees it: `# pyrona: ...` marks are for the tools. */
  const withoutMarks = (text) => text.replace(/\s*#\s*pyrona:.*$/, "");

  function showFile(file) {
    if (state.fileShown === file) return;
    state.fileShown = file;
    const lines = file.source.replace(/\n$/, "").split("\n");
    const box = $("source");
    state.lineEls = lines.map((text, i) => el("div", { class: "ln", "data-line": i + 1 },
      el("span", { class: "no" }, i + 1), el("span", { class: "code" }, withoutMarks(text) || " ")));
    box.replaceChildren(...state.lineEls);
    state.marked = { ran: [], current: null };
    for (const b of $("file-tabs").children) b.classList.toggle("on", Number(b.dataset.file) === file.file);
  }

  function showSource(v, file) {
    if (!file) return;
    showFile(file);
    for (const ln of state.marked.ran) ln.classList.remove("ran");
    if (state.marked.current) state.marked.current.classList.remove("current");
    const ran = [];
    for (const n of v.lines_run || []) {
      const ln = state.lineEls[n - 1];
      if (ln) { ln.classList.add("ran"); ran.push(ln); }
    }
    const current = state.lineEls[v.line - 1] || null;
    if (current) current.classList.add("current");
    state.marked = { ran, current };
    if (current) {
      const box = $("source");
      const top = current.offsetTop - box.offsetTop;
      if (top < box.scrollTop + 20 || top > box.scrollTop + box.clientHeight - 40) {
        box.scrollTop = top - box.clientHeight / 2;
      }
    }
  }

  /** The frames, innermost first, then the program's module globals (the variables of module code). */
  function framesOf(v) {
    const frames = [...(v.stack || [])].reverse();
    const listed = new Set(frames.map((f) => f.node));
    for (const node of v.nodes || []) {
      if (node.kind !== "globals" || listed.has(node.id)) continue;
      const locals = [
        ...(v.edges || []).filter((e) => e.src === node.id).map((e) => ({ name: e.name, ref: e.dst })),
        ...(v.fields || []).filter((f) => f.node === node.id).map((f) => ({ name: f.name, value: f.value })),
      ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      frames.push({ node: node.id, label: node.label || "module globals", locals });
    }
    return frames;
  }

  const STRUCTURE = new Set(["function", "class", "module"]);

  function showFrames(v) {
    const frames = framesOf(v);
    const kinds = new Map((v.nodes || []).map((x) => [x.id, x.kind]));
    const isRef = (local) => "ref" in local && local.ref !== null && local.ref !== undefined;
    $("frames").replaceChildren(...(frames.length ? frames.map((f) => {
      // functions, classes and modules only with the "functions" option, as in the diagram
      // (a variable hidden by `# pyrona: hide NAME` is left out here as in the diagram)
      const all = (f.locals || []).filter((l) => !state.hiddenNames.has(l.name));
      const shown = state.options.structure ? all : all.filter((l) => !(isRef(l) && STRUCTURE.has(kinds.get(l.ref))));
      const hidden = all.length - shown.length;
      return el("div", { class: "frame" },
        el("h4", {}, f.label || nodeLabel(f.node)),
        shown.length ? el("table", {}, shown.map((local) => el("tr", {},
          el("td", {}, local.name),
          el("td", {}, isRef(local) ? refCell(local.ref) : String(local.value ?? "None")))))
          : el("div", { class: "small muted" }, hidden ? "" : "no variables"),
        hidden ? el("div", { class: "small muted" }, `+ ${hidden} functions, classes or modules (toggle “functions”)`) : "");
    }) : [el("div", { class: "muted" }, "No frames.")]));
  }

  function refCell(id) {
    const node = state.view.nodes.find((x) => x.id === id);
    return el("span", {},
      el("a", { class: "ref", href: "#", title: "Show in the diagram", onclick: (e) => { e.preventDefault(); focusNode(id); } }, nodeLabel(id)),
      node ? placeChip(node.place) : "");
  }

  function showOutput(v) {
    const box = $("output");
    const prev = views.has(v.index - 1) ? views.get(v.index - 1) : null;
    const paint = (before) => {
      const parts = [];
      for (const [text, old, cls] of [[v.stdout || "", before ? before.stdout || "" : null, ""],
                                       [v.stderr || "", before ? before.stderr || "" : null, "err"]]) {
        if (!text) continue;
        if (old !== null && text.startsWith(old) && text.length > old.length) {
          parts.push(el("span", { class: cls }, old), el("span", { class: cls + " fresh" }, text.slice(old.length)));
        } else {
          parts.push(el("span", { class: cls }, text));
        }
      }
      box.replaceChildren(...(parts.length ? parts : [el("span", { class: "muted" }, "(nothing written yet)")]));
      box.scrollTop = box.scrollHeight;
    };
    paint(null);
    if (prev) prev.then((before) => { if (state.view === v) paint(before); }).catch(() => {});
  }

  function showRegions(v) {
    const regions = v.regions || [];
    $("regions").replaceChildren(...(regions.length ? [el("table", { class: "grid small" },
      el("thead", {}, el("tr", {}, el("th", {}, "Region"), el("th", {}, "State"), el("th", { class: "num" }, "LRC"),
        el("th", { class: "num" }, "SBRC"), el("th", {}, "Parent / owner"))),
      el("tbody", {}, regions.map((r) => el("tr", {},
        el("td", {}, `#${r.rid}`, r.name ? el("span", { class: "muted" }, ` ${r.name}`) : ""),
        el("td", {}, el("span", { class: "badge " + (r.open ? "running" : "") }, r.open ? "open" : "closed")),
        el("td", { class: "num" }, r.lrc), el("td", { class: "num" }, r.sbrc),
        el("td", {}, r.parent !== null && r.parent !== undefined ? `child of #${r.parent}`
          : r.owner !== null && r.owner !== undefined ? `in ${nodeLabel(r.owner)}` : "root")))))]
      : [el("div", { class: "muted" }, "No user regions at this step.")]));
  }

  // --- analysis (on demand) ---

  $("analysis-details").addEventListener("toggle", () => { if ($("analysis-details").open) loadAnalysis(state.step); });

  function loadAnalysis(step) {
    if (state.analysisStep === step) return;
    $("analysis").replaceChildren(el("span", { class: "spinner" }));
    api(`${base}/steps/${step}/analysis`).then((a) => showAnalysis(a, step))
      .catch((err) => { if (state.step === step) $("analysis").replaceChildren(el("div", { class: "notice error" }, err.message)); });
  }

  function itemText(item) {
    if (item === null || typeof item !== "object") return String(item);
    return item.message || item.text || item.reason || readable(item);
  }

  /** A value of the analysis as words: `{"local": 6, "r1": 6}` reads "local 6 · region #1 6"
   * (zeros left out), never as raw JSON. */
  function readable(value) {
    if (value === null || value === undefined) return "–";
    if (Array.isArray(value)) return value.length ? value.map(readable).join(", ") : "none";
    if (typeof value === "object") {
      const parts = Object.entries(value).filter(([, v]) => v !== 0 && v !== null && v !== "")
        .map(([k, v]) => `${SUMMARY_WORDS[k] || P.placeName(k).replace(/_/g, " ")} ${readable(v)}`);
      return parts.length ? parts.join(" · ") : "none";
    }
    return typeof value === "number" ? P.fmt(value) : String(value);
  }

  const SUMMARY_WORDS = {
    step: "Step", nodes: "Objects", edges: "References", places: "Where they are", kinds: "Kinds",
    regions: "Regions", count: "count", roots: "roots", owned_by_cowns: "owned by cowns", max_depth: "max depth",
    invariant_problems: "Invariant problems", invariant_rules: "Rules broken", unreachable: "Unreachable",
    frozen_sccs: "Frozen SCCs", cyclic_frozen_sccs: "Cyclic frozen SCCs", events: "Events at this step",
  };

  function showAnalysis(a, step) {
    if (state.step !== step) return;
    state.analysisStep = step;
    const parts = [];
    if (a.summary && typeof a.summary === "object") {
      parts.push(el("table", { class: "grid small analysis-summary" }, el("tbody", {}, Object.entries(a.summary).map(([k, v]) =>
        el("tr", {}, el("th", { scope: "row" }, SUMMARY_WORDS[k] || k.replace(/_/g, " ")),
          el("td", { class: typeof v === "number" ? "num" : "" }, readable(v)))))));
    } else if (a.summary) {
      parts.push(el("p", {}, a.summary));
    }
    const section = (title, items, empty) => {
      parts.push(el("h3", { style: "margin-top:.7rem" }, title));
      parts.push(items && items.length ? el("ul", { class: "small" }, items.map((x) => el("li", {},
        typeof x === "number" ? nodeLabel(x) : itemText(x)))) : el("div", { class: "small muted" }, empty));
    };
    section("Invariants", a.invariants, "All of the model's invariants hold.");
    section("Unreachable objects", a.unreachable, "None.");
    section("Suggested region boundaries", a.suggestions, "No suggestion.");
    $("analysis").replaceChildren(...parts);
  }

  return { showSide, sideError, showFrames, showFile, showSource, fileOf };
};
