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
    seen_marks = seen_rollback = seen_hook = False
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
                # what stopped it outlined in red (its class last: mermaid's last class wins),
                # what it visited on the way pale teal
                assert f"n{event.src}" in d.classes.get("error", set())
                classes = [line for line in to_mermaid(graph).splitlines() if line.startswith("class ")]
                assert classes[-1].endswith(" error")
                visited = {f"n{n}" for n in event.nodes if n != event.src} & set(d.nodes)
                assert visited and visited <= d.classes.get("visited", set())
                seen_rollback = True
            if event.kind == "pre-freeze":
                assert {f"n{n}" for n in event.nodes} <= d.classes.get("hooked", set())
                seen_hook = True
    assert seen_marks and seen_rollback and seen_hook
    last = store.step(trace, steps - 1)
    key = _node(last, "Key")
    assert last.nodes[key].place == "frozen"  # passed to freeze itself: frozen


FUNCTIONS = '''
from immutable import freeze

rates = {"eur": 1.0}
log = []

def convert(amount):
    return amount * rates["eur"]

def make_counter():
    count = [0]
    def step():
        count[0] += 1
        return count[0]
    return step

counter = make_counter()
before = True
freeze(convert, counter)
rates = {"eur": 2.0}
log.append(convert(3))
done = True
'''


def _trace(tmp_path, source: str):
    path = tmp_path / "prog.py"
    path.write_text(source, encoding="utf-8")
    store = TraceStore(tmp_path / "t.db")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        outcome = trace_program(path, store, verify=True)  # (verify: the snapshot's slots are real)
    return store, outcome.trace


def test_a_frozen_function_is_drawn_with_its_private_snapshot(tmp_path):
    store, trace = _trace(tmp_path, FUNCTIONS)
    try:
        steps = store.step_count(trace)
        frozen_at = next(s for s in range(steps)
                         if any(e.kind == "frozen" for e in store.step(trace, s).events))
        before, after, last = (store.step(trace, s) for s in (frozen_at - 1, frozen_at, steps - 1))
        convert = _node(after, "convert")
        step = _node(after, "make_counter.<locals>.step")
        old_rates = next(e.dst for e in after.edges if e.src == convert)
        # before: a function like any other, hidden with the program's structure
        assert before.nodes[convert].detail == "" and before.nodes[convert].place == "local"
        assert f"n{convert}" not in parse(to_mermaid(before)).nodes
        # after: frozen, detached, drawn by default, its snapshot's `rates` edge to the frozen dict
        assert after.nodes[convert].detail == "detached" and after.nodes[convert].place == "frozen"
        assert [(e.name, e.dst) for e in after.edges if e.src == convert] == [("rates", old_rates)]
        assert after.nodes[old_rates].place == "frozen"
        assert [e.name for e in after.edges if e.src == step] == ["count (captured)"]
        d = parse(to_mermaid(after))
        assert "(detached: own globals)" in d.lines_of(f"n{convert}")
        assert any(e[0] == f"n{convert}" and e[2] == "rates" and e[3] == f"n{old_rates}" for e in d.edges)
        # the module's globals stay mutable: rebinding `rates` does not reach the snapshot
        module = next(n.id for n in last.nodes.values() if n.kind == "globals")
        new_rates = next(e.dst for e in last.edges if e.src == module and e.name == "rates")
        assert new_rates != old_rates and last.nodes[new_rates].place == "local"
        assert [(e.name, e.dst) for e in last.edges if e.src == convert] == [("rates", old_rates)]
    finally:
        store.close()


HATCHES = '''
import random
from immutable import InterpreterLocal, SharedField, freeze

class Service:
    def __init__(self):
        self.version = SharedField(1)
        self.cache = InterpreterLocal(lambda: {})

def coin():
    return random.random()

service = Service()
freeze(service, coin)
service.version.compare_and_swap(1, 2)
cache = service.cache.get()
cache["q"] = [1]
done = True
'''


def test_a_module_proxy_and_the_escape_hatches_are_drawn_as_such(tmp_path):
    from pyrona.analysis.invariants import check_invariants

    store, trace = _trace(tmp_path, HATCHES)
    try:
        last = store.step(trace, store.step_count(trace) - 1)
        module = next(n for n in last.nodes.values() if n.kind == "module" and n.label == "module random")
        field, local = (next(n for n in last.nodes.values() if n.kind == "instance" and n.type_name == name)
                        for name in ("SharedField", "InterpreterLocal"))
        # the proxy counts as frozen and is drawn though modules are structure; the hatches say
        # what stays mutable in them
        assert (module.place, module.detail) == ("frozen", "immutable proxy")
        assert (field.detail, local.detail) == ("shared cell", "per interpreter")
        d = parse(to_mermaid(last))
        assert "(immutable proxy: its variables stay mutable)" in d.lines_of(f"n{module.id}")
        assert "(mutable cell: atomic swaps)" in d.lines_of(f"n{field.id}")
        assert "(one value per interpreter)" in d.lines_of(f"n{local.id}")
        assert [f.value for f in last.fields if f.node == field.id] == ["2"]  # swapped inside frozen data
        # this interpreter's mutable cache, held by frozen data, breaks no invariant
        assert any(e.src == local.id for e in last.edges) and check_invariants(last) == []
    finally:
        store.close()
