"""Exports of a trace, shared by the CLI (`pyrona export`) and the server: mermaid, markdown, JSON, HTML.

Markdown is one titled mermaid block per step, like FrankenScript's output (GitHub
renders it); JSON is every step's graph; HTML is the viewer itself in one file that works
offline (`server/offline.py`); pictures (SVG, PNG, GIF, PDF) are drawn in Chromium
(`pyrona/pictures.py`).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict

from .tracer.store import StoreError, TraceStore
from .slides import presentation_view

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
    """One titled mermaid block per step, laid out as FrankenScript's output is (the line in a
    `<pre>`, the diagram on white, a page break after it), what changed since the step before
    outlined."""
    from .views.mermaid import to_mermaid

    info = store.trace(trace)
    out.write(f"# {info.name}\n\n" + (f"{note}\n\n" if note else ""))
    previous = None
    for index in steps:
        [step] = store.steps(trace, index, 1)
        graph = store.step(trace, index)
        source = source_line(store, trace, step.file, step.line).strip()
        after = {"return": " (back from a call)", "raise": " (an exception came back)"}.get(step.event, "")
        # FrankenScript's layout of a step: the line, the diagram on white, a page break
        line = html.escape(f"Line {step.line}: {source}", quote=False)
        out.write(f"## Step {index}{after}\n\n<pre><code>{line}</code></pre>\n\n")
        out.write("".join(f"> **Violation:** {text}\n\n" for text in violation_texts(graph)))
        out.write("<div style='background: #fff'>\n\n```mermaid\n")
        out.write(to_mermaid(graph, previous=previous))
        out.write("\n```\n</div>\n<div style='break-after:page'></div>\n\n")
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


def write_html(store: TraceStore, trace: int, out: TextIO, step: int = 0, note: str = "") -> None:
    """The viewer itself as one self-contained page, opened at `step`: the same template and
    scripts the server serves, inlined, and the trace's steps inside (works offline)."""
    from .server.offline import viewer_page

    out.write(viewer_page(store, trace, step, note))


def violation_texts(graph: StepGraph) -> list[str]:
    """The step's violations as people read them (objects named as the diagram names them)."""
    return [e.text for e in graph.events if e.kind == "violation"]


#: at most this many slides are drawn at once
MAX_SLIDES = 60
#: the formats drawn in Chromium (`pyrona/pictures.py`)
PICTURES = ("svg", "png", "gif", "pdf")


def slide_steps(store: TraceStore, trace: int, bookmarks: list[int] | None = None) -> list[int]:
    """The steps a presentation shows: the bookmarks if given, else presentation mode's slides
    (`pyrona.views.slides`: marked lines, else region events and violations, else captioned
    paragraphs), else the last step. At most MAX_SLIDES."""
    if bookmarks:
        return sorted({step_index(store, trace, b) for b in bookmarks})[:MAX_SLIDES]
    steps = [s["step"] for s in presentation_view(store, trace)["slides"]]
    return steps[:MAX_SLIDES] or [store.step_count(trace) - 1]


def parse_size(text: str) -> tuple[int, int]:
    """`1280x720` as (1280, 720); a StoreError if it is not a sensible screen size."""
    match = re.fullmatch(r"(\d{2,5})[x×](\d{2,5})", text.strip())
    if not match or not (160 <= int(match[1]) <= 7680 and 120 <= int(match[2]) <= 4320):
        raise StoreError(f"size {text!r} is not WIDTHxHEIGHT between 160x120 and 7680x4320")
    return int(match[1]), int(match[2])


def draw_pictures(store: TraceStore, trace: int, fmt: str, step: int | None = None,
                  slides: list[int] | None = None, size: tuple[int, int] = (1280, 720),
                  deadline: float | None = None) -> list[tuple[str, bytes]]:
    """The files of a picture export, as (name, content): `svg`/`png` of one step (`step`,
    default the last) or of each slide in `slides`; `gif`/`pdf` of the slides in one file.
    Past `deadline` (time.monotonic()) a PictureError stops it."""
    from .pictures import Camera, gif

    name = f"trace-{trace}"
    scale = 2.0 if fmt == "pdf" else 1.0  # (printed: sharper)
    with Camera(store, trace, size=size, scale=scale, deadline=deadline) as camera:
        if fmt in ("gif", "pdf"):
            shots = camera.slides(slides or [step_index(store, trace, step)])
            return [(f"{name}.{fmt}", gif(shots) if fmt == "gif" else camera.pdf(shots))]
        steps = slides if slides is not None else [step_index(store, trace, step)]
        files = []
        for number, index in enumerate(steps, 1):
            camera.show(index)
            data = camera.svg().encode() if fmt == "svg" else camera.png()
            label = f"slide-{number:02d}-step-{index}" if slides is not None else f"step-{index}"
            files.append((f"{name}-{label}.{fmt}", data))
        return files
