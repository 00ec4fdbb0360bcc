"""A plain list's node compared with the list in one pass, and a slots-only instance's
with the instance (tracer/item_reads.py, and the C twins in tracer/_speedups.c): the C
answer is the reference's on random states; whenever it says "the same", a full rescan
changes nothing (not one slot tuple); after a full rescan of values it can tell, it says
"the same"; and code we do not trace that changes a list an object holds (a pathlib
path's, or a library's own) is in the picture at its step, in verify mode, with the C
compare and the reference."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrona.tracer import item_reads, recorder
from pyrona.tracer.hooks import DEEP
from pyrona.runtime.kinds import instance_slots
from pyrona.tracer.item_reads import items_same_py, slots_match_py
from pyrona.tracer.objects import MAX_REPR, short_repr
from pyrona.tracer.recorder import SLOT_DST, SLOT_TEXT, Recorder
from pyrona.tracer.slot_reads import slot_pairs_py
from pyrona.tracer.store import TraceStore


def need_c() -> None:
    if item_reads.ITEMS_SAME != "C":
        if os.environ.get("CI"):
            pytest.fail("the C extension (tracer/_speedups.c) was not built: run `make setup`")
        pytest.skip("the C extension (tracer/_speedups.c) was not built")


class Calls:
    """A writer that takes every row and keeps none."""

    def __getattr__(self, name: str):
        return lambda *args: None


class Thing:
    """An object a list refers to (a node of its own)."""


THINGS = [Thing(), Thing()]
#: items of every case: texts told here (equal texts, other objects, clipped ones), big
#: ints and tuples (not told: the full rescan decides), references
VALUES = ["a", "".join(["a"]), "b", 1, True, 1.0, None, 2 ** 62, 2 ** 70, "x" * 80, "x" * 79 + "y", (1, 2),
          THINGS[0], THINGS[1], "1", 0, False]


def test_the_slot_fields_read_are_the_recorders():
    assert (item_reads._DST, item_reads._TEXT) == (SLOT_DST, SLOT_TEXT)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, len(VALUES) - 1), max_size=6), min_size=1, max_size=8),
       st.booleans(), st.integers(0, 5))
def test_same_means_a_rescan_changes_nothing(states, fast, shuffle):
    """A list goes through random states (items replaced, by equal texts too, lists
    shrunk and grown); before each full rescan, the C compare and the reference agree, and
    when they say "the same" the rescan leaves every slot tuple as it was; after it, they
    say "the same" whenever every item is one they tell and the slots are in order."""
    rec = Recorder(Calls(), 10_000, fast=fast)
    held = [VALUES[i] for i in states[0]]
    nid = rec.node(held)
    for state in states[1:]:
        held[:] = [VALUES[i] for i in state]
        rec.step += 1
        slots = rec.slots[nid]
        if shuffle == 0 and len(slots) > 1:  # (slots out of the dict's order: not the same)
            name, slot = next(iter(slots.items()))
            del slots[name]
            slots[name] = slot
        said = items_same_py(slots, rec.objs, held, MAX_REPR)
        if item_reads.ITEMS_SAME == "C":
            assert item_reads.items_same(slots, rec.objs, held, MAX_REPR) is said
        before = dict(slots)
        rec.rescan(nid)  # (the full rescan: `_rescan_known` asks items_same first)
        if said:
            assert rec.slots[nid].keys() == before.keys()
            assert all(rec.slots[nid][name] is slot for name, slot in before.items())
        told = all(type(v) in (str, bool, float, type(None), Thing)
                   or (type(v) is int and abs(v) < 2 ** 63) for v in held)
        told = told and list(rec.slots[nid]) == [f"[{i}]" for i in range(len(held))]  # (not shuffled)
        assert items_same_py(rec.slots[nid], rec.objs, held, MAX_REPR) is told
        if item_reads.ITEMS_SAME == "C":
            assert item_reads.items_same(rec.slots[nid], rec.objs, held, MAX_REPR) is told


SLOTTED = [type("Base", (), {"__slots__": ("a", "b", "c")})]
SLOTTED += [type("More", (SLOTTED[0],), {"__slots__": ("d",)}),
            type("Shadow", (SLOTTED[0],), {"__slots__": ("a",)})]  # (two descriptors named a)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2),
       st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, len(VALUES) - 1)),
                min_size=1, max_size=20),
       st.booleans())
def test_slots_match_means_a_rescan_changes_nothing(which, ops, fast):
    """A slots-only instance's slots set and deleted at random (a print dropped, as a node
    leaving the graph drops them): the C compare and the reference agree, "the same"
    means a full rescan leaves every slot tuple as it was, and after it they say "the
    same" whenever every set value is one they tell and no two set slots share a name."""
    cls = SLOTTED[which]
    descriptors = instance_slots(cls)
    names = [d.__name__ for d in descriptors]
    obj = cls()
    rec = Recorder(Calls(), 10_000, fast=fast)
    nid = rec.node(obj)
    for put, at, value in ops:
        name = names[at % len(names)]
        if put:
            setattr(obj, name, VALUES[value])
        elif hasattr(obj, name):
            delattr(obj, name)
        rec.step += 1
        rec.slot_prints.clear()
        slots = rec.slots[nid]
        said = slots_match_py(obj, descriptors, slots, rec.objs, MAX_REPR)
        if item_reads.ITEMS_SAME == "C":
            assert item_reads.slots_match(obj, descriptors, slots, rec.objs, MAX_REPR) is said
        before = dict(slots)
        saved = recorder.slots_match
        recorder.slots_match = lambda *args: False  # (the full rescan, always)
        try:
            rec.rescan(nid)
        finally:
            recorder.slots_match = saved
        if said:
            assert rec.slots[nid].keys() == before.keys()
            assert all(rec.slots[nid][name] is slot for name, slot in before.items())
        pairs = slot_pairs_py(obj, descriptors)
        held = [value for _name, value in pairs]
        told = len({name for name, _value in pairs}) == len(pairs) and all(
            type(v) in (str, bool, float, type(None), Thing) or (type(v) is int and abs(v) < 2 ** 63)
            for v in held)
        rec.slot_prints.clear()
        assert slots_match_py(obj, descriptors, rec.slots[nid], rec.objs, MAX_REPR) is told
        if item_reads.ITEMS_SAME == "C":
            assert item_reads.slots_match(obj, descriptors, rec.slots[nid], rec.objs, MAX_REPR) is told


def test_c_and_reference_on_crafted_slots():
    """Names not `[i]`, a slot of another shape, a node gone from objs, texts of another
    value (`'1'` for 1, `1` for True): not the same, in C as in the reference."""
    need_c()
    thing = THINGS[0]
    objs = {7: thing}
    cases = [
        ({"[0]": (0, None, "1", None)}, [1], True),
        ({"[0]": (0, None, "1", None)}, [True], False),
        ({"[0]": (0, None, "1", None)}, ["1"], False),
        ({"[1]": (0, None, "1", None)}, [1], False),
        ({"[0]": (0, 7, None, None)}, [thing], True),
        ({"[0]": (0, 8, None, None)}, [thing], False),
        ({"[0]": (0, 7, None, None)}, [THINGS[1]], False),
        ({"[0]": (0, None, "'a'", None), "[1]": (0, 7, None, None)}, ["a", thing], True),
        ({"[0]": (0, None, "'a'", None)}, ["a", thing], False),
        ({}, [], True),
        ({"[0]": (0, None, "None", None)}, [None], True),
        ({"[0]": (0, None, "1.5", None)}, [1.5], True),
        ({"[0]": (0, None, "(1, 2)", None)}, [(1, 2)], False),  # (not told: the rescan decides)
    ]
    for slots, items, same in cases:
        assert items_same_py(slots, objs, items, MAX_REPR) is same, (slots, items)
        assert item_reads.items_same(slots, objs, items, MAX_REPR) is same, (slots, items)
    with pytest.raises(TypeError):
        item_reads.items_same({}, {}, (), MAX_REPR)


def test_a_fresh_paths_list_is_not_read_again_at_its_first_deep_rescan(tmp_path):
    """A path made a step ago, given to library code: its `_raw_paths` list is compared,
    not rescanned (no set_slot runs), and its slots are left as they were."""
    (tmp_path / "a.py").touch()
    [path] = list(tmp_path.iterdir())
    rec = Recorder(Calls(), 10_000, fast=False)
    rec.step = 1
    nid = rec.node(path)
    raw = rec.slots[nid]["_raw_paths"][SLOT_DST]
    rec.rescan(raw)  # (a new list's items: read at the step's end, by the walk to new objects)
    before = dict(rec.slots[raw])
    calls = []
    rec.set_slot = lambda *args: calls.append(args)
    rec.step = 2
    rec.apply_hint(nid, DEEP)
    assert calls == []
    assert rec.slots[raw] == before and rec.lengths[raw] == 1
    path._raw_paths.append("b")  # (changed by the library: read again)
    rec.set_slot = rec.set_slot_py
    rec.apply_hint(nid, DEEP)
    assert [(name, slot[SLOT_TEXT]) for name, slot in rec.slots[raw].items()] == [
        ("[0]", short_repr(str(tmp_path / "a.py"))), ("[1]", "'b'")]


#: a library (not traced: under site-packages) that changes the lists it is given
LIBRARY = """\
def same_text(box):
    box.items[0] = "".join(["a", "b"])

def swap(box, value):
    box.items[1] = value

def turn(box):
    box.items.reverse()

def shrink(box):
    del box.items[1:]

def look(box):
    return box

def make(cls, thing):
    made = cls()
    made.items = ["ab", thing, 1]
    return made
"""

PROGRAM = """\
import os
import sys
import pathlib
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "site-packages"))
import listlib
class Thing:
    pass
class Box:
    __slots__ = ("items",)
thing = Thing()
b = listlib.make(Box, thing)
listlib.look(b)
listlib.same_text(b)
listlib.swap(b, True)
listlib.swap(b, 1)
listlib.swap(b, "1")
listlib.swap(b, thing)
listlib.turn(b)
listlib.shrink(b)
listlib.look(b)
base = pathlib.Path(tempfile.mkdtemp())
for name in ("one.py", "two.txt"):
    (base / name).touch()
for p in base.iterdir():
    p.stat()
for p in base.iterdir():
    p.unlink()
base.rmdir()
done = 1
"""


@pytest.mark.parametrize("compare", ["C", "Python"])
def test_library_changes_to_held_lists_are_seen_at_their_step(tmp_path, compare):
    """Code we do not trace puts an equal text made afresh in a list, replaces an item by a
    value of the same text but another type (True, 1, "1"), by a node, reverses and
    shrinks the list; pathlib paths are listed and looked at: verify mode passes, and
    each change is in the picture at its line's step, with the C compare and the
    reference (PYRONA_PURE_PYTHON=1)."""
    if compare == "C":
        need_c()
    (tmp_path / "site-packages").mkdir()
    (tmp_path / "site-packages" / "listlib.py").write_text(LIBRARY)
    path = tmp_path / "program.py"
    path.write_text(PROGRAM)
    db = tmp_path / "traces.db"
    run = ("import sys\nfrom pyrona.tracer.run import trace_program\n"
           "from pyrona.tracer.store import TraceStore\n"
           "trace_program(sys.argv[1], TraceStore(sys.argv[2]), verify=True)\n")
    env = {**os.environ, "PYRONA_PURE_PYTHON": "1" if compare == "Python" else "0"}
    subprocess.run([sys.executable, "-c", run, str(path), str(db)], check=True, timeout=300,
                   capture_output=True, env=env)
    store = TraceStore(db)
    info = store.traces()[-1]
    assert info.status == "done", info.message
    assert info.summary["verify_problems"] == [] and info.summary["readback_problems"] == []
    lines = PROGRAM.splitlines()
    after: dict[str, list] = {}
    for step in store.steps(info.id):
        text = lines[step.line - 1].strip() if step.line else ""
        graph = store.step(info.id, step.index)
        named = {e.name: e.dst for e in graph.edges}
        if "b" not in named:
            continue
        [items] = [e.dst for e in graph.edges if e.src == named["b"] and e.name == "items"]
        shown = {f.name: f.value for f in graph.fields if f.node == items}
        shown.update({e.name: "thing" if e.dst == named.get("thing") else e.dst
                      for e in graph.edges if e.src == items})
        after.setdefault(text, []).append(sorted(shown.items()))
    assert after["listlib.look(b)"][0] == [("[0]", "'ab'"), ("[1]", "thing"), ("[2]", "1")]
    assert after["listlib.same_text(b)"][0] == [("[0]", "'ab'"), ("[1]", "thing"), ("[2]", "1")]
    assert [shown[1] for shown in after["listlib.swap(b, True)"]] == [("[1]", "True")]
    assert [shown[1] for shown in after["listlib.swap(b, 1)"]] == [("[1]", "1")]
    assert [shown[1] for shown in after['listlib.swap(b, "1")']] == [("[1]", "'1'")]
    assert [shown[1] for shown in after["listlib.swap(b, thing)"]] == [("[1]", "thing")]
    assert after["listlib.turn(b)"][0] == [("[0]", "1"), ("[1]", "thing"), ("[2]", "'ab'")]
    assert after["listlib.shrink(b)"][0] == [("[0]", "1")]
    assert after["listlib.look(b)"][1] == [("[0]", "1")]


def test_pure_python_forces_the_reference():
    code = "from pyrona.tracer import item_reads, recorder; print(item_reads.ITEMS_SAME, " \
           "recorder.items_same is item_reads.items_same_py)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYRONA_PURE_PYTHON": "1"},
                         check=True, capture_output=True, text=True).stdout
    assert out.split() == ["Python", "True"]
