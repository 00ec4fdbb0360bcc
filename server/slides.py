"""Presentation mode's data: a trace's slides, captions and hidden names (GET .../slides).

Slides are the steps a presenter shows. The viewer's bookmarks come first (kept in the
browser); without them, the steps of lines marked `# pyrona: slide [caption]`; without
marks, every step with region events or a violation. Captions come from the program's
comments (`pyrona.views.marks`), so an unannotated sample presents well too.
"""

from __future__ import annotations

from pyrona.tracer.store import TraceStore
from pyrona.views.marks import captions, docstring, read_marks

#: region events that make a slide when the program marks none (moves come with their cause)
SKIPPED_KINDS = frozenset({"moved", "pre-freeze"})
#: at most this many slides (a mark in a hot loop)
MAX_SLIDES = 500


def main_source(store: TraceStore, trace: int) -> tuple[str, str] | None:
    """(path, source) of the program's own file (file 0), or None."""
    return store.files(trace).get(0)


def hidden_names(store: TraceStore, trace: int) -> frozenset[str]:
    """The variables the program hides from its diagrams (`# pyrona: hide NAME`)."""
    main = main_source(store, trace)
    return read_marks(main[1]).hidden if main else frozenset()


def presentation_view(store: TraceStore, trace: int) -> dict:
    """`{"docstring", "captions": {line: text}, "hidden": [...], "from": "marks"|"events",
    "slides": [{"step", "line", "caption", "kind"}]}`: captions of the program's own file."""
    main = main_source(store, trace)
    path, source = main if main else ("", "")
    marks = read_marks(source)
    notes = captions(source)
    slides: list[dict] = []
    if marks.slides:
        last = None  # a run of steps at one line: its last shows what the line did
        for step in store.steps(trace):
            at = step.line if step.file == path and step.line in marks.slides else None
            if last is not None and (at is None or at != last["line"] or step.event == "call"):
                slides.append(last)
            last = None
            if at is not None:
                caption = marks.slides[at] or notes.get(at, "")
                last = {"step": step.index, "line": at, "caption": caption, "kind": "mark"}
            if len(slides) >= MAX_SLIDES:
                break
        if last is not None and len(slides) < MAX_SLIDES:
            slides.append(last)
    if not slides:
        by_step: dict[int, dict] = {}
        for ev in store.events(trace):
            if ev.kind in SKIPPED_KINDS:
                continue
            slide = by_step.setdefault(ev.step, {"step": ev.step, "line": None, "caption": "",
                                                 "kind": ev.kind})
            if ev.kind == "violation":
                slide["kind"] = "violation"
            if len(by_step) >= MAX_SLIDES:
                break
        slides = [by_step[s] for s in sorted(by_step)]
    return {"docstring": docstring(source), "captions": {str(k): v for k, v in notes.items()},
            "hidden": sorted(marks.hidden), "from": "marks" if marks.slides else "events", "slides": slides}
