// Home: trace a program (upload or paste), watch its run, the sample gallery, the list of traces.
"use strict";

(() => {
  const { api, el, fmt, date } = Pyrona;
  const $ = (id) => document.getElementById(id);
  const FINAL = new Set(["done", "failed", "truncated"]);
  const renderer = new Pyrona.Renderer($("render-scratch"), 20);
  let watching = null; // {id, source: EventSource}
  let pollTimer = null;

  // --- the two forms ---

  function selectTab(which) {
    for (const [tab, form] of [["tab-upload", "upload-form"], ["tab-paste", "paste-form"]]) {
      const on = tab === which;
      $(tab).setAttribute("aria-selected", String(on));
      $(form).hidden = !on;
    }
  }
  $("tab-upload").addEventListener("click", () => selectTab("tab-upload"));
  $("tab-paste").addEventListener("click", () => { selectTab("tab-paste"); $("paste-source").focus(); });

  const fileInput = $("upload-file");
  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    $("upload-chosen").textContent = file ? `${fmt(file.size)} bytes` : "";
  });
  const zone = $("dropzone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) {
      fileInput.files = e.dataTransfer.files;
      fileInput.dispatchEvent(new Event("change"));
    }
  });

  $("upload-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = fileInput.files[0];
    if (!file) return showError("Choose a .py file first.");
    if (!/\.py$/i.test(file.name)) return showError(`${file.name} is not a .py file.`);
    const body = new FormData();
    body.append("file", file, file.name);
    await submit({ method: "POST", body });
  });

  $("paste-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const source = $("paste-source").value;
    let name = $("paste-name").value.trim() || "program.py";
    if (!source.trim()) return showError("Paste some Python source first.");
    if (!/\.py$/i.test(name)) name += ".py";
    await submit({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name, source }) });
  });
  $("paste-source").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("paste-form").requestSubmit(); }
    if (e.key === "Tab" && !e.shiftKey) { // indent instead of leaving the editor
      e.preventDefault();
      const t = e.target, at = t.selectionStart;
      t.setRangeText("    ", at, t.selectionEnd, "end");
    }
  });

  function showError(message) {
    const box = $("submit-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function busy(on) {
    for (const id of ["upload-submit", "paste-submit"]) $(id).disabled = on;
  }

  async function submit(options) {
    showError("");
    busy(true);
    try {
      const { id } = await api("/api/traces", options);
      watch(id);
      loadTraces();
    } catch (err) {
      showError(err.message);
      busy(false);
    }
  }

  async function runSample(name) {
    showError("");
    busy(true);
    try {
      const { id } = await api("/api/traces", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sample: name }),
      });
      watch(id);
      loadTraces();
    } catch (err) {
      showError(err.message);
      busy(false);
    }
  }

  // --- progress of a run (server-sent events) ---

  function watch(id) {
    if (watching) watching.source.close();
    const box = $("progress");
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
    $("progress-notice").className = "notice";
    $("progress-title").textContent = "Queued…";
    $("progress-bar").hidden = false;
    $("progress-actions").hidden = true;
    $("progress-message").hidden = true;
    $("progress-open").href = `/traces/${id}`;
    const started = performance.now();
    const source = new EventSource(`/api/traces/${id}/progress`);
    watching = { id, source, finished: false };
    const mine = watching;
    source.onmessage = (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch (_) { return; }
      update(mine, data, started);
    };
    source.onerror = async () => {
      source.close();
      if (mine.finished) return;
      try { // the stream ended (or broke): ask for the final state
        const info = await api(`/api/traces/${id}`);
        update(mine, { status: info.status, steps: info.steps, message: info.message,
                       elapsed: (performance.now() - started) / 1000 }, started);
        if (!FINAL.has(info.status)) setTimeout(() => { if (watching === mine) watch(id); }, 1000);
      } catch (err) {
        finish(mine, "failed", err.message);
      }
    };
  }

  function update(mine, data, started) {
    if (watching !== mine || mine.finished) return;
    const status = data.status || "running";
    $("progress-steps").textContent = fmt(data.steps || 0);
    $("progress-steps-word").textContent = data.steps === 1 ? "step" : "steps";
    const elapsed = typeof data.elapsed === "number" ? data.elapsed : (performance.now() - started) / 1000;
    $("progress-elapsed").textContent = elapsed.toFixed(1);
    const badge = $("progress-status");
    badge.textContent = status;
    badge.className = "badge " + status;
    $("progress-title").textContent = status === "queued" ? "Queued…" : status === "running" ? "Running in the sandbox…" : "";
    if (FINAL.has(status)) finish(mine, status, data.message || "", data.steps || 0);
  }

  function finish(mine, status, message, steps) {
    mine.finished = true;
    mine.source.close();
    busy(false);
    loadTraces();
    $("progress-bar").hidden = true;
    const msg = $("progress-message");
    if (status === "done") {
      $("progress-title").textContent = "Done: opening the viewer…";
      $("progress-notice").className = "notice ok";
      window.location.assign(`/traces/${mine.id}`);
      return;
    }
    $("progress-notice").className = status === "failed" ? "notice error" : "notice warn";
    $("progress-title").textContent = status === "failed" ? "The run failed" : "The run was stopped";
    msg.textContent = message || (status === "failed" ? "The program could not be traced." : "A limit stopped the run.");
    msg.hidden = false;
    $("progress-actions").hidden = !(steps > 0);
    $("progress-open").textContent = status === "failed" ? "Open what was recorded" : "Open the trace";
  }

  // --- samples ---

  async function loadSamples() {
    const box = $("samples");
    let samples;
    try {
      ({ samples } = await api("/api/samples"));
    } catch (err) {
      box.replaceChildren(el("div", { class: "notice error" }, "Could not load the samples: " + err.message));
      return;
    }
    if (!samples.length) {
      box.replaceChildren(el("div", { class: "empty" }, "No sample programs."));
      return;
    }
    const chapters = [...new Set(samples.map((s) => s.chapter || "Samples"))];
    const slug = (name) => "chapter-" + name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    $("chapters-nav").replaceChildren(...chapters.map((c) =>
      el("a", { href: "#" + slug(c) }, `${c} (${samples.filter((s) => (s.chapter || "Samples") === c).length})`)));
    box.replaceChildren(...chapters.map((chapter) => el("section", { class: "chapter", id: slug(chapter), "data-chapter": chapter },
      el("h3", {}, chapter),
      el("div", { class: "samples" }, samples.filter((s) => (s.chapter || "Samples") === chapter).map(card)))));
    thumbnails(samples.filter((s) => s.trace !== null && s.trace !== undefined));
  }

  /** Text with `code` spans (as docstrings write them) as <code> elements. */
  function inlineCode(text) {
    return text.split("`").map((part, i) => (i % 2 ? el("code", {}, part) : part));
  }

  function card(s) {
    return el("article", { class: "sample", "data-sample": s.name },
      el("a", { class: "thumb", id: `thumb-${s.name}`, href: s.trace ? `/traces/${s.trace}${s.thumbnail !== null && s.thumbnail !== undefined ? "?step=" + s.thumbnail : ""}` : null,
                "aria-label": `Open ${s.title || s.name}` },
        el("span", { class: "placeholder" }, s.trace ? "" : "not traced yet")),
      el("div", { class: "body" },
        el("div", { class: "title" }, s.title || s.name),
        el("div", { class: "file" }, s.name + ".py"),
        el("div", { class: "desc", title: s.description ? s.description.replace(/`/g, "") : null },
          el("span", {}, inlineCode(s.description || ""))),
        el("div", { class: "actions" },
          s.trace ? el("a", { class: "btn primary", href: `/traces/${s.trace}` }, "Open") : null,
          el("button", { class: "btn", type: "button", title: "Trace it again", onclick: () => runSample(s.name) },
            s.trace ? "Run again" : "Run"))));
  }

  /** A small diagram per sample: the step its program marks (`# pyrona: thumbnail`), else the
   * step of its last region-building event. Drawn in the browser from the step's mermaid
   * text, one at a time and only once the card is near the screen. */
  function thumbnails(samples) {
    const pending = new Map(samples.map((s) => [`thumb-${s.name}`, s]));
    let chain = Promise.resolve();
    const draw = (s) => { chain = chain.then(() => thumbnail(s)); };
    if (!("IntersectionObserver" in window)) { samples.forEach(draw); return; }
    const seen = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const s = entry.isIntersecting && pending.get(entry.target.id);
        if (!s) continue;
        pending.delete(entry.target.id);
        seen.unobserve(entry.target);
        draw(s);
      }
    }, { rootMargin: "400px" });
    for (const id of pending.keys()) seen.observe($(id));
  }

  async function thumbnail(s) {
    const thumb = $(`thumb-${s.name}`);
    try {
      let step = s.thumbnail;
      if (step === null || step === undefined) {
        const { events } = await api(`/api/traces/${s.trace}/events?kinds=created,moved,became-child,frozen,merged,cown-created`);
        step = events.length ? events[events.length - 1].step : null;
      }
      if (step === null) {
        const info = await api(`/api/traces/${s.trace}`);
        step = Math.max(0, info.steps - 1);
      }
      let text = await Pyrona.text(`/api/traces/${s.trace}/steps/${step}/mermaid?changes=0`);
      if (Pyrona.countNodes(text) > 24) {
        text = await Pyrona.text(`/api/traces/${s.trace}/steps/${step}/mermaid?changes=0&collapse=1`);
      }
      const svg = await renderer.render(text);
      thumb.innerHTML = svg;
      const node = thumb.querySelector("svg");
      if (node) {
        node.setAttribute("width", "100%");
        node.setAttribute("height", "100%");
        node.style.maxWidth = "100%";
      }
      thumb.title = `Step ${step}`;
      thumb.dataset.step = step;
    } catch (_) {
      thumb.replaceChildren(el("span", { class: "placeholder" }, "no preview"));
    }
  }

  // --- traces ---

  async function loadTraces() {
    clearTimeout(pollTimer);
    const body = $("traces").tBodies[0];
    let traces;
    try {
      ({ traces } = await api("/api/traces"));
    } catch (err) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "empty" }, "Could not load the traces: " + err.message)));
      return;
    }
    $("traces-count").textContent = Pyrona.plural(traces.length, "trace");
    if (!traces.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "empty" },
        "No traces yet: trace a program or run a sample.")));
    } else {
      body.replaceChildren(...traces.map(row));
    }
    if (traces.some((t) => !FINAL.has(t.status))) pollTimer = setTimeout(loadTraces, 1500);
  }

  function row(t) {
    const summary = t.summary || {};
    const violations = summary.violations || 0;
    const ready = t.steps > 0;
    return el("tr", { "data-trace": t.id },
      el("td", { class: "muted", title: String(t.id) }, typeof t.id === "number" ? t.id : `${String(t.id).slice(0, 6)}…`),
      el("td", {}, ready ? el("a", { href: `/traces/${t.id}` }, t.name) : t.name,
        t.message ? el("div", { class: "small muted" }, t.message) : null),
      el("td", { class: "num" }, fmt(t.steps)),
      el("td", { class: "num" }, fmt(summary.regions ?? 0)),
      el("td", { class: "num" }, violations ? el("span", { class: "badge violation" }, fmt(violations)) : "0"),
      el("td", {}, el("span", { class: "badge " + t.status, title: t.message || t.truncated || "" }, t.status)),
      el("td", { class: "small" }, date(t.created)),
      el("td", {}, el("div", { class: "trace-actions" },
        ready ? el("a", { class: "btn", href: `/traces/${t.id}/timeline`, title: "Region timeline" }, "Timeline") : null,
        el("button", { class: "btn danger", type: "button", title: `Delete trace ${t.id}`, "aria-label": `Delete ${t.name}`,
                       onclick: () => remove(t) }, "Delete"))));
  }

  async function remove(t) {
    if (!window.confirm(`Delete the trace of ${t.name}?`)) return;
    try {
      await api(`/api/traces/${t.id}`, { method: "DELETE" });
    } catch (err) {
      showError(err.message);
    }
    loadTraces();
    loadSamples();
  }

  loadTraces();
  loadSamples();
})();
