"""The tracer on real programs: every conformance case traces to its end, the
recorded graph agrees with a full walk at every step, and the runtime's events
are recorded."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import pytest

from pyrona.tracer.kinds import CALLER_SLOT, SUSPENDED
from pyrona.tracer.run import TraceOutcome, trace_program
from pyrona.tracer.scratch import group_entries
from pyrona.tracer.store import TraceStore

ROOT = Path(__file__).resolve().parent.parent
from conftest import BACKENDS, store_location  # noqa: E402
from test_conformance import SHARED  # noqa: E402  (where the shared cases live)

CASES = sorted((SHARED / "conformance" / "cases").glob("*.py"))
CASES += sorted((ROOT / "tests" / "cases").glob("*.py"))
EXPECT = re.compile(r"^#\s*expect:\s*(ok|error\s+([\w-]+))\s*$", re.M)


@pytest.fixture(scope="module", params=BACKENDS)
def store(request, tmp_path_factory):
    """Every test here runs against both store backends (SQLite, PostgreSQL)."""
    store = TraceStore(store_location(request.param, tmp_path_factory.mktemp("traces"), request))
    yield store
    store.close()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_case_traces_to_its_end_and_agrees_with_a_full_walk(case, store):
    expect = EXPECT.search(case.read_text()).group(1)
    outcome = trace_program(case, store, verify=True)
    info = store.trace(outcome.trace)
    assert info.summary["verify_problems"] == []
    assert info.summary["readback_problems"] == []  # every step reads back as it was recorded
    if expect == "ok":
        assert outcome.status == "done", outcome.message
    else:
        assert outcome.status == "failed"
        assert info.summary["error_kind"] == expect.split()[1]
    last = store.step(outcome.trace, outcome.steps - 1)
    final = {int(rid): parent for rid, parent in info.summary["final_regions"].items()}
    assert {rid: r.parent for rid, r in last.regions.items()} == final


def events_of(store, source, tmp_path, kinds=()):
    program = tmp_path / "prog.py"
    program.write_text(source)
    outcome = trace_program(program, store, verify=True)
    assert store.trace(outcome.trace).summary["verify_problems"] == []
    return outcome, [(e.step, e.kind) for e in store.events(outcome.trace, kinds=kinds)]


def test_region_events_are_recorded_at_their_steps(store, tmp_path):
    source = """\
from pyrona import Region, Obj, freeze, close, merge, dissolve
r1 = Region()
r2 = Region()
r1.child = r2
x = Obj()
r2.x = x
x = None
close(r2)
merge(r1.child, r1)
dissolve(r1)
freeze(Obj())
"""
    outcome, events = events_of(store, source, tmp_path)
    kinds = [k for _s, k in events]
    for expected in ("created", "became-child", "moved", "closed", "merged", "dissolved", "frozen"):
        assert expected in kinds
    steps = store.steps(outcome.trace)
    line_of = {s.index: s.line for s in steps}
    assert {line_of[s] for s, k in events if k == "became-child"} == {4}
    assert {line_of[s] for s, k in events if k == "dissolved"} == {10}


def test_a_region_goes_at_the_step_its_bridge_is_dropped(store, tmp_path):
    source = """\
from pyrona import Region
r = Region()
r.items = [[1], [2]]
r = None
x = 1
"""
    outcome, events = events_of(store, source, tmp_path, kinds=("collected",))
    line_of = {s.index: s.line for s in store.steps(outcome.trace)}
    assert [line_of[s] for s, _k in events] == [4]
    assert store.step(outcome.trace, min(s for s, _k in events)).regions == {}


def test_a_frozen_former_bridge_is_recorded_as_such_even_when_seen_again_later(store, tmp_path):
    source = """\
from pyrona import Region, freeze
class K:
    pass
r = Region()
freeze(r)
K.keep = r  # (a class is not scanned: r's node goes when the variable does)
r = None
again = K.keep
"""
    outcome, _events = events_of(store, source, tmp_path)
    seen = {}
    for index in range(outcome.steps):
        graph = store.step(outcome.trace, index)
        for e in graph.edges:
            if e.name in ("r", "again") and graph.nodes[e.src].kind == "globals":
                node = graph.nodes[e.dst]
                seen.setdefault(e.name, set()).add((e.dst, node.place, node.label, node.detail))
    bridge = {n for n, place, _label, _detail in seen["r"] if place != "frozen"}
    assert seen["r"] == {(*bridge, "r1", "Region #1", ""), (*bridge, "frozen", "Region #1", "former bridge")}
    assert {(place, label, detail) for n, place, label, detail in seen["again"]} == {
        ("frozen", "Region #1", "former bridge")}
    assert not {n for n, *_ in seen["again"]} & bridge  # a new node: its marking came from the runtime


def test_a_violation_is_recorded_with_the_offending_reference(store, tmp_path):
    source = """\
from pyrona import Region, Obj
a = Region()
a.x = Obj()
b = Region()
b.y = a.x
"""
    outcome, _ = events_of(store, source, tmp_path)
    [violation] = store.events(outcome.trace, kinds=("violation",))
    graph = store.step(outcome.trace, violation.step)
    assert graph.nodes[violation.src].label == "Region #2"
    assert graph.nodes[violation.dst].place == "r1"
    assert violation.edge == "y"
    assert "Cannot reference an object from another region" in violation.message
    assert store.trace(outcome.trace).status == "failed"


def test_output_and_frames_are_recorded(store, tmp_path):
    source = """\
def f(n):
    items = [n]
    print("in f", n)
    return items
kept = f(1)
print("done")
"""
    outcome, _ = events_of(store, source, tmp_path)
    output = store.output(outcome.trace, 10**6)
    assert "".join(text for _s, stream, text in output if stream == "stdout") == "in f 1\ndone\n"
    steps = store.steps(outcome.trace)
    inside = next(s for s in steps if s.line == 3)
    graph = store.step(outcome.trace, inside.index)
    frame = next(n for n in graph.nodes.values() if n.kind == "frame")
    assert frame.label == "f()"
    last = store.step(outcome.trace, outcome.steps - 1)
    assert not any(n.kind == "frame" for n in last.nodes.values())
    kept = next(e for e in last.edges if e.name == "kept")
    items = next(e for e in graph.edges if e.name == "items")
    assert kept.dst == items.dst  # the returned list keeps its node


def test_step_cap_truncates(store, tmp_path, line_path):
    program = tmp_path / "loop.py"
    program.write_text("total = 0\nfor i in range(1000):\n    total += i\n")
    outcome = trace_program(program, store, max_steps=100)
    assert outcome.status == "truncated" and outcome.steps == 100
    assert "step cap" in store.trace(outcome.trace).truncated
    store.step(outcome.trace, 99)


@pytest.mark.parametrize("body", [
    "    x = [i, x]\n",  # a variable's new object (the LINE callback's path)
    "    keep.append([i])\n",  # a list's new element (a hook's change)
    "    keep.append(make([i]))\n",  # a call's argument (a frame's start)
])
def test_object_cap_truncates_wherever_the_object_comes_from(store, tmp_path, body, line_path):
    program = tmp_path / "many.py"
    program.write_text("keep = []\nx = None\ndef make(n):\n    return [n]\nfor i in range(1000):\n" + body)
    outcome = trace_program(program, store, max_objects=100)
    info = store.trace(outcome.trace)
    assert outcome.status == "truncated" and info.truncated == "object cap (100) reached"
    assert outcome.steps > 10
    last = store.step(outcome.trace, outcome.steps - 1)
    assert 0 < len(last.nodes) <= 100


def test_long_runs_of_a_changing_slot_read_back_at_every_step(store, tmp_path, line_path):
    source = """\
from pyrona import Region
r = Region()
r.items = []
total = 0
for i in range(300):
    total += i
    if i % 7 == 0:
        r.items.append([i])
    r.last = r.items[-1] if r.items else None
for j in range(300):
    k = -j
"""
    outcome = traced_and_verified(store, tmp_path / "runs.py", source)
    assert outcome.steps > 1500
    runs = dict(store.db.execute("SELECT name, runs FROM slots WHERE trace = ? AND runs IS NOT NULL "
                                 "AND dst IS NULL", (outcome.trace,)).fetchall())
    # the loop variables were written as runs: `j` changes at even intervals (one "L*N"),
    # `i` not quite (lengths one by one)
    assert re.match(r"2\*[0-9]+\x1e\x1e", runs["j"]) and re.match(r"[45],4,4,", runs["i"])
    # `r.last`, a list then another, held at the end: its earlier intervals are in its entry
    last = next(entry[-1]["last"] for entry in grouped(store, outcome.trace) if "last" in entry[-1])
    _start, dst, value, run = last  # run: [start, held, start, held, ...], each held a dst
    assert type(dst) is int and value is None and all(type(held) is int for held in run[1::2])


def test_slots_open_at_the_end_are_grouped_by_node_and_read_back_at_every_step(store, tmp_path, line_path):
    source = """\
class Box:
    pass
box = Box()
box.link = None
items = []
for i in range(150):
    items.append(i * 3 if i % 2 else str(i))
box.link = items
box.gone = 1
del box.gone
last = i
"""
    outcome = traced_and_verified(store, tmp_path / "groups.py", source)
    rows = store.db.execute('SELECT start, "end", detail FROM nodes WHERE trace = ? AND node = -1',
                            (outcome.trace,)).fetchall()
    assert rows and all(end == outcome.steps for _start, end, _detail in rows)  # (no call returned)
    entries = grouped(store, outcome.trace)
    assert len(rows) < len(entries)  # the nodes there at the end share rows
    per_node: dict[int, int] = {}
    for nid, *_rest in entries:
        per_node[nid] = per_node.get(nid, 0) + 1
    assert max(per_node.values()) == 1  # the list's 150 slots in one entry
    # a slot that changed before the end keeps its earlier intervals in its entry
    link = next(entry[-1]["link"] for entry in entries if "link" in entry[-1])
    assert type(link[1]) is int and link[3][1] == "None"  # a list now; None before
    last = store.step(outcome.trace, outcome.steps - 1)
    assert ("[149]" in {f.name for f in last.fields}) and any(e.name == "link" for e in last.edges)
    early = store.step(outcome.trace, 5)
    assert not any(f.name == "[0]" for f in early.fields)  # grouped slots are not there before they start


def test_short_calls_share_rows_and_read_back_at_every_step(store, tmp_path, line_path):
    source = """\
class Cell:
    def __init__(self, value):
        self.value = value
        self.seen = []


def make(n):
    cell = Cell(n)
    return cell


cells = [make(i) for i in range(300)]
"""
    outcome = traced_and_verified(store, tmp_path / "calls.py", source)
    frames = [entry for entry in grouped(store, outcome.trace) if entry[3] == "frame"]
    labels = [entry[6] for entry in frames]  # (the class body ran as a frame too)
    assert labels.count("Cell.__init__()") == labels.count("make()") == 300 and len(labels) == 601
    kinds = dict(store.db.execute("SELECT kind, COUNT(*) FROM nodes WHERE trace = ? GROUP BY kind",
                                  (outcome.trace,)).fetchall())
    assert "frame" not in kinds and kinds["group"] < 601 / 20  # a frame: a fraction of a row
    inside = next(entry for entry in frames if entry[6] == "Cell.__init__()")
    step = store.step(outcome.trace, inside[1])
    names = {e.name for e in step.edges if e.src == inside[0]} | {f.name for f in step.fields
                                                                  if f.node == inside[0]}
    assert inside[0] in step.nodes and {"self", "value"} <= names


def test_untraced_callees_that_change_their_argument_are_seen(store, tmp_path):
    source = """\
import bisect
import heapq
import random

heap = []
for n in (5, 1, 4):
    heapq.heappush(heap, [n])
    size = len(heap)
ordered = [1, 5]
bisect.insort(ordered, 3)
deck = [[1], [2], [3]]
random.seed(4)
random.shuffle(deck)
deck.append(heap)
setter = setattr


class Box:
    pass


box = Box()
setter(box, "deck", deck)
"""
    outcome = traced_and_verified(store, tmp_path / "callees.py", source)
    last = store.step(outcome.trace, outcome.steps - 1)
    assert any(e.name == "deck" for e in last.edges)


@pytest.mark.parametrize("source", [
    "items = [[i] for i in range(50)]\n",
    # a generator expression's frame ends while a call in it is pending: its hint must go too
    "from pyrona import freeze, isfrozen\nclass City:\n    def __init__(self):\n        self.roads = []\n"
    "a, b = City(), City()\na.roads.append(b)\nfreeze(a)\nprint(all(isfrozen(c) for c in (a, b)))\n",
], ids=["comprehension", "generator"])
def test_a_finished_trace_leaves_nothing_of_its_recorder_behind(store, tmp_path, source):
    program = tmp_path / "short.py"
    program.write_text(source)
    gc.collect()
    gc.disable()  # freed by reference counting, at once: not left to a later collection
    try:
        trace_program(program, store)
        assert [o for o in gc.get_objects() if type(o).__name__ in ("Monitor", "Recorder")] == []
    finally:
        gc.enable()


def test_an_unreachable_cycle_goes_at_once_in_a_big_graph_too(store, tmp_path):
    source = """\
keep = [[i] for i in range(700)]
a = {}
b = {"a": a}
a["b"] = b
a = b = None
x = 1
chain = None
for i in range(3000):
    chain = [chain]
chain = None
y = 2
"""
    program = tmp_path / "cycle.py"
    program.write_text(source)
    outcome = trace_program(program, store)  # (verify would walk 4000 objects at every step)
    steps = store.steps(outcome.trace)
    lines = [s.line for s in steps]

    def dicts_at(line: int) -> int:
        graph = store.step(outcome.trace, lines.index(line))
        return sum(1 for n in graph.nodes.values() if n.kind == "dict")

    # (a step shows the state after its line ran)
    assert dicts_at(4) == 2  # a and b refer to each other
    assert dicts_at(5) == 0  # `a = b = None`: nothing else does: the cycle is gone at once
    # a chain too long to walk back from (3000 lists) goes at the next sweep: still, it goes
    last = store.step(outcome.trace, outcome.steps - 1)
    assert sum(1 for n in last.nodes.values() if n.kind == "list") < 800


def test_generators_recursion_and_exceptions_read_back_at_every_step(store, tmp_path, line_path):
    source = """\
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def gen(k):
    acc = []
    for i in range(k):
        acc.append(i)
        yield list(acc)


class Boom(Exception):
    pass


def risky(x):
    items = [x]
    if x % 3 == 0:
        raise Boom(items)
    return items


out = []
for v in gen(5):
    out.append(v)
total = fib(8)
caught = 0
for i in range(7):
    try:
        risky(i)
    except Boom:
        caught += 1
"""
    outcome = traced_and_verified(store, tmp_path / "flow.py", source)
    # a generator's frame, resumed, shows the variables it had (not only its arguments)
    resumed = [s.index for s in store.steps(outcome.trace) if s.line == 10]  # `acc.append(i)`
    graph = store.step(outcome.trace, resumed[-1])
    frame = next(n for n in graph.nodes.values() if n.label == "gen()")
    assert {"k", "acc", "i"} <= {e.name for e in graph.edges if e.src == frame.id} | {
        f.name for f in graph.fields if f.node == frame.id}


ONE_LINE_CYCLE = """\
class Node:
    def __init__(self, value, next):
        self.value = value
        self.next = next


{before}a = Node(1, None); b = Node(2, a); a.next = b
a = b = None
x = 1
"""


@pytest.mark.parametrize("before", ["", "keep = [Node(i, None) for i in range(600)]\n"],
                         ids=["small graph", "big graph"])
def test_a_cycle_made_on_one_line_goes_when_its_variables_do(store, tmp_path, before):
    outcome = traced_and_verified(store, tmp_path / "cycle.py", ONE_LINE_CYCLE.format(before=before))
    steps = store.steps(outcome.trace)
    made = [s.index for s in steps if s.line == 7 + bool(before)][-1]  # (once the whole line ran)
    dropped = next(s.index for s in steps if s.line == 8 + bool(before))

    def nodes(index: int) -> int:
        return sum(n.kind == "instance" for n in store.step(outcome.trace, index).nodes.values())

    assert nodes(made) == 2 + 600 * bool(before)
    assert nodes(dropped) == 600 * bool(before)


GENERATORS = """\
from contextlib import contextmanager


def count(n):
    box = [n]
    for i in range(n):
        yield box


def deep(k):
    if k:
        yield from deep(k - 1)
    else:
        yield [k]


def echo():
    got = None
    while True:
        try:
            got = yield got
        except KeyError:
            got = "key"


@contextmanager
def managed(tag):
    res = [tag]
    try:
        yield res
    finally:
        res.append("closed")


it = count(3)
first = next(it)
it = None
for v in count(2):
    y = v
gen = count(4)
next(gen)
gen.close()
for w in count(5):
    if w:
        break
for item in deep(3):
    pass
held = count(4)
loop = [held]
next(held)
loop.append(loop)
held = loop = None
import gc
gc.collect()
with managed("a") as m:
    inside = m
e = echo()
next(e)
r1 = e.send([1])
r2 = e.throw(KeyError())
e = None
end = 0
"""


def test_a_suspended_generator_keeps_its_frame_until_it_is_resumed_or_goes(store, tmp_path, line_path):
    """A generator's frame stays in the graph while it is suspended at a yield (its caller
    slot SUSPENDED), with the variables it holds; it goes when its generator does:
    returned, closed, left by a `break`, collected with a cycle, or dropped."""
    outcome = traced_and_verified(store, tmp_path / "gens.py", GENERATORS)
    steps = store.steps(outcome.trace)

    def frames(line: int) -> list[tuple[str, str]]:
        """The frames once the line is over (at its last step: a return to it, or itself),
        each with what its caller slot holds as text (SUSPENDED, or "" for a frame)."""
        graph = store.step(outcome.trace, [s.index for s in steps if s.line == line][-1])
        state = {f.node: f.value for f in graph.fields if f.name == CALLER_SLOT}
        return sorted((n.label, state.get(n.id, "")) for n in graph.nodes.values() if n.kind == "frame")

    # (a step shows the state after its line ran)
    assert frames(36) == [("count()", SUSPENDED)]  # `first = next(it)`
    assert frames(37) == []  # `it = None`: its generator went
    assert frames(39) == [("count()", SUSPENDED)]  # `y = v`: the loop's generator waits
    assert frames(41) == [("count()", SUSPENDED)]
    assert frames(42) == []  # `gen.close()`
    assert frames(44) == [("count()", SUSPENDED)]
    assert frames(45) == []  # `break`
    assert frames(47) == [("deep()", SUSPENDED)] * 4  # `pass`: the whole chain waits
    assert frames(52) == [("count()", SUSPENDED)]  # held by an unreachable cycle, still alive
    assert frames(54) == []  # `gc.collect()`: gone with the cycle
    assert frames(56) == [("managed()", SUSPENDED)]  # inside the `with`
    assert frames(60) == [("echo()", SUSPENDED)]  # `e.throw(KeyError())`: handled, yielded again
    assert frames(61) == []  # `e = None`
    graph = store.step(outcome.trace, next(s.index for s in steps if s.line == 39))
    frame = next(n for n in graph.nodes.values() if n.kind == "frame")
    names = {e.name for e in graph.edges if e.src == frame.id} | {
        f.name for f in graph.fields if f.node == frame.id}
    assert names == {"n", "box", "i", CALLER_SLOT}  # its variables; no yielded value


def traced_and_verified(store: TraceStore, program: Path, source: str) -> TraceOutcome:
    """Trace `source` with verify on: it runs to its end, the live graph matches a full
    walk at every step and every step reads back from the store as it was recorded."""
    program.write_text(source)
    outcome = trace_program(program, store, verify=True)
    info = store.trace(outcome.trace)
    assert outcome.status == "done", outcome.message
    assert info.summary["verify_problems"] == [] and info.summary["readback_problems"] == []
    return outcome


def grouped(store: TraceStore, trace: int) -> list[list]:
    """The entries of the trace's node GROUP rows."""
    return [entry for start, end, detail in store.db.execute(
                'SELECT start, "end", detail FROM nodes WHERE trace = ? AND node = -1', (trace,))
            for entry in group_entries(json.loads(detail), start, end)]


SAMPLES = sorted((ROOT / "sample_programs").glob("*.py"))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_programs_trace_to_the_end_and_read_back(sample, store, tmp_path):
    traced_and_verified(store, tmp_path / sample.name, sample.read_text())


def test_close_is_one_event_and_counters_report_opening(store, tmp_path):
    source = """\
from pyrona import Region, close
r = Region()
alias = r
close(r)
r = None
"""
    _outcome, events = events_of(store, source, tmp_path)
    closed = [step for step, kind in events if kind == "closed"]
    assert len(closed) == 1


def test_a_read_only_store_reads_and_never_writes(tmp_path):
    import sqlite3

    from pyrona.tracer.store import StoreError

    missing = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="there is no trace store"):
        TraceStore(missing, readonly=True)
    assert not missing.exists()
    db = tmp_path / "t.db"
    writer = TraceStore(db)
    trace = writer.create_trace("p.py", {"p.py": "x = 1\n"})
    writer.close()
    before = db.read_bytes()
    reader = TraceStore(db, readonly=True)
    assert reader.trace(trace).name == "p.py" and reader.files(trace) == {0: ("p.py", "x = 1\n")}
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.set_status(trace, "done")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.create_trace("q.py", {})
    reader.close()
    assert db.read_bytes() == before
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(StoreError, match="is not a pyrona trace store"):
        TraceStore(other, readonly=True)


def test_hook_calls_are_recognised_by_their_reserved_names():
    # the monitor disables CALL events at these offsets: every hook call must be found
    from pyrona.instrument.rewrite import RESERVED_PREFIX, compile_program
    from pyrona.tracer.frames import CodeInfo

    src = ("o.a = 1\no[k] = v\nxs.append(1)\ndel o.a\no.n += 1\nx += 1\nsetattr(o, 'b', 2)\n"
           "def f(o):\n    o.a = o.b = [1]\n    for o.c in xs:\n        pass\n")
    code = compile_program(src, "p.py", fast_paths=False, value_paths=False)
    names = [n for n in code.co_names if n.startswith(RESERVED_PREFIX)]
    assert names and not any(n.isidentifier() for n in names)  # no program can spell them
    assert len(CodeInfo(code, 0).hook_calls) == 7
    inner = next(c for c in code.co_consts if hasattr(c, "co_code"))
    assert len(CodeInfo(inner, 0).hook_calls) == 3
    assert not any(n.isidentifier() for n in inner.co_varnames if n.startswith(RESERVED_PREFIX))


def test_a_violation_in_a_property_setter_names_the_setters_store(store, tmp_path):
    source = """\
from pyrona import Region, Obj
class Box:
    @property
    def items(self):
        return self._items
    @items.setter
    def items(self, value):
        self._items = value
a = Region()
a.box = box = Box()
b = Region()
b.y = Obj()
box.items = b.y
"""
    outcome, _ = events_of(store, source, tmp_path)
    [violation] = store.events(outcome.trace, kinds=("violation",))
    graph = store.step(outcome.trace, violation.step)
    assert graph.nodes[violation.src].label == "Box" and graph.nodes[violation.dst].place == "r2"
    assert violation.edge == "_items"  # the store that failed, not the property
    assert store.trace(outcome.trace).message.endswith("(line 8)")


WALKED_LIST = '''
class Node:
    def __init__(self, value, next):
        self.value = value
        self.next = next


head = None
for i in range(40):
    head = Node(i, head)
for _ in range(2):
    cursor = head
    while cursor is not None:
        cursor = cursor.next
head = head.next.next.next
ring = Node(1, Node(2, Node(3, None)))
ring.next.next.next = ring
handle = ring.next
ring = None
handle = None
head = None
'''


def test_a_cursor_walking_a_list_and_cycles_let_go_stay_exact(store, tmp_path, line_path):
    """The walk back to a root leaves proofs (tracer.garbage): leaving a node far from
    the list's head is one short check, and a cycle that nothing reaches any more
    still goes at the very step it does."""
    outcome = traced_and_verified(store, tmp_path / "walk.py", WALKED_LIST)
    last = store.step(outcome.trace, outcome.steps - 1)
    assert not [n for n in last.nodes.values() if n.label == "Node" and n.kind != "class"]


def test_what_a_line_stored_before_a_call_shows_inside_the_call(store, tmp_path):
    """A comprehension's variable, several statements on one line, and a list's
    method called under another name (no hook sees it) are all shown exactly."""
    traced_and_verified(store, tmp_path / "line.py", '''
class Box:
    def __init__(self, v, other):
        self.v = v
        self.other = other


def double(pair):
    i, u = pair
    return 2 * i + len(u)


u = [1, 2]
xs = [double((i, u)) for i in range(3)]
a = Box(1, None); b = Box(2, a); a.other = b
a = b = None
items = [3, 1, 2]
push, pop = items.append, items.pop
push(4)
pop(0)
''')


MANY_SUSPENDED = """\
import asyncio
def count(n):
    i = 0
    while i < n:
        yield i
        i += 1
gens = [count(3) for _ in range(40)]
firsts = [next(g) for g in gens]
del gens[7]
mine = count(2)
v = next(mine)
mine = None
async def leaf(k):
    await asyncio.sleep(0)
    return k
async def main():
    return sum(await asyncio.gather(*(leaf(k) for k in range(12))))
total = asyncio.run(main())
gens = None
end = 0
"""


@pytest.mark.parametrize("watched", [True, False], ids=["watched", "scan-all"])
def test_a_generator_freed_among_many_suspended_ones_goes_at_its_step(store, tmp_path, line_path,
                                                                      watched, monkeypatch):
    """Each generator is watched by a weak reference (not found by checking every suspended
    frame at every step): the one dropped among 40 suspended goes at its own step, one
    dropped after yielding to untraced code (`next`) too, and coroutines that an event
    loop suspends and frees go when they do; verify mode agrees at every step. Without
    `generator_of` (no accelerator) every suspended frame is checked at every step instead:
    the same steps."""
    from pyrona.tracer import monitor

    if not watched:
        monkeypatch.setattr(monitor, "generator_of", None)
    outcome = traced_and_verified(store, tmp_path / "many.py", MANY_SUSPENDED)
    steps = store.steps(outcome.trace)

    def suspended(line: int) -> int:
        graph = store.step(outcome.trace, [s.index for s in steps if s.line == line][-1])
        state = {f.node: f.value for f in graph.fields if f.name == CALLER_SLOT}
        return sum(1 for n in graph.nodes.values() if n.kind == "frame" and state.get(n.id) == SUSPENDED)

    assert suspended(8) == 40  # `firsts = ...`: every generator waits at its yield
    assert suspended(9) == 39  # `del gens[7]`: that one went, at once
    assert suspended(11) == 40  # `v = next(mine)`
    assert suspended(12) == 39  # `mine = None`
    assert suspended(18) == 39  # the loop's coroutines all went with it
    assert suspended(19) == 0  # `gens = None`
    assert "total" in {f.name for f in store.step(outcome.trace, steps[-1].index).fields}


def test_a_running_generator_frame_leads_to_its_generator():
    """The monitor's watch on generators (`generator_of`) works on this CPython: a
    generator, a coroutine and an async generator are found from their running frame."""
    import asyncio
    import sys

    from pyrona.tracer.generator_of import generator_of

    assert generator_of is not None  # (else every suspended frame is checked at every step)

    def gen():
        yield generator_of(sys._getframe())

    async def coro():
        return generator_of(sys._getframe())

    async def agen():
        yield generator_of(sys._getframe())

    g = gen()
    assert next(g) is g
    c = coro()
    with pytest.raises(StopIteration) as stop:
        c.send(None)
    assert stop.value.value is c
    a = agen()

    async def first():
        return await anext(a)
    assert asyncio.run(first()) is a
    assert generator_of(sys._getframe()) is None  # (a plain function's frame)
    held = []

    def finished():
        held.append(sys._getframe())
        yield
    f = finished()
    next(f)
    f.close()
    del f  # (its frame outlives it: owned by the frame object now, no generator's)
    assert generator_of(held[0]) is None
    with pytest.raises(TypeError, match="takes a frame"):
        generator_of(g)


def test_a_program_running_on_past_the_step_cap_is_not_noted_any_more(store, tmp_path):
    """Past the step cap the program runs on untraced: its stores (through the hooks its
    code was rewritten with) note nothing any more, where they used to pile up unread,
    each note keeping its object alive (and every garbage collection slower)."""
    out = tmp_path / "notes.txt"
    program = tmp_path / "past.py"
    program.write_text(f"""\
import gc
class Box:
    pass
boxes = []
for i in range(300):
    box = Box()
    box.value = i
    boxes.append(box)
notes = sum(1 for r in gc.get_referrers(boxes[-1]) if type(r) is tuple)
with open({str(out)!r}, "w") as f:
    f.write(str(notes))
""")
    outcome = trace_program(program, store, max_steps=40)
    assert outcome.status == "truncated" and "step cap (40)" in outcome.message
    assert out.read_text() == "0"  # (no `(box, ("attr", "value"))` left behind)
