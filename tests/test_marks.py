"""Presentation marks and captions (`pyrona.views.marks`), hidden variables in the diagrams,
and the slides of a trace (`pyrona/slides.py`) on a real trace."""

from __future__ import annotations

from pyrona.slides import hidden_names, presentation_view
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.views.marks import captions, docstring, read_marks, without_marks
from pyrona.views.mermaid import ViewOptions, to_mermaid

PROGRAM = '''"""Hidden helpers

A region, a frozen config and a helper that the audience need not see.
"""
from pyrona import Region, Obj, freeze
# pyrona: hide scratch, tmp

# the queue lives in a region
queue = Region()
queue.job = Obj(name="build")  # pyrona: slide The job moves in

scratch = Obj(note="not shown")
tmp = [scratch]
# freeze the configuration
# pyrona: slide
config = freeze({"retries": 3})
x = 1
'''


def test_marks_read_slides_and_hidden_names():
    marks = read_marks(PROGRAM)
    assert marks.hidden == frozenset({"scratch", "tmp"})
    assert marks.slides == {10: "The job moves in", 16: ""}  # a lone mark: the next code line
    assert read_marks("x = 1\n# pyrona: thumbnail\ny = 2\n").slides == {}


def test_a_line_is_captioned_by_the_comment_above_it_in_its_paragraph():
    notes = captions(PROGRAM)
    assert notes[9] == notes[10] == "the queue lives in a region"
    assert 12 not in notes and 13 not in notes  # a new paragraph with no comment
    assert notes[16] == notes[17] == "freeze the configuration"  # the mark is no caption
    assert docstring(PROGRAM).startswith("Hidden helpers")
    assert docstring("def (:") == ""
    assert without_marks("x = 1  # pyrona: slide big") == "x = 1"


def test_hidden_variables_and_what_only_they_reach_are_not_drawn(tmp_path):
    db = tmp_path / "t.db"
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    store = TraceStore(db)
    trace = trace_program(prog, store).trace
    try:
        last = store.step_count(trace) - 1
        graph = store.step(trace, last)
        shown = to_mermaid(graph)
        hidden = to_mermaid(graph, ViewOptions(hidden_names=hidden_names(store, trace)))
        assert "not shown" in shown and "tmp" in shown
        assert "not shown" not in hidden and "|\"tmp\"|" not in hidden and "scratch" not in hidden
        assert "queue" in hidden and "config" in hidden
        view = presentation_view(store, trace)
        assert view["from"] == "marks" and view["hidden"] == ["scratch", "tmp"]
        assert [(s["line"], s["caption"]) for s in view["slides"]] == [
            (10, "The job moves in"), (16, "freeze the configuration")]
        for s in view["slides"]:  # the slide shows what its line did
            steps = store.steps(trace, s["step"], 2)
            assert steps[0].line == s["line"] and steps[1].line != s["line"]
        assert view["captions"]["9"] == "the queue lives in a region"
        assert view["docstring"].startswith("Hidden helpers")
    finally:
        store.close()


def test_without_marks_the_slides_are_region_events_and_violations(tmp_path):
    db = tmp_path / "t.db"
    prog = tmp_path / "prog.py"
    prog.write_text("from pyrona import Region, Obj\nr = Region()\ns = Region()\nr.a = Obj()\n"
                    "try:\n    s.b = r.a\nexcept Exception:\n    pass\n")
    store = TraceStore(db)
    trace = trace_program(prog, store).trace
    try:
        view = presentation_view(store, trace)
        kinds = {e.step: e.kind for e in store.events(trace) if e.kind != "moved"}
        assert view["from"] == "events"
        assert [s["step"] for s in view["slides"]] == sorted(kinds)
        assert [s["kind"] for s in view["slides"]].count("violation") == 1
    finally:
        store.close()


def test_a_comment_at_the_end_of_a_line_is_its_caption_and_strings_hold_no_comments():
    source = 'x = 1  # one\n# above\ny = """\n# not a comment\n"""\nz = 2  # pyrona: slide\n'
    assert captions(source) == {1: "one", 3: "above", 4: "above", 5: "above", 6: "above"}
    assert captions("x = (\n") == {}


def test_with_no_marks_and_no_events_a_slide_per_commented_paragraph(tmp_path):
    db = tmp_path / "t.db"
    prog = tmp_path / "prog.py"
    prog.write_text("from pyrona import Obj\n# make one\na = Obj()\nb = 1\n\n# make two\nc = Obj()\nd = 2\n")
    store = TraceStore(db)
    trace = trace_program(prog, store).trace
    try:
        view = presentation_view(store, trace)
        assert view["from"] == "captions"
        assert [(s["line"], s["caption"]) for s in view["slides"]] == [(4, "make one"), (8, "make two")]
    finally:
        store.close()


def test_a_comment_ending_in_a_mark_keeps_its_words():
    source = "x = 1  # the cells move in  # pyrona: thumbnail\n# pyrona: slide\ny = 2\n"
    assert captions(source) == {1: "the cells move in"}
    assert read_marks(source).slides == {3: ""}
