"""Exports of a trace, shared by the CLI (`pyrona export`) and the server: mermaid, markdown, JSON, HTML.

Markdown is one titled mermaid block per step, like FrankenScript's output (GitHub
renders it); JSON is every step's graph; HTML is a self-contained page (the steps'
diagrams and mermaid itself inline) that works offline.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import asdict

from .tracer.naming import plural
from .tracer.store import StoreError, TraceStore

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import TextIO

    from .tracer.model import Step, StepGraph


def step_index(store: TraceStore, trace: int, step: int | None) -> int:
    """The index of `step` (default: the last; negative counts from the end, -1 the last);
    a StoreError names the valid range if there is no such step."""
    count = store.step_count(trace)
    if count == 0:
        raise StoreError(f"trace {trace} has no steps")
    if step is None:
        return count - 1
    index = step + count if step < 0 else step
    if not 0 <= index < count:
        steps = f"{count} steps: 0 to {count - 1}, or -{count} to -1 from the end" if count > 1 \
            else "1 step: 0, or -1 from the end"
        raise StoreError(f"step {step} is out of range: trace {trace} has {steps}")
    return index


def load_step(store: TraceStore, trace: int, step: int | None) -> tuple[Step, StepGraph]:
    """A step (default: the last; negative counts from the end) and its graph."""
    index = step_index(store, trace, step)
    graph = store.step(trace, index)
    [info] = store.steps(trace, index, 1)
    return info, graph


def source_line(store: TraceStore, trace: int, file: str, line: int) -> str:
    """Line `line` of the recorded file `file` ('' if unknown)."""
    for path, source in store.files(trace).values():
        if path == file:
            lines = source.splitlines()
            return lines[line - 1] if 0 < line <= len(lines) else ""
    return ""


def step_range(store: TraceStore, trace: int, step: int | None = None) -> range:
    """All the steps of a trace, or just `step` (negative counts from the end)."""
    if step is not None:
        index = step_index(store, trace, step)
        return range(index, index + 1)
    return range(store.step_count(trace))


def write_mermaid(store: TraceStore, trace: int, step: int | None, out: TextIO) -> None:
    from .views.mermaid import to_mermaid

    _info, graph = load_step(store, trace, step)
    out.write(to_mermaid(graph) + "\n")


def write_markdown(store: TraceStore, trace: int, steps: range, out: TextIO, note: str = "") -> None:
    """One titled mermaid block per step, what changed since the step before outlined."""
    from .views.mermaid import to_mermaid

    info = store.trace(trace)
    out.write(f"# {info.name}\n\n" + (f"{note}\n\n" if note else ""))
    previous = None
    for index in steps:
        [step] = store.steps(trace, index, 1)
        graph = store.step(trace, index)
        source = source_line(store, trace, step.file, step.line).strip()
        after = {"return": " (back from a call)", "raise": " (an exception came back)"}.get(step.event, "")
        out.write(f"## Step {index}: line {step.line}{after}\n\n`{source}`\n\n")
        out.write("".join(f"> **Violation:** {text}\n\n" for text in violation_texts(graph)))
        out.write("```mermaid\n")
        out.write(to_mermaid(graph, previous=previous))
        out.write("\n```\n\n")
        previous = graph


def write_json(store: TraceStore, trace: int, steps: range, out: TextIO) -> None:
    """`{"trace", "files", "steps": [{"step", "graph"}]}`, written step by step."""
    info = store.trace(trace)
    files = {path: source for path, source in store.files(trace).values()}
    out.write(json.dumps({"trace": info._asdict(), "files": files})[:-1])
    out.write(', "steps": [')
    for i, index in enumerate(steps):
        [step] = store.steps(trace, index, 1)
        graph = store.step(trace, index)
        record = {"step": asdict(step), "graph": {
            "nodes": [asdict(n) for n in graph.nodes.values()],
            "edges": [asdict(e) for e in graph.edges],
            "fields": [asdict(f) for f in graph.fields],
            "regions": [asdict(r) for r in graph.regions.values()],
            "events": [{**asdict(e), "text": e.text} for e in graph.events]}}
        out.write(("," if i else "") + "\n" + json.dumps(record))
    out.write("\n]}\n")


def write_html(store: TraceStore, trace: int, steps: range, out: TextIO, mermaid_js: str | None,
               note: str = "") -> None:
    """A self-contained page: every step's diagram as mermaid text, drawn one at a time by
    mermaid inlined in the page (without it, the diagrams show as text)."""
    from .views.mermaid import to_mermaid

    info = store.trace(trace)
    records, previous = [], None
    for index in steps:
        [step] = store.steps(trace, index, 1)
        graph = store.step(trace, index)
        records.append({"index": index, "line": step.line, "file": os.path.basename(step.file),
                        "source": source_line(store, trace, step.file, step.line).strip(),
                        "violations": violation_texts(graph),
                        "mermaid": to_mermaid(graph, previous=previous)})
        previous = graph
    title = html.escape(f"{info.name}: trace {info.id}")
    status = f"{info.status}, {plural(info.steps, 'step')}" + (f": {info.message}" if info.message else "")
    out.write(_HTML_HEAD.format(title=title, status=html.escape(status), note=html.escape(note)))
    out.write(f"<script>const STEPS = {_script_safe(json.dumps(records))};</script>\n")
    if mermaid_js:
        out.write(f"<script>{_script_safe(mermaid_js)}</script>\n")
    out.write(_HTML_TAIL)


def violation_texts(graph: StepGraph) -> list[str]:
    """The step's violations as people read them (objects named as the diagram names them)."""
    return [e.text for e in graph.events if e.kind == "violation"]


def _script_safe(text: str) -> str:
    """Text that cannot end or confuse the <script> element it goes in (same meaning in JS)."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE).replace("<!--", "<\\!--")


_HTML_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 1.2rem; color: #1d2433; }}
header {{ display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }}
code {{ background: #f1f3f7; padding: .1rem .35rem; border-radius: 4px; }}
#diagram {{ margin-top: 1rem; overflow: auto; border: 1px solid #d9dee7; border-radius: 6px;
  padding: .5rem; }}
.violation {{ color: #b71c1c; font-weight: 600; }}
pre.mermaid-text {{ white-space: pre-wrap; font-size: 12px; }}
input[type=range] {{ width: min(40rem, 90vw); }}
</style></head><body>
<h1>{title}</h1><p>{status}</p><p>{note}</p>
<header><button id="prev">&larr; step</button><input id="slider" type="range" min="0" value="0">
<button id="next">step &rarr;</button><span id="where"></span></header>
<p><code id="line"></code></p><p id="violation" class="violation" hidden></p><div id="diagram"></div>
"""

_HTML_TAIL = """<script>
(function () {
  let at = 0, drawn = 0;
  const $ = (id) => document.getElementById(id);
  const slider = $("slider");
  slider.max = Math.max(STEPS.length - 1, 0);
  if (window.mermaid) window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  async function show(i) {
    if (!STEPS.length) { $("where").textContent = "no steps"; return; }
    at = Math.max(0, Math.min(STEPS.length - 1, i));
    const s = STEPS[at], ticket = ++drawn;
    slider.value = at;
    $("where").textContent = `step ${s.index} (${at + 1} of ${STEPS.length}), ${s.file} line ${s.line}`;
    $("line").textContent = s.source;
    $("violation").textContent = (s.violations || []).join(" · ");
    $("violation").hidden = !(s.violations || []).length;
    if (!window.mermaid) {
      const pre = document.createElement("pre");
      pre.className = "mermaid-text";
      pre.textContent = s.mermaid;
      $("diagram").replaceChildren(pre);
      return;
    }
    try {
      const { svg } = await window.mermaid.render(`d${ticket}`, s.mermaid);
      if (ticket === drawn) $("diagram").innerHTML = svg;
    } catch (err) {
      $("diagram").textContent = String(err);
    }
  }
  $("prev").onclick = () => show(at - 1);
  $("next").onclick = () => show(at + 1);
  slider.oninput = () => show(Number(slider.value));
  document.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") show(at - 1);
    if (e.key === "ArrowRight") show(at + 1);
  });
  show(0);
})();
</script></body></html>
"""
