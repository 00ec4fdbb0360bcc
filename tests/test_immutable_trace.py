"""Deep immutability as traced and drawn: its events, and the marks of explicit-only and
unfreezable objects, checked by their facts (as test_diagram_facts.py does)."""

from __future__ import annotations

import contextlib
import io

import pytest
from test_mermaid import parse

from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.views.mermaid import to_mermaid

PROGRAM = '''
from immutable import freeze, set_freezable, FREEZABLE_NO, explicitlyFreezable

@explicitlyFreezable
class Key:
    pass

class Config:
    def __init__(self):
        self.items = [1, 2]

    def __pre_freeze__(self):
        self.checked = True

config = Config()
key = Key()
blocker = {}
set_freezable(blocker, FREEZABLE_NO)
config.extra = blocker
try:
    freeze(config)
except TypeError:
    pass
del config.extra
freeze(config, key)
done = True
'''


@pytest.fixture
def traced(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM, encoding="utf-8")
    store = TraceStore(tmp_path / "t.db")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        outcome = trace_program(path, store, verify=True)
    yield store, outcome.trace
    store.close()


def _node(graph, label: str) -> int:
    return next(n.id for n in graph.nodes.values() if n.label == label or n.type_name == label)


def test_events_of_a_failed_and_a_successful_freeze(traced):
    store, trace = traced
    steps = store.step_count(trace)
    last = store.step(trace, steps - 1)
    events = [e for s in range(steps) for e in store.step(trace, s).events]
    kinds = [e.kind for e in events]
    assert kinds.count("pre-freeze") == 1  # once, though the first freeze failed
    rolled = [e for e in events if e.kind == "freeze-rolled-back"]
    assert len(rolled) == 1 and "FREEZABLE_NO" in rolled[0].message
    graph = store.step(trace, rolled[0].step)
    blocker = _node(graph, "dict")
    config = _node(graph, "Config")
    assert rolled[0].src == blocker and config in rolled[0].nodes  # what stopped it, what it visited
    assert graph.nodes[config].place == "local"  # nothing was frozen
    frozen = [e for e in events if e.kind == "frozen"]
    assert frozen and config in frozen[-1].nodes
    assert last.nodes[config].place == "frozen"
    assert kinds.index("pre-freeze") < kinds.index("freeze-rolled-back") < kinds.index("frozen")


def test_the_diagram_marks_explicit_only_unfreezable_and_the_blocker(traced):
    store, trace = traced
    steps = store.step_count(trace)
    seen_marks = False
    for step in range(steps):
        graph = store.step(trace, step)
        d = parse(to_mermaid(graph, previous=store.step(trace, step - 1) if step else None))
        for node in graph.nodes.values():
            nid = f"n{node.id}"
            if nid not in d.nodes:
                continue
            if node.detail == "explicit-only":
                assert nid in d.classes.get("explicitonly", set()) and "(explicit-only)" in d.lines_of(nid)
                seen_marks = True
            if node.detail == "not freezable":
                assert nid in d.classes.get("unfreezable", set()) and "(not freezable)" in d.lines_of(nid)
            if node.place == "frozen":
                assert not node.detail.startswith(("explicit", "not freez"))
        for event in graph.events:
            if event.kind == "freeze-rolled-back":
                assert f"n{event.src}" in d.classes.get("error", set())
    assert seen_marks
    last = store.step(trace, steps - 1)
    key = _node(last, "Key")
    assert last.nodes[key].place == "frozen"  # passed to freeze itself: frozen
