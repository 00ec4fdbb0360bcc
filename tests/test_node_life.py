"""A short-lived node's whole life (made, dropped a few steps later, written as one entry
of a group row) leaves nothing behind in the recorder and reads back exactly: `forget`
(tracer/_speedups.c) does what its reference `forget_py` does, a recorder that made and
dropped many temporaries holds nothing of them in any per-node table, and a program
making and dropping temporaries every step passes verify mode (the graph equals a heap
walk, and the store reads back that graph, at every step)."""

from __future__ import annotations

import os
import textwrap
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyrona import Region
from pyrona.tracer import recorder as recorder_module
from pyrona.tracer.recorder import Recorder, forget_py
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore


def the_c_forget():
    if recorder_module.forget_fast is None:
        if os.environ.get("CI"):
            pytest.fail("the C extension (tracer/_speedups.c) was not built: run `make setup`")
        pytest.skip("the C extension (tracer/_speedups.c) was not built")
    return recorder_module.forget_fast


KEYS = st.integers(0, 12)
TABLES = st.lists(st.one_of(st.dictionaries(KEYS, st.integers()), st.sets(KEYS)), max_size=6)


@settings(max_examples=200, deadline=None)
@given(TABLES, KEYS)
def test_forget_in_c_leaves_the_tables_as_its_reference_does(tables, key):
    forget = the_c_forget()
    ours = [table.copy() for table in tables]
    forget(key, tuple(ours))
    forget_py(key, tuple(tables))
    assert ours == tables
    assert all(key not in table for table in ours)


def test_forget_refuses_what_is_not_a_table():
    forget = the_c_forget()
    with pytest.raises(TypeError, match="dict or a set"):
        forget(1, ({}, [1]))
    with pytest.raises(TypeError, match="tuple"):
        forget(1, [{}])


class Point:
    def __init__(self, x: object, y: object) -> None:
        self.x, self.y = x, y


class Slotted:
    __slots__ = ("parts",)

    def __init__(self, parts: list) -> None:
        self.parts = parts


def temporaries(i: int) -> object:
    """The i-th temporary: the kinds of what pathlib and mdp make and drop."""
    return [["a", str(i)], (Fraction(i, 3), [i]), Point(i, [i]), Slotted(["p", str(i)]), {i},
            {"k": [i]}, []][i % 7]


class Rows:
    """A writer that keeps what it is given."""

    def __init__(self) -> None:
        self.closed: list[tuple] = []

    def node_closed(self, nid, node, slots, end, born) -> None:
        self.closed.append((nid, node[1], sorted(slots), born, end))

    lived_node_closed = node_closed

    def __getattr__(self, name: str):
        return lambda *args: None


@pytest.mark.parametrize("fast", [False, True], ids=["reference", "accelerated"])
def test_temporaries_that_went_leave_nothing_in_any_table(fast):
    """Each temporary (and what it holds) is written once, whole, when it goes, and no
    per-node table keeps an entry of it."""
    if fast:
        the_c_forget()
    rows = Rows()
    rec = Recorder(rows, 100_000, fast=fast)  # type: ignore[arg-type]
    assert (rec.forget is forget_py) != fast
    root = rec.root(object(), "frame", "f")
    held = [temporaries(i) for i in range(70)]
    for i, value in enumerate(held):
        rec.step += 1
        rec.set_slot(root, "ab"[i % 2], value)  # (the one of two steps ago goes)
        rec.finish_changes()
    live = set(rec.nodes)
    assert len(live) < 10  # (the root, the last two temporaries and what they hold)
    for table in (*rec.node_tables, rec.proof, rec.objs):
        assert set(table) <= live
    assert set(rec.ids.values()) <= live
    went = [row for row in rows.closed if row[0] not in live]
    assert len(went) == len({row[0] for row in went})  # (each written once)
    lists = [row for row in went if row[1] == "list"]
    assert ["[0]", "[1]"] in [row[2] for row in lists]  # (a list written with its slots)
    assert all(row[4] - row[3] == 2 for row in went if row[1] == "instance")  # (two steps each)


class Notes:
    """A writer that notes every call it is given (the rows a real one would write)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __getattr__(self, name: str):
        def note(*args: object) -> None:
            self.calls.append((name, repr(args)))
        return note


def made(what: int, i: int, held: dict[str, object]) -> object:
    """A new temporary of kind `what` (some holding what a variable holds now)."""
    other = held.get("a")
    if what == 0:
        return ["p", str(i)]
    if what == 1:
        return (Fraction(i, 3), [i])
    if what == 2:
        return Point(i, other)
    if what == 3:
        cycle: list = [i]
        cycle.append(cycle)  # (an unreachable cycle once dropped: the reference's sweep)
        return cycle
    if what == 4:
        return Region()  # (a bridge: Recorder.drop, not the C path)
    if what == 5:
        return {"k": other, "j": [i]}
    return Slotted([other, str(i)])


LIFE_OPS = st.lists(st.one_of(
    st.tuples(st.just("new"), st.integers(0, 6), st.sampled_from("abc")),
    st.tuples(st.just("copy"), st.sampled_from("abc"), st.sampled_from("abc")),
    st.tuples(st.just("clear"), st.sampled_from("abc")),
    st.tuples(st.just("step")),
), max_size=40)


def lived(ops: list[tuple], fast: bool) -> dict[str, object]:
    """What a recorder holds and wrote after `ops` on a frame's variables a, b, c."""
    notes = Notes()
    rec = Recorder(notes, 100_000, fast=fast)  # type: ignore[arg-type]
    root = rec.root(object(), "frame", "f")
    held: dict[str, object] = {}
    keep = []  # (every object made stays alive: no address is reused between the two runs)
    for i, op in enumerate(ops):
        if op[0] == "new":
            held[op[2]] = made(op[1], i, held)
            keep.append(held[op[2]])
            rec.set_slot(root, op[2], held[op[2]])
        elif op[0] == "copy":
            held[op[2]] = held.get(op[1])
            rec.set_slot(root, op[2], held[op[2]])
        elif op[0] == "clear":
            held.pop(op[1], None)
            rec.del_slot(root, op[1])
        else:
            rec.step += 1
            rec.finish_changes()
    rec.step += 1
    rec.finish_changes()
    nodes = {nid: node[:3] + node[5:] for nid, node in rec.nodes.items()}  # (not place, label: R's number)
    tables = [sorted(table) if type(table) is set else table for table in rec.node_tables]
    return {"nodes": nodes, "tables": tables, "ids": sorted(rec.ids.values()), "orphans": rec.orphans,
            "suspects": rec.suspects, "proof": rec.proof, "bridge_gone": rec.bridge_gone,
            "rows": [(name, args) for name, args in notes.calls if "Region" not in args]}


@settings(max_examples=150, deadline=None)
@given(LIFE_OPS)
def test_collect_in_c_leaves_what_its_reference_leaves(ops):
    """The same temporaries made and dropped, recorded by `LifeFast.collect` and by
    `Recorder.collect_py`: the same graph, tables and rows written."""
    if recorder_module.LifeFast is None:
        the_c_forget()
    assert lived(ops, fast=True) == lived(ops, fast=False)


def test_a_node_revived_or_past_the_cap_is_the_references_work():
    """LifeFast.node hands what is not its common case to Recorder.node_py: a revived
    node (under the id it had), the object cap (CapReached), a type not seen yet."""
    if recorder_module.LifeFast is None:
        the_c_forget()
    rec = Recorder(Notes(), 3, fast=True)  # type: ignore[arg-type]
    assert type(rec.node.__self__).__name__ == "LifeFast"
    first, again = Point(1, 2), ["x"]
    nid = rec.node(first)  # (Point: not seen yet; its x and y are plain values)
    assert rec.node(first) == nid and rec.nodes[nid][1:] == ("instance", "Point", "local", "Point", "")
    assert rec.node(again, revive=40) == 40 and 40 in rec.nodes and rec.slots[40] == {}  # (not scanned)
    other = Point(3, 4)
    assert rec.node(other) == nid + 1  # (a known type: made in C, scanned)
    assert sorted(rec.slots[nid + 1]) == ["x", "y"] and rec.born[nid + 1] == rec.step
    with pytest.raises(recorder_module.CapReached):
        rec.node(Point(5, 6))


#: every nodes and slots row of a store, in the same columns
ROWS = """SELECT start, "end", node, kind, type, place, label, detail FROM nodes
          UNION ALL SELECT start, "end", node, name, dst, value, runs, '' FROM slots"""


def written(ops: list[tuple], fast: bool, folder) -> list[tuple]:
    """The rows a real writer wrote of `ops`' temporaries, into a store of its own."""
    store = TraceStore(folder / f"{'c' if fast else 'py'}{len(list(folder.iterdir()))}.db")
    writer = store.writer(store.create_trace("life", {}, {}))
    rec = Recorder(writer, 100_000, fast=fast)
    root = rec.root(object(), "frame", "f")
    held: dict[str, object] = {}
    keep = []
    for i, op in enumerate(ops):
        rec.step += 1
        held[op[1]] = made(op[0], i, held)
        keep.append(held[op[1]])
        rec.set_slot(root, op[1], held[op[1]])
        rec.finish_changes()
    rec.close_all(rec.step + 1)
    writer.finish()
    rows = store.db.execute(ROWS).fetchall()
    store.close()
    return sorted(rows, key=repr)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2, 3, 5, 6]), st.sampled_from("abc")), max_size=300))
@example([(i % 7 if i % 7 != 4 else 0, "abc"[i % 3]) for i in range(400)])  # (groups filled: written)
def test_the_c_entry_of_a_short_lived_node_is_the_writers_own(tmp_path_factory, ops):
    """Temporaries made and dropped with a real writer: the C path's group entries make
    the very rows TraceWriter.node_closed's make (groups filled and written included)."""
    if recorder_module.LifeFast is None:
        the_c_forget()
    folder = tmp_path_factory.mktemp("life")
    assert written(ops, True, folder) == written(ops, False, folder)


PROGRAM = """\
from fractions import Fraction
class Path:
    __slots__ = ("parts", "text")
    def __init__(self, parts):
        self.parts = parts
        self.text = "/".join(parts)
total = Fraction(0)
for i in range(12):
    p = Path(["root", str(i)])
    pair = (Fraction(i, 7), [i])
    total += pair[0]
    gone = p.text
done = total
"""


def test_a_program_making_and_dropping_temporaries_reads_back_at_every_step(tmp_path):
    path = tmp_path / "program.py"
    path.write_text(textwrap.dedent(PROGRAM))
    store = TraceStore(tmp_path / "traces.db")
    outcome = trace_program(path, store, verify=True)
    info = store.trace(outcome.trace)
    assert info.status == "done", info.message
    assert info.summary["verify_problems"] == [] and info.summary["readback_problems"] == []
    # the Path of each turn is drawn while `p` holds it, with its list of two parts
    seen = set()
    for step in store.steps(outcome.trace):
        graph = store.step(outcome.trace, step.index)
        [p] = [e.dst for e in graph.edges if e.name == "p"] or [None]
        if p is None:
            continue
        [parts] = [e.dst for e in graph.edges if e.src == p and e.name == "parts"]
        seen.add(tuple(f.value for f in sorted(graph.fields, key=lambda f: f.name) if f.node == parts))
    assert seen == {("'root'", f"'{i}'") for i in range(12)}
