"""Every step's diagram says what the model holds at that step, checked against an oracle.

The oracle is the live runtime, asked while the program runs (verify mode,
`tracer.verify.Oracle`): each cown's state at each step (released once its region has
no local reference, whether or not the program asked), each pyrona error raised (the
object written to, the name of the reference, its target), each frame's return or yield
value. The diagram is drawn afterwards from the store, the way the viewer draws it,
and parsed; each fact must be in it: the cown's status, the red edge (or the red
outline when no reference offends), the frame's `return` value.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from test_mermaid import parse

from pyrona.analysis.reachability import unreachable
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.views.mermaid import to_mermaid

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PYRONA_SHARED", ROOT.parent / "shared"))
SAMPLES = sorted((ROOT / "sample_programs").glob("*.py"))
CASES = sorted((SHARED / "conformance" / "cases").glob("*.py")) \
    + sorted((ROOT / "tests" / "cases").glob("*.py"))

#: Programs aimed at what the pictures got wrong (each a case of issue 8's list).
PROGRAMS = {
    "cown_released_by_close": """
from pyrona import Region, Obj, Cown, close, is_released
r = Region()
r.a = Obj()
c = Cown(r)
x = 1
close(r)
y = 2
z = 3
print(is_released(c))
""",
    "cown_released_by_dropping_the_last_reference": """
from pyrona import Region, Obj, Cown
r = Region()
r.a = Obj()
keep = r.a
c = Cown(r)
r = None
a = 1
keep = None
b = 2
""",
    "violations_of_every_kind": """
from pyrona import Region, Obj, Cown, freeze, merge, close, RegionError, CownAccessError
r1 = Region()
r1.items = []
r1.lst2 = []
other = Region()
other.x = Obj()
for attempt in range(2):
    try:
        r1.field_a = other.x
    except RegionError:
        pass
try:
    r1.items.append(other.x)
except RegionError:
    pass
try:
    r1.lst2 += [other.x]
except RegionError:
    pass
holder = Region()
holder.child = other
try:
    Region().stolen = other
except RegionError:
    pass
cfg = freeze({"hosts": ["a"]})
try:
    cfg["hosts"].append("b")
except TypeError:
    pass
try:
    merge(r1, other)
except RegionError:
    pass
c = Cown(freeze(Obj(v=1)))
try:
    c.value
except CownAccessError:
    pass
""",
    "calls_returns_and_yields": """
from pyrona import Obj, Region

def make(n):
    o = Obj(n=n)
    return o

def count(n):
    return n + 1

def pairs(k):
    for i in range(k):
        yield Obj(i=i)

def store(r, v):
    r.v = v

a = make(1)
b = count(2)
got = [p for p in pairs(2)]
for q in pairs(2):
    last = q
r = Region()
store(r, a)
""",
}


def _trace(path: Path, store: TraceStore):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        outcome = trace_program(path, store, verify=True)
    summary = store.trace(outcome.trace).summary
    assert summary["verify_problems"] == []
    return outcome, summary["oracle"]


def _diagrams(store: TraceStore, trace: int):
    cache: dict[int, tuple] = {}

    def at(step: int):
        if step not in cache:
            graph = store.step(trace, step)
            previous = store.step(trace, step - 1) if step > 0 else None
            cache[step] = (graph, parse(to_mermaid(graph, previous=previous)))
        return cache[step]

    return at


def check_facts(store: TraceStore, trace: int, facts: list[list]) -> dict[str, int]:
    """Check every oracle fact against the step's diagram; returns how many of each kind."""
    at = _diagrams(store, trace)
    counts: dict[str, int] = {}
    for fact in facts:
        kind, step = fact[0], fact[1]
        graph, d = at(step)
        counts[kind] = counts.get(kind, 0) + 1
        where = f"step {step}: {fact}"
        if kind == "cown":
            nid, status = fact[2], fact[3]
            assert graph.nodes[nid].detail == status, where
            if nid not in unreachable(graph):
                assert f"status={status}" in d.lines_of(f"n{nid}"), where
        elif kind == "error":
            error_kind, src, dst, name = fact[2:]
            events = [e for e in graph.events if e.kind == "violation"]
            assert events, f"{where}: no violation event"
            if error_kind == "region-violation":
                index = d.edge(f"n{src}", f"n{dst}")
                _, _, label, _ = d.edges[index]
                assert label.startswith("ERROR"), where
                assert d.style_of(index)[0] == "red", where
                if name == "[]":
                    assert label.startswith("ERROR: ["), where
                elif name:
                    assert label == f"ERROR: {name}", where
            else:
                outlined = src if src is not None else dst
                assert f"n{outlined}" in d.classes.get("error", set()), where
        else:  # "return" / "yield": the frame hands back a value
            frame, target, text = fact[2:]
            assert f"n{frame}" in d.nodes, where
            if target is not None:
                if f"n{target}" in d.nodes:
                    # a value in a region, frozen or a cown: the frame borrows it (dotted)
                    arrow = "-->" if graph.nodes[target].place == "local" else "-.->"
                    assert (f"n{frame}", arrow, kind, f"n{target}") in d.edges, where
                else:  # a function, a class: hidden by default
                    assert graph.nodes[target].kind in ("function", "class", "module"), where
            else:
                lines = d.lines_of(f"n{frame}")
                assert any(line.startswith(f"{kind} = {text[:10]}") for line in lines), where
    return counts


@pytest.fixture
def store(tmp_path):
    s = TraceStore(tmp_path / "t.db")
    yield s
    s.close()


@pytest.mark.parametrize("path", SAMPLES + CASES, ids=lambda p: p.name)
def test_every_fact_of_a_program_is_drawn(path, store):
    outcome, facts = _trace(path, store)
    check_facts(store, outcome.trace, facts)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_fact_of_the_pictures_that_were_wrong_is_drawn(name, store, tmp_path):
    path = tmp_path / f"{name}.py"
    path.write_text(PROGRAMS[name].lstrip())
    outcome, facts = _trace(path, store)
    counts = check_facts(store, outcome.trace, facts)
    expected = {"cown_released_by_close": {"cown"}, "cown_released_by_dropping_the_last_reference": {"cown"},
                "violations_of_every_kind": {"error", "cown"},
                "calls_returns_and_yields": {"return", "yield"}}[name]
    assert expected <= set(counts), counts


def _steps(store: TraceStore, trace: int, program: str) -> list[tuple[int, str, str]]:
    lines = program.lstrip().splitlines()
    return [(s.index, s.event, lines[s.line - 1].strip()) for s in store.steps(trace)]


def _program(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(PROGRAMS[name].lstrip())
    return path


def test_a_cown_is_released_at_the_step_its_region_closes(store, tmp_path):
    outcome, _ = _trace(_program("cown_released_by_close", tmp_path), store)
    steps = _steps(store, outcome.trace, PROGRAMS["cown_released_by_close"])
    close_step = next(i for i, _, text in steps if text == "close(r)")
    for index, _, text in steps:
        graph = store.step(outcome.trace, index)
        (cown,) = [n for n in graph.nodes.values() if n.kind == "cown"] or [None]
        if cown is None:
            continue
        assert cown.detail == ("released" if index >= close_step else "pending"), text
        released = [e for e in graph.events if e.kind == "cown-released"]
        assert bool(released) == (index == close_step), text


def test_dropping_the_last_local_reference_releases_the_cown_there(store, tmp_path):
    program = PROGRAMS["cown_released_by_dropping_the_last_reference"]
    outcome, _ = _trace(_program("cown_released_by_dropping_the_last_reference", tmp_path), store)
    steps = _steps(store, outcome.trace, program)
    release = next(i for i, _, text in steps if text == "keep = None")
    for index, _, text in steps:
        graph = store.step(outcome.trace, index)
        cowns = [n for n in graph.nodes.values() if n.kind == "cown"]
        if cowns:
            assert cowns[0].detail == ("released" if index >= release else "pending"), text


def test_the_name_of_each_refused_reference_is_its_own(store, tmp_path):
    """After a refused `r1.field_a = ...`, later refusals are named by their own store."""
    outcome, _ = _trace(_program("violations_of_every_kind", tmp_path), store)
    program = PROGRAMS["violations_of_every_kind"]
    names = {}
    for index, _, text in _steps(store, outcome.trace, program):
        for ev in store.step(outcome.trace, index).events:
            if ev.kind == "violation":
                names.setdefault(text, []).append(ev.edge)
    assert names["r1.field_a = other.x"] == ["field_a", "field_a"]
    assert names["r1.items.append(other.x)"] == ["[0]"]
    assert names["r1.lst2 += [other.x]"] == ["[0]"]
    assert names["Region().stolen = other"] == ["stolen"]
    assert names['cfg["hosts"].append("b")'] == [""]  # a frozen list: outlined, no edge


def test_a_temporary_region_of_a_violation_is_drawn_for_its_step(store, tmp_path):
    outcome, _ = _trace(_program("violations_of_every_kind", tmp_path), store)
    program = PROGRAMS["violations_of_every_kind"]
    steps = _steps(store, outcome.trace, program)
    at = next(i for i, _, text in steps if text == "Region().stolen = other")
    graph = store.step(outcome.trace, at)
    (event,) = [e for e in graph.events if e.kind == "violation"]
    bridge = graph.nodes[event.src]
    assert bridge.kind == "bridge"
    d = parse(to_mermaid(graph))
    assert d.nodes[f"n{event.src}"][2] is not None  # inside its region's subgraph
    assert event.src not in store.step(outcome.trace, at + 1).nodes  # gone the next step


def test_a_violation_is_one_step_the_lines(store, tmp_path):
    outcome, _ = _trace(_program("violations_of_every_kind", tmp_path), store)
    steps = _steps(store, outcome.trace, PROGRAMS["violations_of_every_kind"])
    assert not [s for s in steps if s[1] == "raise"]  # every raise is in its own line's step
    titles = [text for _, _, text in steps]
    at = titles.index("r1.items.append(other.x)")
    assert titles[at + 1] == "except RegionError:"


def test_a_return_is_a_step_then_the_callers_line(store, tmp_path):
    program = PROGRAMS["calls_returns_and_yields"]
    outcome, _ = _trace(_program("calls_returns_and_yields", tmp_path), store)
    steps = _steps(store, outcome.trace, program)
    ret = next(i for i, event, text in steps if text == "return o")
    assert steps[ret + 1][1:] == ("return", "a = make(1)")
    at_return, after = store.step(outcome.trace, ret), store.step(outcome.trace, ret + 1)
    (frame,) = [n for n in at_return.nodes.values() if n.kind == "frame"]
    (value,) = [e.dst for e in at_return.edges if e.src == frame.id and e.name == "return"]
    module = next(n.id for n in at_return.nodes.values() if n.kind == "globals")
    assert not [e for e in at_return.edges if e.src == module and e.name == "a"]  # not assigned yet
    assert [e for e in at_return.edges if e.src == frame.id and e.name == "(caller)"][0].dst == module
    assert frame.id not in after.nodes  # the callee's frame is gone at the caller's line...
    assert [e.dst for e in after.edges if e.src == module and e.name == "a"] == [value]  # ...which assigned
    # a plain value is shown as the frame's field; a yield the same way as a return
    ret = next(i for i, event, text in steps if text == "return n + 1")
    fields = {(f.name, f.value) for f in store.step(outcome.trace, ret).fields}
    assert ("return", "3") in fields
    assert steps[ret + 1][1:] == ("return", "b = count(2)")
    yielded = [i for i, event, text in steps if text == "yield Obj(i=i)"]
    assert len(yielded) == 4
    for i in yielded:
        graph = store.step(outcome.trace, i)
        assert [e for e in graph.edges if e.name == "yield"]
        assert steps[i + 1][1] == "return"


def test_a_temporary_region_goes_at_its_step_and_frees_its_child(store, tmp_path):
    program = """
from pyrona import Region
other = Region()
Region().stolen = other
holder = Region()
holder.child = other
"""
    path = tmp_path / "temporary.py"
    path.write_text(program.lstrip())
    outcome, facts = _trace(path, store)
    assert outcome.status == "done"
    steps = _steps(store, outcome.trace, program)
    at = next(i for i, _, text in steps if text == "Region().stolen = other")
    kinds = [e.kind for e in store.step(outcome.trace, at).events]
    assert "became-child" in kinds and "collected" in kinds
    graph = store.step(outcome.trace, at)
    assert sorted(graph.regions) == [1]  # `other`'s region, the temporary's gone...
    assert graph.regions[1].parent is None  # ...and `other` free again at that step


def test_the_frames_panel_lists_the_return_value_first_and_the_caller_last(store, tmp_path):
    from pyrona.server.viewmodels import stack

    program = PROGRAMS["calls_returns_and_yields"]
    outcome, _ = _trace(_program("calls_returns_and_yields", tmp_path), store)
    ret = next(i for i, _, text in _steps(store, outcome.trace, program) if text == "return o")
    frame = next(f for f in stack(store.step(outcome.trace, ret)) if f["label"] == "make()")
    names = [v["name"] for v in frame["locals"]]
    assert names == ["return", "n", "o", "(caller)"]
