"""Checked stores on ordinary Python objects: instances, slots, dict, list, set, deque."""

from __future__ import annotations

from collections import deque

import pytest

from pyrona import FrozenMutationError, Obj, Region, RegionViolationError, freeze
from pyrona.runtime.regions import region_of
from pyrona.runtime.stores import (
    aug_attr,
    aug_item,
    builtin,
    delete_attr,
    inplace,
    method,
    store_attr,
    store_item,
)


class Job:
    def __init__(self, name):
        self.name = name
        self.deps = []


class Slotted:
    __slots__ = ("a", "__private")


def test_instances_and_their_attributes_move_with_a_store():
    r = Region()
    job = Job("build")
    store_attr(job, r, "job")
    assert region_of(job) is r._pyrona_meta and region_of(job.deps) is r._pyrona_meta
    other = Region()
    with pytest.raises(RegionViolationError):
        store_attr(job.deps, other, "deps")
    other.o = Obj()
    with pytest.raises(RegionViolationError):
        store_attr(other.o, job, "x")  # job is in r now
    assert not hasattr(job, "x")


def test_slots_are_followed_and_checked():
    r = Region()
    s = Slotted()
    s.a = [Obj()]
    store_attr(s, r, "s")
    assert region_of(s.a) is r._pyrona_meta and region_of(s.a[0]) is r._pyrona_meta
    freeze(s)
    with pytest.raises(FrozenMutationError):
        store_attr(1, s, "a")


@pytest.mark.parametrize(
    "call",
    [
        lambda xs, v: method(xs, "append")(v),
        lambda xs, v: method(xs, "insert")(0, v),
        lambda xs, v: method(xs, "extend")(iter([v])),
        lambda xs, v: method(xs, "__iadd__")([v]),
        lambda xs, v: store_item(v, xs, 0),
        lambda xs, v: store_item(iter([v]), xs, slice(0, 1)),
        lambda xs, v: method(list, "append")(xs, v),
    ],
)
def test_list_mutators_move_local_values_and_refuse_foreign_ones(call):
    r = Region()
    store_attr([0], r, "xs")
    xs = r.xs
    local = Obj()
    call(xs, local)
    assert local in xs and region_of(local) is r._pyrona_meta
    foreign = Region()
    foreign.o = Obj()
    before = list(xs)
    with pytest.raises(RegionViolationError):
        call(xs, foreign.o)
    assert xs == before


def test_dict_and_set_mutators():
    r = Region()
    r.d, r.s = {}, set()
    k, v, e = Obj(), Obj(), Obj()
    method(r.d, "update")({k: v}, extra=Obj())
    method(r.d, "setdefault")("x", [])
    method(r.s, "add")(e)
    for obj in (k, v, r.d["extra"], r.d["x"], e):
        assert region_of(obj) is r._pyrona_meta
    other = Region()
    other.o = Obj()
    with pytest.raises(RegionViolationError):
        method(r.d, "update")(a=other.o)
    with pytest.raises(RegionViolationError):
        inplace(r.s, "|=", {other.o})
    assert "a" not in r.d and other.o not in r.s


def test_deque_and_inplace_operators():
    r = Region()
    r.q = deque()
    method(r.q, "appendleft")(Obj())
    assert region_of(r.q[0]) is r._pyrona_meta
    r.counter = 1
    aug_attr(r, "counter", "+=", 2)
    assert r.counter == 3
    r.items = [1]
    same = inplace(r.items, "+=", [Obj()])
    assert same is r.items and region_of(r.items[1]) is r._pyrona_meta
    r.table = {"n": [1]}
    aug_item(r.table, "n", "+=", [Obj()])
    assert region_of(r.table["n"][1]) is r._pyrona_meta
    foreign = Region()
    foreign.o = Obj()
    with pytest.raises(RegionViolationError):
        aug_item(r.table, "n", "+=", [foreign.o])
    assert len(r.table["n"]) == 2


def test_popping_the_owning_reference_unparents_the_child():
    r, child = Region(), Region()
    r.kids = []
    method(r.kids, "append")(child)
    assert child._pyrona_meta.parent is r._pyrona_meta
    method(r.kids, "pop")()
    assert child._pyrona_meta.parent is None


def test_setattr_and_object_setattr_are_checked():
    r = Region()
    job = Job("x")
    store_attr(job, r, "job")
    foreign = Region()
    foreign.o = Obj()
    with pytest.raises(RegionViolationError):
        builtin(setattr)(job, "bad", foreign.o)
    with pytest.raises(RegionViolationError):
        method(object, "__setattr__")(job, "bad", foreign.o)
    assert not hasattr(job, "bad")
    delete_attr(job, "name")
    assert not hasattr(job, "name")
    assert builtin(print) is print
