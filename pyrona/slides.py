"""Presentation mode's data: a trace's slides, captions and hidden names (GET .../slides).

Slides are the steps a presenter shows. The viewer's bookmarks come first (kept in the
browser); without them, the steps of lines marked `# pyrona: slide [caption]`; without
marks, every step with region events or a violation. Captions come from the program's
comments (`pyrona.views.marks`), so an unannotated sample presents well too.
"""

from __future__ import annotations

from pyrona.tracer.store import TraceStore
from pyrona.views.marks import captions, docstring, read_marks

#: the region events that make a slide when the program marks none (a move comes with its
#: cause; behaviours and cown hand-overs are too many to present one by one)
SLIDE_KINDS = frozenset({"created", "became-child", "unparented", "frozen", "closed", "opened", "merged",
                         "dissolved", "collected", "cown-created", "violation", "freeze-rolled-back"})
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
            if ev.kind not in SLIDE_KINDS:
                continue
            slide = by_step.setdefault(ev.step, {"step": ev.step, "line": None, "caption": "",
                                                 "kind": ev.kind})
            if ev.kind == "violation":
                slide["kind"] = "violation"
            if len(by_step) >= MAX_SLIDES:
                break
        slides = [by_step[s] for s in sorted(by_step)]
        for slide in slides:  # the line each one is at, for its caption
            [step] = store.steps(trace, slide["step"], 1) or [None]
            if step is not None and step.file == path:
                slide["line"] = step.line
                slide["caption"] = notes.get(step.line, "")
    source_of_slides = "marks" if marks.slides else "events"
    if not slides:
        slides, source_of_slides = paragraph_slides(store, trace, path, notes), "captions"
    return {"docstring": docstring(source), "captions": {str(k): v for k, v in notes.items()},
            "hidden": sorted(marks.hidden), "from": source_of_slides, "slides": slides}


def paragraph_slides(store: TraceStore, trace: int, path: str, notes: dict[int, str]) -> list[dict]:
    """With no marks and no region events: a slide per captioned paragraph of the program,
    at the last step of the program's own file before the caption changes."""
    slides: list[dict] = []
    last = None
    for step in store.steps(trace):
        if step.file != path:
            continue
        caption = notes.get(step.line, "")
        if last is not None and caption != last["caption"] and last["caption"]:
            slides.append(last)
            if len(slides) >= MAX_SLIDES:
                return slides
        last = {"step": step.index, "line": step.line, "caption": caption, "kind": "caption"}
    if last is not None and last["caption"]:
        slides.append(last)
    return slides
