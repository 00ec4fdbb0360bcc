"""The recorder's set_slot and store hints in C (`SlotsFast`, tracer/_speedups.c) do what
the pure-Python reference does (`Recorder.set_slot_py`, `apply_hints_py`): the same random
stores, applied to two recorders of the same objects, leave the same graph (slots, runs,
references, region borrows, pending work) and the same rows written."""

from __future__ import annotations

import os
from collections import deque, namedtuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyrona import Region
from pyrona.runtime import stores
from pyrona.tracer import recorder as recorder_module
from pyrona.tracer.hooks import TAIL
from pyrona.tracer.objects import place_of
from pyrona.tracer.recorder import RUN_SIZE, Recorder


@pytest.fixture(autouse=True)
def built() -> None:
    if recorder_module.SlotsFast is None:
        if os.environ.get("CI"):
            pytest.fail("the C extension (tracer/_speedups.c) was not built: run `make setup`")
        pytest.skip("the C extension (tracer/_speedups.c) was not built")


class Calls:
    """A writer that notes every call it is given (the rows a real one would write)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __getattr__(self, name: str):
        def note(*args: object) -> None:
            self.calls.append((name, repr(args)))
        return note


class Box:
    """An instance whose attributes live in its __dict__."""


class Slotted:
    __slots__ = ("a", "b")


class Lazy:
    """Attributes looked up through the program's own __getattr__ (the reference's case)."""

    def __getattr__(self, name: str) -> object:
        raise AttributeError(name)


class Shaded:
    a = "class attribute"  # (deleting the instance's `a` leaves the class's)


class Items(list):
    pass


Pair = namedtuple("Pair", "left right extra")


def fresh_pool() -> dict[str, list]:
    bridge = Region()
    inside = Box()
    stores.store_attr(inside, bridge, "member")  # (a member of the region: not a bridge)
    return {
        "obj": [Box(), Box(), Box(), Slotted(), Lazy(), Shaded(), bridge, inside],
        "list": [[], [1, 2], Items([3]), deque([4])],
        "dict": [{}, {"k": 1, 2: 3}],
    }


KEYS = st.one_of(st.integers(-3, 3), st.sampled_from(["k", "x" * 70, "ü"]), st.none(), st.booleans(),
                 st.just(1.5), st.just((1, "t")), st.just(10 ** 30), st.just(2 ** 2000),
                 # (keys named by position, made afresh: equal to the dict's own, not it)
                 st.builds(lambda a: ((a, "t"), a), st.integers(0, 1)),
                 st.builds(lambda a: Pair((a,), 1.0, None), st.booleans()))
PLAIN = st.one_of(st.integers(-5, 5), st.integers(-10 ** 70, 10 ** 70), st.just(2 ** 1100), st.floats(),
                  st.booleans(), st.none(), st.text(max_size=3), st.text(min_size=59, max_size=62),
                  st.tuples(st.integers(0, 2), st.text(max_size=2)), st.just(frozenset({1})),
                  st.just(range(3)), st.just(b"by"), st.just(1j))
#: values made afresh at each store (a new node, read by `scan_items` in C): a tuple, a
#: namedtuple, a list and a tuple subclass of its own iteration (the reference's), each
#: holding a pool object, a number, an inline tuple and a tuple of objects
FRESH = st.tuples(st.sampled_from(["tuple", "pair", "newlist", "own_iter"]), st.integers(0, 7))
VALUES = st.one_of(PLAIN, st.tuples(st.sampled_from(["obj", "list", "dict"]), st.integers(0, 7)), FRESH)
NAMES = st.sampled_from(["a", "b", "c", "member"])
OPS = st.one_of(
    st.tuples(st.just("attr"), st.integers(0, 7), NAMES, VALUES),
    st.tuples(st.just("delattr"), st.integers(0, 7), NAMES),
    st.tuples(st.just("item"), st.integers(0, 1), KEYS, VALUES),
    st.tuples(st.just("delitem"), st.integers(0, 1), KEYS),
    st.tuples(st.just("litem"), st.integers(0, 3), st.integers(-4, 4), VALUES),
    st.tuples(st.just("append"), st.integers(0, 3), VALUES),
    st.tuples(st.just("extend"), st.integers(0, 3), st.lists(VALUES, max_size=3)),
    st.tuples(st.just("pop"), st.integers(0, 3)),
    st.tuples(st.just("var"), NAMES, VALUES),
    st.tuples(st.just("step")),
)




class OwnIter(tuple):
    """A tuple whose iteration is the program's: read by the reference, not by C."""

    def __iter__(self):
        return tuple.__iter__(self)


MAKERS = {"tuple": tuple, "pair": lambda items: Pair(*items), "newlist": list, "own_iter": OwnIter}


def resolve(pool: dict[str, list], value: object) -> object:
    if type(value) is tuple and len(value) == 2 and value[0] in pool:
        group = pool[value[0]]
        return group[value[1] % len(group)]
    if type(value) is tuple and len(value) == 2 and value[0] in MAKERS:
        held = pool["obj"][value[1] % len(pool["obj"])]
        return MAKERS[value[0]]((held, value[1], (held, pool["list"][0])))
    return value


def state(rec: Recorder, writer: Calls, rid: int) -> dict[str, object]:
    """What the recorder holds and wrote (the region's number, new in each run, as R)."""
    ours = (f"r{rid}", f"#{rid}")
    nodes = {nid: tuple(field.replace(ours[0], "rR").replace(ours[1], "#R") if type(field) is str else field
                        for field in node) for nid, node in rec.nodes.items()}
    lrc = {"R" if region == rid else region: count for region, count in rec.lrc.items()}
    return {"slots": rec.slots, "inrefs": rec.inrefs, "nodes": nodes, "lengths": rec.lengths,
            "keyed": rec.keyed, "lrc": lrc, "orphans": rec.orphans, "suspects": rec.suspects,
            "changed": rec.changed, "regions_dirty": rec.regions_dirty, "next_id": rec.next_id,
            "rows": writer.calls}


def run(ops: list[tuple], fast: bool) -> dict[str, object]:
    """Apply `ops` to fresh objects recorded by one recorder (the C twin's or the reference's)."""
    pool = fresh_pool()
    writer = Calls()
    rec = Recorder(writer, 10_000, fast=fast)  # type: ignore[arg-type]
    assert (rec.set_slot.__name__, rec.apply_hints.__name__) == (
        ("set_slot", "apply_hints") if fast else ("set_slot_py", "apply_hints_py"))
    frame = object()
    root = rec.root(frame, "frame", "f")
    rec.set_slot(root, "pool", pool)
    dirty: list[tuple] = []
    for op in ops:
        what, *args = op
        try:
            if what == "attr":
                obj = resolve(pool, ("obj", args[0]))
                setattr(obj, args[1], resolve(pool, args[2]))
                dirty.append((obj, ("attr", args[1])))
            elif what == "delattr":
                obj = resolve(pool, ("obj", args[0]))
                if args[1] in getattr(obj, "__dict__", {}):
                    delattr(obj, args[1])
                dirty.append((obj, ("attr", args[1])))
            elif what == "item":
                obj = resolve(pool, ("dict", args[0]))
                obj[args[1]] = resolve(pool, args[2])
                dirty.append((obj, ("item", args[1])))
            elif what == "delitem":
                obj = resolve(pool, ("dict", args[0]))
                obj.pop(args[1], None)
                dirty.append((obj, ("item", args[1])))
            elif what == "litem":
                obj = resolve(pool, ("list", args[0]))
                if -len(obj) <= args[1] < len(obj):
                    obj[args[1]] = resolve(pool, args[2])
                dirty.append((obj, ("item", args[1])))
            elif what == "append":
                obj = resolve(pool, ("list", args[0]))
                obj.append(resolve(pool, args[1]))
                dirty.append((obj, TAIL))
            elif what == "extend":
                obj = resolve(pool, ("list", args[0]))
                obj.extend(resolve(pool, v) for v in args[1])
                dirty.append((obj, TAIL))
            elif what == "pop":
                obj = resolve(pool, ("list", args[0]))
                if obj:
                    obj.pop()
                dirty.append((obj, None))
            elif what == "var":  # a frame's variable, as the monitor stores it
                rec.set_slot(root, args[0], resolve(pool, args[1]))
            else:
                rec.step += 1
                rec.apply_hints(dirty)
                assert dirty == []
                rec.finish_changes()
        except (TypeError, AttributeError):  # (an unhashable key, no such slot: the same on both sides)
            pass
    rec.step += 1
    rec.apply_hints(dirty)
    rec.finish_changes()
    rec.flush_runs()
    return state(rec, writer, int(place_of(pool["obj"][6])[1:]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, max_size=40))
def test_c_and_python_record_the_same(ops: list[tuple]) -> None:
    fast, pure = run(ops, True), run(ops, False)
    for key in pure:
        assert fast[key] == pure[key], key


def test_a_slot_changed_past_a_run_is_written_the_same() -> None:
    """An attribute that changes at every step fills its run (RUN_SIZE): both write it."""
    ops = [op for i in range(RUN_SIZE) for op in (("attr", 0, "a", i), ("attr", 1, "b", ("obj", i % 3)),
                                                 ("append", 0, i), ("step",))]
    fast, pure = run(ops, True), run(ops, False)
    assert any(name == "slot_run" for name, _ in pure["rows"])
    assert fast == pure


def test_a_reference_into_a_region_is_counted_the_same() -> None:
    """A local object that refers to a region's member is a borrow (lrc), in both."""
    ops = [("attr", 0, "a", ("obj", 7)), ("step",), ("attr", 0, "a", None), ("step",),
           ("var", "c", ("obj", 7)), ("step",)]
    fast, pure = run(ops, True), run(ops, False)
    assert pure["lrc"] and pure["regions_dirty"]
    assert fast == pure


def test_a_new_tuple_or_list_is_read_item_by_item() -> None:
    """A new tuple, namedtuple or list stored in a slot gets a node whose slots `[i]` are its
    items (read in C by `scan_items`), as the reference reads them; a tuple subclass of its
    own iteration is read by the reference alone (the program's __iter__)."""
    ops = [("var", "a", ("tuple", 1)), ("var", "b", ("pair", 2)), ("var", "c", ("newlist", 0)),
           ("var", "member", ("own_iter", 3)), ("step",), ("var", "a", ("tuple", 1)), ("step",)]
    fast, pure = run(ops, True), run(ops, False)
    assert fast == pure
    rec = Recorder(Calls(), 100, fast=True)  # type: ignore[arg-type]
    assert rec.scan_items is not None
    root = rec.root(object(), "frame", "f")
    box, inner = Box(), [1]
    rec.set_slot(root, "t", Pair(box, 70 * "x", (box, inner)))
    rec.set_slot(root, "xs", [box, 2.5, None] + list(range(70)))
    t = rec.slots[root]["t"][1]
    xs = rec.slots[root]["xs"][1]
    held = {name: (slot[1], slot[2]) for name, slot in rec.slots[t].items()}
    pair = held["[2]"][0]
    assert held == {"[0]": (rec.ids[id(box)], None), "[1]": (None, repr(70 * "x")[:59] + "…"),
                    "[2]": (pair, None)}
    assert {name: slot[1] for name, slot in rec.slots[pair].items()} == {
        "[0]": rec.ids[id(box)], "[1]": rec.ids[id(inner)]}
    assert rec.slots[xs]["[0]"][1] == rec.ids[id(box)] and rec.slots[xs]["[1]"][2] == "2.5"
    assert rec.slots[xs]["[72]"][2] == "69" and len(rec.slots[xs]) == 73 and rec.lengths[xs] == 73


def test_a_fresh_key_equal_to_the_dicts_own_changes_its_value_alone() -> None:
    """`d[(a, b)] += 1` makes its key afresh: the dict keeps the first, and the slot
    `value{i}` of that key changes, found by value (`equal_key`), in C as in the reference's
    rescan; a key equal to a held one only by the program's own __eq__ is never compared."""
    ops = [("item", 0, ((0, "t"), 0), 1), ("item", 0, ((1, "t"), 1), 2), ("step",),
           ("item", 0, ((0, "t"), 0), 3), ("step",), ("item", 0, Pair((True,), 1.0, None), 4),
           ("step",), ("item", 0, Pair((1,), 1, None), 5), ("step",)]
    fast, pure = run(ops, True), run(ops, False)
    assert fast == pure
    from pyrona.tracer._speedups import equal_key

    first, second = ((0, "t"), 0), ((1, "t"), 1)
    d = {"k": 1, first: 2, second: 3}
    assert equal_key(d, ((0, "t"), 0)) == (1, first) and equal_key(d, ((0, "t"), 0))[1] is first
    assert equal_key(d, ((1, "t"), 1))[0] == 2 and equal_key(d, ((2, "t"), 1)) is None

    class Loud(tuple):
        def __eq__(self, other):
            raise AssertionError("the program's __eq__ ran")
        __hash__ = tuple.__hash__

    odd = {Loud((1, 2)): 0, ((Box(),), 1): 1}
    assert equal_key(odd, (1, 2)) is None and equal_key(odd, Loud((1, 2))) is None
    assert equal_key({(1, 2): 0}, [1, 2]) is None
