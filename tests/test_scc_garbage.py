"""Cyclic immutable garbage through SCCs (pyrona.runtime.sccs): each SCC of frozen objects
has one count of references from outside it; at zero the runtime lets it go and CPython
frees it at once, cycles included (checked with weak references and the cycle collector
off); traced, `scc-collected` comes at the step that dropped the last reference and the
diagram draws the SCC fading out."""

from __future__ import annotations

import contextlib
import gc
import io
import weakref
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_mermaid import parse

from pyrona import Cown, Region, collect_frozen, freeze
from pyrona.runtime.lifecycle import collect_garbage
from pyrona.runtime.sccs import scc_summary
from pyrona.runtime.state import RUNTIME
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.views.mermaid import to_mermaid

SAMPLE = Path(__file__).parent.parent / "sample_programs" / "frozen_scc_garbage.py"


class Node:
    def __init__(self, name: str) -> None:
        self.name = name
        self.out: list[Node] = []


@pytest.fixture(autouse=True)
def fresh_runtime():
    RUNTIME.reset()
    gc.disable()  # what is freed here is freed by reference counting, not by the cycle collector
    yield
    gc.enable()
    RUNTIME.reset()


def _ring(*names: str) -> list[Node]:
    nodes = [Node(n) for n in names]
    for a, b in zip(nodes, nodes[1:] + nodes[:1], strict=True):
        a.out.append(b)
    return nodes


def test_a_frozen_cycle_held_by_nothing_is_freed_as_a_unit():
    a, b, c = _ring("a", "b", "c")
    freeze(a)
    watch = [weakref.ref(x) for x in (a, b, c)]
    assert collect_frozen() == []  # held by a, b, c
    del b, c
    assert collect_frozen() == []  # still held by a: the whole ring is one SCC
    del a
    dead = collect_frozen()
    assert [len(objs) for objs in dead] == [9]  # 3 instances, their dicts and lists
    del dead
    assert [w() for w in watch] == [None, None, None]
    assert not [o for o in RUNTIME.frozen_objects() if type(o) in (Node, dict, list)]  # (the class stays)


def test_each_scc_has_one_count_of_references_from_outside():
    a, b = _ring("a", "b")
    tail = Node("tail")
    b.out.append(tail)
    freeze(a)
    sizes = dict(scc_summary())
    assert sizes[6] == 2  # the ring: `a` and `b` hold it
    assert sizes[2] == 2  # the tail (and its dict): `tail`, and the ring's list
    del a
    assert dict(scc_summary())[6] == 1


def test_a_chain_of_sccs_held_only_by_the_first_goes_in_one_collection():
    first, second = _ring("f1", "f2"), _ring("s1", "s2")
    first[1].out.append(second[0])
    freeze(first[0])
    watch = weakref.ref(second[1])
    del second
    assert collect_frozen() == []
    del first
    assert len(collect_frozen()) == 2  # referrers first: the second's count fell to zero with it
    assert watch() is None


@pytest.mark.parametrize("holder", ["local", "cown", "region", "frozen"])
def test_an_scc_referenced_from_anywhere_stays(holder):
    ring = _ring("x", "y")
    freeze(ring[0])
    watch = weakref.ref(ring[0])
    keep: object
    if holder == "local":
        keep = [ring[0]]
    elif holder == "cown":
        keep = Cown(ring[0])
    elif holder == "region":
        keep = Region()
        keep.ring = ring[0]
    else:
        keep = Node("other")
        keep.out.append(ring[1])
        freeze(keep)  # another frozen SCC refers to it
    del ring
    collect_frozen()
    assert watch() is not None
    del keep
    collect_garbage()  # (the region first: it holds its members until it is collected)
    collect_frozen()
    assert watch() is None


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 9).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
    st.sets(st.integers(0, n - 1)),
)))
def test_what_is_freed_is_exactly_what_the_kept_objects_do_not_reach(case):
    n, links, kept_ids = case
    RUNTIME.reset()
    nodes = [Node(str(i)) for i in range(n)]
    for a, b in links:
        nodes[a].out.append(nodes[b])
    freeze(*nodes)
    reach = set(kept_ids)
    todo = list(kept_ids)
    while todo:
        at = todo.pop()
        for b in (b for a, b in links if a == at):
            if b not in reach:
                reach.add(b)
                todo.append(b)
    kept = [nodes[i] for i in sorted(kept_ids)]
    watch = [weakref.ref(x) for x in nodes]
    del nodes
    collect_frozen()
    alive = {i for i, w in enumerate(watch) if w() is not None}
    assert alive == reach
    del kept


def test_traced_the_sccs_go_at_the_step_that_dropped_them_and_fade_out(tmp_path):
    store = TraceStore(tmp_path / "t.db")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        trace = trace_program(SAMPLE, store, verify=True).trace
    assert "north loop gone: True" in out.getvalue() and "terminus gone: True" in out.getvalue()
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    steps = store.steps(trace)
    collected = [e for s in range(len(steps)) for e in store.step(trace, s).events
                 if e.kind == "scc-collected"]
    by_line = {}
    for event in collected:
        by_line.setdefault(lines[steps[event.step].line - 1].split("#")[0].strip(), []).append(event)
    # each at the step of the line that dropped the last reference from outside
    assert {k: len(v) for k, v in by_line.items()} == {"del north": 1, "del south": 1, "del end": 2}
    assert sorted(len(e.nodes) for e in collected) == [1, 1, 4, 4]  # the loops' stops and lists
    for event in collected:
        graph = store.step(trace, event.step)
        previous = store.step(trace, event.step - 1)
        assert all(graph.nodes[n].place == "frozen" for n in event.nodes)
        d = parse(to_mermaid(graph, previous=previous))
        assert {f"n{n}" for n in event.nodes} <= d.classes.get("collected", set())
        later = store.step(trace, event.step + 1)
        assert not set(event.nodes) & set(later.nodes)  # gone the step after
    store.close()


def test_the_scc_view_gives_each_sccs_count_over_time_down_to_its_collection(tmp_path):
    from fastapi.testclient import TestClient

    from pyrona.server.app import create_app
    from pyrona.server.settings import Limits, ServerSettings

    settings = ServerSettings(db=tmp_path / "traces.db", limits=Limits(cpu_seconds=10, wall_seconds=30))
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/traces", json={"sample": "frozen_scc_garbage"})
        assert response.status_code == 201
        trace = response.json()["id"]
        assert client.app.state.jobs.wait(trace, 60)
        assert client.get(f"/api/traces/{trace}").json()["status"] == "done"
        body = client.get(f"/api/traces/{trace}/sccs/history").json()
        page = client.get(f"/traces/{trace}/sccs")
    assert page.status_code == 200 and 'id="scc-history"' in page.text
    loops = [s for s in body["sccs"] if s["size"] == 4]
    assert len(loops) == 2 and all(s["collected_at"] is not None for s in loops)
    for scc in loops:
        steps = [step for step, _ in scc["counts"]]
        assert steps == sorted(steps) and steps[-1] == scc["collected_at"]
        assert scc["counts"][-1][1] == 0 and all(count > 0 for _, count in scc["counts"][:-1])
        assert "Stop" in " ".join(scc["names"])
    assert body["sampled"] <= body["steps"]
