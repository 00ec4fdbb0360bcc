"""Checked stores on ordinary Python objects: instances, slots, dict, list, set, deque."""

from __future__ import annotations

from collections import deque

import pytest

from pyrona import FrozenMutationError, Obj, Region, RegionViolationError, freeze, isfrozen
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


# --- writes through an instance's __dict__ (the dict goes where its instance goes) ---

def _run(src: str, fast_paths: bool, **names):
    """Run `src` rewritten (as `pyrona run` does), with the runtime's hooks."""
    from pyrona.instrument.hooks import HOOKS
    from pyrona.instrument.rewrite import compile_program

    ns = {"__name__": "prog", **HOOKS, **names}
    exec(compile_program(src, "prog.py", fast_paths=fast_paths), ns)
    return ns


#: Stores of VALUE into field x (or into the list in field items) of `o`, through its dict.
DICT_STORES = [
    "o.__dict__['x'] = VALUE",
    "vars(o)['x'] = VALUE",
    "d = o.__dict__\nd['x'] = VALUE",
    "o.__dict__.update(x=VALUE)",
    "vars(o).update({'x': VALUE})",
    "o.__dict__.update([('x', VALUE)])",
    "o.__dict__.setdefault('x', VALUE)",
    "vars(o)['x'] = [VALUE]",
    "o.__dict__['items'] += [VALUE]",
    "o.__dict__ |= {'x': VALUE}",
]


def _member(r):
    job = Job("j")
    job.items = []
    r.job = job
    return job


@pytest.mark.parametrize("fast_paths", [True, False], ids=["fast", "hooks"])
@pytest.mark.parametrize("stmt", DICT_STORES)
def test_a_store_through_the_dict_of_a_member_refuses_a_foreign_object(stmt, fast_paths):
    r, other = Region(), Region()
    job = _member(r)
    other.o = Obj()
    before = dict(vars(job)), list(job.items)
    with pytest.raises(RegionViolationError, match="another region"):
        _run(stmt.replace("VALUE", "foreign"), fast_paths, o=job, foreign=other.o)
    assert (dict(vars(job)), list(job.items)) == before  # a failing store changes nothing
    assert region_of(vars(job)) is r._pyrona_meta


@pytest.mark.parametrize("fast_paths", [True, False], ids=["fast", "hooks"])
@pytest.mark.parametrize("stmt", DICT_STORES)
def test_a_store_through_the_dict_of_a_member_moves_a_local_object_in(stmt, fast_paths):
    r = Region()
    job = _member(r)
    fresh = Job("new")
    _run(stmt.replace("VALUE", "fresh"), fast_paths, o=job, fresh=fresh)
    assert region_of(fresh) is r._pyrona_meta and region_of(fresh.deps) is r._pyrona_meta
    assert region_of(vars(fresh)) is r._pyrona_meta


@pytest.mark.parametrize("stmt", [*DICT_STORES, "del o.__dict__['name']", "vars(o).pop('name')",
                                  "o.__dict__.popitem()", "o.__dict__.clear()",
                                  "del vars(o)['name']", "o.__dict__.pop('name', None)"])
def test_a_write_through_the_dict_of_a_frozen_object_is_refused(stmt):
    job = Job("j")
    job.items = []
    freeze(job)
    before = dict(vars(job))
    with pytest.raises(FrozenMutationError):
        _run(stmt.replace("VALUE", "1"), True, o=job)
    assert vars(job) == before


@pytest.mark.parametrize("stmt", ["del o.__dict__['kid']", "vars(o).pop('kid')", "o.__dict__.clear()",
                                  "o.__dict__.popitem()", "o.__dict__['kid'] = None",
                                  "o.__dict__.update(kid=None)"])
def test_dropping_an_owning_reference_through_the_dict_unparents_the_child(stmt):
    r, child = Region(), Region()
    holder = Obj()
    r.holder = holder
    job = _member(r)
    del job.deps, job.name  # (kid is its only field: popitem takes it)
    store_attr(child, job, "kid")
    assert child._pyrona_meta.parent is r._pyrona_meta
    _run(stmt, True, o=job)
    assert child._pyrona_meta.parent is None


def test_the_dict_of_a_bag_is_checked_too():
    r, other = Region(), Region()
    other.o = Obj()
    with pytest.raises(RegionViolationError):
        _run("r.__dict__['x'] = foreign", True, r=r, foreign=other.o)
    with pytest.raises(RegionViolationError):
        _run("vars(r).update(x=foreign)", True, r=r, foreign=other.o)
    assert "x" not in r
    fresh = []
    _run("vars(r)['x'] = fresh", True, r=r, fresh=fresh)
    assert r.x is fresh and region_of(fresh) is r._pyrona_meta


def test_the_dict_of_a_local_object_is_local_and_follows_it():
    job = Job("j")
    _run("vars(o)['x'] = [1]\no.__dict__.update(y=2)", True, o=job)
    assert region_of(vars(job)) is None and job.x == [1] and job.y == 2
    r = Region()
    r.job = job
    assert region_of(vars(job)) is r._pyrona_meta
    freeze(job)
    assert isfrozen(vars(job))


def test_replacing_the_dict_of_a_member_is_checked():
    r, other = Region(), Region()
    job = _member(r)
    other.o = Obj()
    with pytest.raises(RegionViolationError):
        _run("o.__dict__ = {'x': foreign}", True, o=job, foreign=other.o)
    fresh = {"x": []}
    _run("o.__dict__ = fresh", True, o=job, fresh=fresh)
    assert vars(job) is fresh and region_of(fresh) is region_of(fresh["x"]) is r._pyrona_meta
