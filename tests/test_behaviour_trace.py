"""Behaviours seen in traces: the events name their behaviour and cowns as the diagram
does, and what `analysis.behaviours` derives (who runs at a step, which cown is held by
whom, the queues, happens-before) agrees with the graph the tracer recorded at every step."""

from __future__ import annotations

import contextlib
import io
import itertools
from pathlib import Path

import pytest

from pyrona.analysis.behaviours import behaviours, dag_mermaid, dag_window
from pyrona.tracer.behaviour_events import KINDS, parse
from pyrona.tracer.model import COWN_NODE, Event
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.server.behaviours_view import behaviours_step_view, behaviours_view

SAMPLES = Path(__file__).resolve().parent.parent / "sample_programs"
NAMES = ("concurrency_bank", "concurrency_dining_philosophers", "concurrency_fibonacci",
         "concurrency_data_race", "concurrency_producer_consumer")


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    store = TraceStore(tmp_path_factory.mktemp("behaviours") / "traces.db")
    traces = {}
    for name in NAMES:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            outcome = trace_program(SAMPLES / f"{name}.py", store, verify=True)
        assert store.trace(outcome.trace).summary["verify_problems"] == [], name
        traces[name] = outcome.trace
    return store, traces


def found(store: TraceStore, trace: int):
    return behaviours(store.events(trace, kinds=KINDS), store.trace(trace).steps)


@pytest.mark.parametrize("name", NAMES)
def test_event_text_names_the_cowns_as_the_diagram_does(traced, name):
    store, traces = traced
    trace = traces[name]
    seen = 0
    for event in store.events(trace, kinds=KINDS):
        data = parse(event.edge)
        assert data is not None
        graph = store.step(trace, event.step)
        for _cid, node in data["cowns"]:
            if node:  # the node named is that step's node of a cown
                assert graph.nodes[node].kind == COWN_NODE
                assert f"#{node} Cown" in event.text
                seen += 1
        assert "cown #" not in event.text and "0x" not in event.text
        assert event.text.startswith(f"behaviour #{data['b']} {data['name']} ")
    assert seen


@pytest.mark.parametrize("name", NAMES)
def test_every_step_agrees_with_the_recorded_graph(traced, name):
    """At every step: a behaviour's lines are those of a frame of its function; each
    drawn cown's state is the derived one; an acquired cown's holder is the behaviour
    whose started event came last, and the ones waiting are in scheduling order."""
    store, traces = traced
    trace = traces[name]
    b = found(store, trace)
    assert b.runs
    total = store.trace(trace).steps
    for index in range(total):
        graph = store.step(trace, index)
        run = b.running_at(index)
        if run is not None and run.name != "with block":
            labels = {n.label for n in graph.nodes.values() if n.kind == "frame"}
            assert any(label.split(".")[-1].startswith(run.name) for label in labels), (index, run, labels)
        for cid, node in b.cown_nodes.items():
            drawn = graph.nodes.get(node)
            if not node or drawn is None or drawn.kind != COWN_NODE:
                continue
            holders = [r for r in b.queue_at(cid, index) if r.holds_at(index)]
            assert len(holders) <= 1
            assert (drawn.detail == "acquired") == bool(holders), (index, cid, drawn)


@pytest.mark.parametrize("name", NAMES)
def test_the_rules_of_boc_hold_in_the_derived_history(traced, name):
    """Behaviours sharing a cown ran in scheduling order, one at a time; every
    happens-before edge goes from one that finished to one that started after."""
    store, traces = traced
    b = found(store, traces[name])
    for cid in b.cown_nodes:
        spans = b.cown_spans(cid)
        assert spans == sorted(spans)
        for (_s1, end, first), (start, _e2, second) in itertools.pairwise(spans):
            assert end <= start and first < second
    g = b.happens_before()
    for a, c, data in g.edges(data=True):
        assert b.runs[a].finished is not None and b.runs[c].started is not None
        if data["spawned"]:  # scheduled by a's code, while a ran
            assert b.runs[a].runs_at(b.runs[c].scheduled)
        else:
            assert b.runs[a].finished <= b.runs[c].started
    lanes = b.thread_spans()
    covered = sorted((s, e) for spans in lanes.values() for s, e, _ in spans)
    assert covered[0][0] == 0 and covered[-1][1] == b.total
    assert all(e == s for (_, e), (s, _) in itertools.pairwise(covered))  # one thread at a time, no gap


def test_bank_history(traced):
    store, traces = traced
    b = found(store, traces["concurrency_bank"])
    assert [r.name for r in b.runs.values()] == ["move"] * 12 + ["audit"]
    accounts = [1, 2, 3, 4]  # the first four cowns made
    audit = b.runs[13]
    assert set(accounts) <= set(audit.cowns)
    # the audit waited for the last transfer on each account
    last = {cid: max(r.bid for r in b.runs.values() if cid in r.cowns and r.bid < 13) for cid in accounts}
    assert set(audit.after) == set(last.values())
    assert b.runs[2].after == {1: [2]}  # transfer 2 (bob → cy) waited for transfer 1 on bob's cown
    text = dag_mermaid(b, audit.started + 1)
    assert "b1 -->|" in text and "class b13 running" in text


def test_the_data_race_is_the_behaviour_in_red(traced):
    store, traces = traced
    trace = traces["concurrency_data_race"]
    b = found(store, trace)
    [sneak] = [r for r in b.runs.values() if r.leaks]
    assert sneak.name == "sneak" and sneak.leaks == 1 and not sneak.failed
    violations = store.events(trace, kinds=("violation",))
    assert any(v.step == sneak.finished and "was kept past the end of" in v.text
               for v in violations)  # the leak is reported as the behaviour ends
    ends = store.events(trace, kinds=("behaviour-finished",))
    [finish] = [e for e in ends if e.behaviour["b"] == sneak.bid]
    assert "1 reference(s) to their content kept" in finish.text
    assert f"class b{sneak.bid} failed" in dag_mermaid(b)


def test_a_behaviour_that_raises_is_marked(tmp_path):
    program = tmp_path / "boom.py"
    program.write_text("from pyrona import Cown, when, wait\nc = Cown(1)\n\n@when(c)\ndef boom(x):\n"
                       "    return 1 / 0\n\ntry:\n    wait()\nexcept ExceptionGroup:\n    pass\n")
    store = TraceStore(tmp_path / "traces.db")
    with contextlib.redirect_stdout(io.StringIO()):
        trace = trace_program(program, store).trace
    b = found(store, trace)
    assert b.runs[1].failed == "ZeroDivisionError"
    assert "after raising ZeroDivisionError" in store.events(trace, kinds=("behaviour-finished",))[0].text
    assert "raised ZeroDivisionError" in dag_mermaid(b) and "class b1 failed" in dag_mermaid(b)


def test_dining_philosophers_spawned_bites(traced):
    store, traces = traced
    b = found(store, traces["concurrency_dining_philosophers"])
    spawned = [(a, c) for a, c, d in b.happens_before().edges(data=True) if d["spawned"]]
    assert spawned and all(b.runs[a].name == "bite" == b.runs[c].name for a, c in spawned)
    withs = [r for r in b.runs.values() if r.name == "with block"]
    assert len(withs) == 5 and all(r.result is None for r in withs)


def test_step_view_queue_and_holder(traced):
    store, traces = traced
    trace = traces["concurrency_bank"]
    total = store.trace(trace).steps
    b = found(store, trace)
    first = b.runs[1]
    view = behaviours_step_view(store, trace, first.started, total)
    by_cid = {c["cid"]: c for c in view["cowns"]}
    ada = by_cid[1]
    assert ada["state"] == "acquired" and ada["holder"]["bid"] == 1
    assert [q["bid"] for q in ada["queue"]] == [r.bid for r in b.runs.values() if 1 in r.cowns and r.bid > 1]
    assert view["running"] is None  # the line of the started event is still the program's
    assert behaviours_step_view(store, trace, first.started + 1, total)["running"]["bid"] == 1
    # transfer 2 waited for transfer 1 only: at transfer 1's last line it starts
    end = behaviours_step_view(store, trace, first.finished, total)
    assert end["running"]["bid"] == 1 and end["last_line"] and [b["bid"] for b in end["started"]] == [2]
    assert {c["cid"]: c["holder"]["bid"] for c in end["cowns"] if c["holder"]}[2] == 2
    whole = behaviours_view(store, trace, total)
    lane = next(c for c in whole["cowns"] if c["cid"] == 1)
    assert [s["behaviour"] for s in lane["spans"]] == [r.bid for r in b.runs.values() if 1 in r.cowns]
    assert {"src": 1, "dst": 2, "cowns": [2], "spawned": False} in whole["edges"]


def test_a_big_dag_is_drawn_around_the_running_behaviour(traced):
    store, traces = traced
    b = found(store, traces["concurrency_fibonacci"])  # 21 behaviours
    late = b.runs[20]
    window = dag_window(b, late.started + 1, limit=6)
    assert len(window) == 6 and late.bid in window
    text = dag_mermaid(b, late.started + 1, limit=6)
    assert f"class b{late.bid} running" in text and text.count('["#') == 6


def test_old_events_without_a_payload_are_ignored():
    events = [Event(3, "behaviour-started", None, (4,), "behaviour #1 f acquired cown #1", edge="")]
    assert behaviours(events, 10).runs == {}
    assert events[0].text == "behaviour #1 f acquired cown #1"


def test_a_behaviour_on_many_cowns_keeps_its_payload_within_the_stores_bound(tmp_path):
    program = tmp_path / "many.py"
    program.write_text("from pyrona import Cown, when, wait\n"
                       "cowns = [Cown(i) for i in range(300)]\n\n"
                       "@when(*cowns)\ndef " + "a" * 200 + "(*held):\n    pass\n\nwait()\n")
    store = TraceStore(tmp_path / "traces.db")
    with contextlib.redirect_stdout(io.StringIO()):
        trace = trace_program(program, store).trace
    events = store.events(trace, kinds=KINDS)
    assert len(events) == 3
    for event in events:
        assert len(event.edge) <= 1000
        data = parse(event.edge)
        assert data["more"] == 301 - len(data["cowns"]) and data["cowns"][-1][0] == data["result"]
        assert event.text.endswith(" more → a result cown (not drawn)") or "more → result #" in event.text
    assert len(behaviours(events, store.trace(trace).steps).runs) == 1
