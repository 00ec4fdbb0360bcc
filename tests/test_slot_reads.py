"""An instance's `__slots__` read in C at their members' offsets (tracer/_speedups.c's
slot_pairs, slot_value, slots_same) give what the pure-Python reference gives
(tracer/slot_reads.py), whatever slots are set, deleted or set again, in classes with
and without a `__dict__`; and a slots-only instance's print (`Recorder._rescan_slotted`)
never hides a change that code we do not trace makes: each program runs in verify mode
(the recorded graph equals a full walk of the heap at every step), with the C reads and
with the reference, and the tests read the picture back."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrona.runtime.kinds import instance_slots
from pyrona.tracer import slot_reads
from pyrona.tracer.recorder import SLOT_TEXT, Recorder
from pyrona.tracer.slot_reads import slot_pairs_py, slot_value_py, slots_same_py
from pyrona.tracer.store import TraceStore

MISSING = object()


@pytest.fixture(scope="module")
def built() -> None:
    need_c()


def need_c() -> None:
    if slot_reads.SLOT_READS != "C":
        if os.environ.get("CI"):
            pytest.fail("the C extension (tracer/_speedups.c) was not built: run `make setup`")
        pytest.skip("the C extension (tracer/_speedups.c) was not built")


def classes() -> list[type]:
    """A base with slots, a subclass adding slots, one adding a `__dict__`, one naming a
    base's slot again (two descriptors of one name), one of a builtin's subclass."""
    base = type("Base", (), {"__slots__": ("a", "b", "c")})
    more = type("More", (base,), {"__slots__": ("d", "e")})
    with_dict = type("WithDict", (base,), {"__slots__": ("f", "__dict__")})
    plain_sub = type("PlainSub", (more,), {})  # (no __slots__: a __dict__)
    shadow = type("Shadow", (base,), {"__slots__": ("a",)})
    listy = type("Listy", (list,), {"__slots__": ("g",)})
    return [base, more, with_dict, plain_sub, shadow, listy]


VALUES = [None, 0, 1, "text", (1, 2), [1], [2], {"k": 1}, 10 ** 40]


def pairs_same(left: list, right: list) -> bool:
    return len(left) == len(right) and all(
        a == c and b is d for (a, b), (c, d) in zip(left, right, strict=True))


OPS = st.lists(st.tuples(st.sampled_from(["set", "del", "print"]), st.integers(0, 7), st.integers(0, 8)),
               max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 5), OPS)
def test_the_c_reads_are_the_reference_on_random_slot_states(built, which, ops):
    """Random stores and deletions of slots (a slot set again after its deletion, to the
    same object or another) on an instance of each class: at every state, the set slots,
    each slot's value, and whether an earlier print still holds are the same in C as in
    the reference."""
    cls = classes()[which]
    descriptors = instance_slots(cls)
    names = [d.__name__ for d in descriptors] + ["x", "y"]  # (x, y: in a __dict__ if any)
    obj = cls()
    prints = [slot_pairs_py(obj, descriptors)]
    for op, at, value in ops:
        name = names[at % len(names)]
        try:
            if op == "set":
                setattr(obj, name, VALUES[value])
            elif op == "del":
                delattr(obj, name)
        except AttributeError:  # (unset, or no such attribute in a slots-only instance)
            pass
        now = slot_reads.slot_pairs(obj, descriptors)
        reference = slot_pairs_py(obj, descriptors)
        assert pairs_same(now, reference)
        assert [n for n, _v in now] == [d.__name__ for d in descriptors
                                         if slot_value_py(obj, d, MISSING) is not MISSING]
        for desc in descriptors:
            assert slot_reads.slot_value(obj, desc, MISSING) is slot_value_py(obj, desc, MISSING)
        for earlier in prints:
            same = slot_reads.slots_same(obj, descriptors, earlier)
            assert same == slots_same_py(obj, descriptors, earlier)
        assert slot_reads.slots_same(obj, descriptors, now)
        if op == "print":
            prints.append(now)


def test_a_slot_deleted_and_another_set_is_not_the_same_print(built):
    """Two slots holding one object each way: the same count of set slots, the same
    values, other names: never taken for the print."""
    cls = classes()[0]
    descriptors = instance_slots(cls)
    obj, shared = cls(), [1]
    obj.a = shared
    before = slot_reads.slot_pairs(obj, descriptors)
    del obj.a
    obj.b = shared
    assert not slot_reads.slots_same(obj, descriptors, before)
    assert not slots_same_py(obj, descriptors, before)
    del obj.b
    obj.a = shared  # (deleted, then set again to the same object: the same picture)
    assert slot_reads.slots_same(obj, descriptors, before) and slots_same_py(obj, descriptors, before)


def test_a_c_type_member_of_another_kind_is_read_through_its_descriptor(built):
    """A descriptor that is not a __slots__ object slot (a C type's getset, a member of
    another kind) is read as `desc.__get__` reads it."""
    desc = complex.__dict__["real"]  # (a getset: any descriptor, not a member)
    assert slot_reads.slot_value(3j, desc, MISSING) == slot_value_py(3j, desc, MISSING) == 0.0
    ranged = type(range(1)).__dict__["start"]  # (a C type's member, Py_T_OBJECT)
    assert slot_reads.slot_value(range(2, 5), ranged, MISSING) == 2
    assert slot_reads.slot_pairs(range(2, 5), [ranged]) == [("start", 2)]


#: a program traced in verify mode in a process of its own, with the C reads or, with a
#: third argument, the reference: python -c VERIFY_RUN PROGRAM DB [python]
VERIFY_RUN = """
import sys
from pyrona.tracer import objects, recorder, slot_reads
if len(sys.argv) > 3:
    objects.slot_pairs = recorder.slot_pairs = slot_reads.slot_pairs_py
    recorder.slot_value, recorder.slots_same = slot_reads.slot_value_py, slot_reads.slots_same_py
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
trace_program(sys.argv[1], TraceStore(sys.argv[2]), verify=True)
"""

#: a library (not traced: under site-packages) that changes the slots of what it is given
LIBRARY = """\
def put(obj, name, value):
    setattr(obj, name, value)

def drop(obj, name):
    delattr(obj, name)

def move(obj, src, dst):
    value = getattr(obj, src)
    delattr(obj, src)
    setattr(obj, dst, value)

def again(obj, name):
    value = getattr(obj, name)
    delattr(obj, name)
    setattr(obj, name, value)

def look(obj):
    return obj

def make(cls):
    made = cls()
    made.items = ["x"]
    made.table = {"k": "v"}
    return made

def grow(obj):
    obj.items.append("y")
    obj.table["k"] = "w"
"""

PROGRAM = """\
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "site-packages"))
import slotlib
class P:
    __slots__ = ("a", "b", "c")
class Q(P):
    __slots__ = ("d",)
class R(P):
    pass
first = [1]
second = [2]
p = Q()
p.a = first
slotlib.put(p, "b", second)
slotlib.move(p, "b", "c")
slotlib.again(p, "c")
slotlib.drop(p, "a")
slotlib.put(p, "d", first)
p.d = second
slotlib.put(p, "d", first)
slotlib.look(p)
r = R()
r.a = first
slotlib.put(r, "b", second)
slotlib.put(r, "x", first)
slotlib.move(r, "b", "c")
class Box:
    __slots__ = ("items", "table")
b = slotlib.make(Box)
slotlib.grow(b)
slotlib.grow(b)
slotlib.grow(b)
done = 1
"""


@pytest.mark.parametrize("reads", ["C", "Python"])
def test_library_changes_to_slots_are_seen_at_their_step(tmp_path, reads):
    """Code we do not trace sets, deletes, moves (a slot deleted, another set to the same
    object) and sets again the slots of a slots-only instance, and puts back in a slot an
    object the graph had there before the program's own store (the print's values are
    then the instance's again: the node's slot tuples are not); it changes the list and
    the dict of an instance it made, twice (read again at once, as temporaries are, then
    compared with their fingerprints): each change is in the picture at the step of its
    line, in verify mode, with the C reads and the reference."""
    if reads == "C":
        need_c()
    (tmp_path / "site-packages").mkdir()
    (tmp_path / "site-packages" / "slotlib.py").write_text(LIBRARY)
    path = tmp_path / "program.py"
    path.write_text(PROGRAM)
    db = tmp_path / "traces.db"
    reference = ["python"] if reads == "Python" else []
    command = [sys.executable, "-c", VERIFY_RUN, str(path), str(db), *reference]
    subprocess.run(command, check=True, timeout=300, capture_output=True)
    store = TraceStore(db)
    info = store.traces()[-1]
    assert info.status == "done", info.message
    assert info.summary["verify_problems"] == [] and info.summary["readback_problems"] == []
    lines = PROGRAM.splitlines()
    after: dict[str, list] = {}  # a line's text -> what its step left, each time it ran
    for step in store.steps(info.id):
        text = lines[step.line - 1].strip() if step.line else ""
        graph = store.step(info.id, step.index)
        named = {e.name: e.dst for e in graph.edges if e.name in ("p", "r", "first", "second")}
        held = {}
        for holder in ("p", "r"):
            if holder in named:
                held[holder] = sorted((e.name, next((k for k, v in named.items() if v == e.dst), e.dst))
                                      for e in graph.edges if e.src == named[holder])
        if "b" in {e.name for e in graph.edges}:
            [box] = [e.dst for e in graph.edges if e.name == "b"]
            members = {e.name: e.dst for e in graph.edges if e.src == box}
            held["b"] = {name: sorted((f.name, f.value) for f in graph.fields if f.node == dst)
                         for name, dst in members.items()}
        after.setdefault(text, []).append(held)

    def left(text: str) -> dict:  # (a line's step shows what the line left)
        return after[text][0]

    assert left("p.a = first")["p"] == [("a", "first")]
    assert left('slotlib.put(p, "b", second)')["p"] == [("a", "first"), ("b", "second")]
    assert left('slotlib.move(p, "b", "c")')["p"] == [("a", "first"), ("c", "second")]
    assert left('slotlib.again(p, "c")')["p"] == [("a", "first"), ("c", "second")]
    assert left('slotlib.drop(p, "a")')["p"] == [("c", "second")]
    assert left("p.d = second")["p"] == [("c", "second"), ("d", "second")]
    # (the last put: `first` back in d, which the print taken at the put before held)
    assert left('slotlib.put(p, "d", first)') == {"p": [("c", "second"), ("d", "first")]}
    assert after['slotlib.put(p, "d", first)'][0]["p"] == [("c", "second"), ("d", "first")]
    assert after['slotlib.put(p, "d", first)'][1]["p"] == [("c", "second"), ("d", "first")]
    assert left("slotlib.look(p)")["p"] == [("c", "second"), ("d", "first")]
    assert left('slotlib.put(r, "x", first)')["r"] == [("a", "first"), ("b", "second"), ("x", "first")]
    assert left('slotlib.move(r, "b", "c")')["r"] == [("a", "first"), ("c", "second"), ("x", "first")]
    # (a box first seen with a list and a dict in its slots, which the library then changes)
    assert left("b = slotlib.make(Box)")["b"] == {"items": [("[0]", "'x'")], "table": [("['k']", "'v'")]}
    grown = after["slotlib.grow(b)"]
    assert [held["b"]["items"] for held in grown] == [
        [("[0]", "'x'"), *((f"[{i}]", "'y'") for i in range(1, n))] for n in (2, 3, 4)]
    assert [held["b"]["table"] for held in grown] == [[("['k']", "'w'")]] * 3


class Calls:
    """A writer that takes every row and keeps none."""

    def __getattr__(self, name: str):
        return lambda *args: None


class Pair:
    __slots__ = ("a", "b")


class Held:
    """An object the program lets go of (a weak reference says when it is gone)."""


@pytest.mark.parametrize("fast", [True, False])
def test_a_slot_print_keeps_nothing_alive_that_left_the_graph(fast):
    """A slots-only instance's print, taken at a rescan that found a change (none at its
    first scan), holds its slots' objects; once one of them leaves the graph (the program
    stored another, a hint told), the prints let go of it, and a rescan of the instance
    reads it again (its slots compared with it, `slots_match`, when nothing changed)."""
    recorder = Recorder(Calls(), 1000, fast=fast)
    pair, held = Pair(), Held()
    pair.a, pair.b = held, 0
    nid = recorder.node(pair)
    assert nid not in recorder.slot_prints
    pair.b = 1  # (a change no hint told)
    recorder.rescan(nid)
    assert [name for name, _value in recorder.slot_prints[nid][0]] == ["a", "b"]
    gone = weakref.ref(held)
    pair.a = None
    recorder.apply_hint(nid, ("attr", "a"))
    recorder.finish_changes()
    del held
    gc.collect()
    assert gone() is None
    assert nid not in recorder.slot_prints
    recorder.rescan(nid)
    slots = recorder.slots[nid]
    assert [(name, slot[SLOT_TEXT]) for name, slot in slots.items()] == [("a", "None"), ("b", "1")]
    # (its slots hold what it holds: told by comparing them with it, no print taken)
    assert nid not in recorder.slot_prints
    pair.b = 2  # (a change no hint told: the next rescan reads it, and takes a print)
    recorder.rescan(nid)
    assert [(name, slot[SLOT_TEXT]) for name, slot in slots.items()] == [("a", "None"), ("b", "2")]
    assert recorder.slot_prints[nid][0] == [("a", None), ("b", 2)]


def test_a_class_with_a_dict_or_its_own_getattr_has_no_slot_print():
    """Only an instance whose attributes are all __slots__, read as `slots_of` reads them,
    gets a print: not one with a `__dict__`, its own `__getattr__`, or a dict base."""
    recorder = Recorder(Calls(), 1000)
    looked = type("Looked", (), {"__slots__": ("a",), "__getattr__": lambda self, name: 1})
    keyed = type("Keyed", (dict,), {"__slots__": ("a",)})
    for cls in [*classes()[2:4], looked, keyed]:
        assert recorder._slots_only(cls) == []
    more = classes()[1]
    assert recorder._slots_only(more) == instance_slots(more)


def test_pure_python_forces_the_reference():
    """PYRONA_PURE_PYTHON=1 makes the reads the reference's, as it does the LINE callback's."""
    code = "from pyrona.tracer import slot_reads, objects; print(slot_reads.SLOT_READS, " \
           "objects.slot_pairs is slot_reads.slot_pairs_py)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYRONA_PURE_PYTHON": "1"},
                         check=True, capture_output=True, text=True).stdout
    assert out.split() == ["Python", "True"]
