"""Messages name objects as the diagram does (`#17 Job`), the store keeping the runtime's
own text; counts read "1 violation", "2 violations"."""

from __future__ import annotations

import re

import pytest

from pyrona.exports import write_json, write_markdown
from pyrona.server.viewmodels import event_dict
from pyrona.tracer.model import Event
from pyrona.tracer.naming import mention_nodes, named_message, plural
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.views.text import step_text

ADDRESS = re.compile(r"0x[0-9a-f]{6,}")


@pytest.fixture
def store(tmp_path):
    return TraceStore(tmp_path / "traces.db")


def traced(store, tmp_path, source):
    program = tmp_path / "prog.py"
    program.write_text(source)
    outcome = trace_program(program, store)
    [violation] = store.events(outcome.trace, kinds=("violation",))
    return outcome, violation


def test_named_message_replaces_each_mention_in_order():
    message = "x: <__main__.Job object at 0x7fa0868e8830> may not reference <Cown at 0x7f3c5292ed10 released>"
    assert named_message(message, (17, 4)) == "x: #17 Job may not reference #4 Cown (released)"
    assert named_message("<Region #2> in region #2", ()) == "Region #2 in region #2"
    # a mention without its node (the tracer could not name it): the text stays as it was
    assert named_message(message, (17,)) == message
    assert named_message("plain text", ()) == "plain text"


def test_mention_nodes_are_all_or_nothing():
    message = "<a.B object at 0x10> and <C at 0x20>"
    assert mention_nodes(message, {0x10: 3, 0x20: 5}.get) == (3, 5)
    assert mention_nodes(message, {0x10: 3}.get) == ()


@pytest.mark.parametrize("count, text", [(0, "0 violations"), (1, "1 violation"), (2, "2 violations"),
                                         (1200, "1,200 violations")])
def test_plural(count, text):
    assert plural(count, "violation") == text
    assert plural(1, "child", "children") == "1 child" and plural(3, "child", "children") == "3 children"


def test_a_violation_names_its_objects_and_the_store_keeps_the_original(store, tmp_path):
    outcome, violation = traced(store, tmp_path, """\
from pyrona import Region

class Job:
    pass

queue = Region()
queue.job = Job()
audit = Region()
audit.last = queue.job
""")
    assert ADDRESS.search(violation.message), "the store keeps the runtime's own text"
    assert "<__main__.Job object at" in violation.message
    text = violation.text
    assert not ADDRESS.search(text) and "<" not in text
    assert f"may not reference #{violation.dst} Job in region #1" in text
    assert text.startswith("Cannot reference an object from another region: Region #2 in region #2")
    graph = store.step(outcome.trace, violation.step)
    assert graph.nodes[violation.dst].type_name == "Job"
    # everywhere it is shown: the API, the step as text, the exports, the run's status
    assert event_dict(violation)["message"] == text and event_dict(violation)["original"] == violation.message
    [step] = store.steps(outcome.trace, violation.step, 1)
    assert text in step_text(step, graph)
    assert f"RegionViolationError: {text}" in store.trace(outcome.trace).message
    md, js = tmp_path / "t.md", tmp_path / "t.json"
    with md.open("w") as out:
        write_markdown(store, outcome.trace, range(outcome.steps), out)
    with js.open("w") as out:
        write_json(store, outcome.trace, range(outcome.steps), out)
    assert f"**Violation:** {text}" in md.read_text() and not ADDRESS.search(md.read_text())
    assert text in js.read_text()


def test_a_released_cown_is_named_with_its_state(store, tmp_path):
    _outcome, violation = traced(store, tmp_path, """\
from pyrona import Cown, freeze

c = Cown(freeze([1, 2]))
try:
    c.value
except Exception:
    pass
""")
    expected = f"Cannot access data on a cown that is not aquired: #{violation.src} Cown (released)"
    assert violation.text == expected


def test_other_events_keep_their_text():
    event = Event(3, "moved", 1, (4, 5), "")
    assert event.text == ""
