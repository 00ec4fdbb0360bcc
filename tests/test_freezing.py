"""freeze / isfrozen: deep, all or nothing, classes frozen with their instances."""

from __future__ import annotations

import io
import threading
import types

import pytest

from pyrona import (
    FrozenMutationError,
    NotFreezableError,
    Obj,
    Region,
    freeze,
    is_frozen,
    isfrozen,
)
from pyrona.immutable import FREEZABLE_NO, set_freezable
from pyrona.runtime.regions import region_of
from pyrona.runtime.state import RUNTIME
from pyrona.runtime.stores import delete_item, method, store_attr, store_item

from freeze_walks import WALKS, use_walk

@pytest.fixture(autouse=True, params=sorted(WALKS))
def walk(request, monkeypatch):
    """Every test twice: with freeze's C loops and with their pure-Python twins."""
    use_walk(request.param, monkeypatch)
    return request.param


def test_freeze_is_deep_through_containers_and_instances():
    class Point:
        __slots__ = ("x", "y")

    p = Point()
    p.x, p.y = [1], {"k": {2}}
    data = {"list": [p, (Obj(),)], "set": {frozenset({3})}}
    freeze(data)
    assert isfrozen(data) and isfrozen(data["list"]) and isfrozen(p)
    assert isfrozen(p.x) and isfrozen(p.y) and isfrozen(p.y["k"])
    assert isfrozen(data["list"][1]) and isfrozen(data["list"][1][0])
    assert is_frozen is isfrozen


def test_values_are_frozen_and_fresh_objects_are_not():
    for value in (1, "s", None, 2.5, (1, ("a",)), b"x", frozenset({1})):
        assert isfrozen(value)
    for obj in ([], {}, set(), Obj(), (1, [])):
        assert not isfrozen(obj)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: store_item(1, d["list"], 0),
        lambda d: method(d["list"], "append")(1),
        lambda d: method(d["list"], "sort")(),
        lambda d: method(d, "update")({"x": 1}),
        lambda d: method(d, "pop")("list"),
        lambda d: delete_item(d, "list"),
        lambda d: method(d["set"], "add")(4),
        lambda d: method(d["set"], "discard")(1),
        lambda d: store_attr(1, d["obj"], "x"),
        lambda d: setattr(d["obj"], "x", 1),
        lambda d: d["obj"].__setitem__("y", 1),
    ],
)
def test_every_mutation_of_a_frozen_container_is_refused(mutate):
    data = {"list": [3, 1], "set": {1}, "obj": Obj()}
    freeze(data)
    with pytest.raises(FrozenMutationError) as info:
        mutate(data)
    assert isinstance(info.value, TypeError)
    assert info.value.kind == "frozen-mutation"
    assert "Cannot mutate immutable object" in str(info.value)
    assert data["list"] == [3, 1] and data["set"] == {1} and "x" not in data["obj"]


def test_freezing_an_instance_freezes_its_class_and_bases():
    class Base:
        registry: list = []

    class Child(Base):
        pass

    freeze(Child())
    assert isfrozen(Child) and isfrozen(Base) and isfrozen(Base.registry)
    with pytest.raises(FrozenMutationError):
        store_attr(1, Child, "extra")


def test_unfreezable_objects_raise_and_nothing_is_frozen():
    box = {"a": [1], "lock": threading.Lock()}
    with pytest.raises(NotFreezableError, match="Cannot freeze instance of type lock"):
        freeze(box)
    assert not isfrozen(box) and not isfrozen(box["a"])
    with pytest.raises(NotFreezableError):
        freeze([io.StringIO()])
    module = types.ModuleType("m")  # a module becomes an immutable proxy (see test_immutable_*)
    set_freezable(module, FREEZABLE_NO)
    with pytest.raises(NotFreezableError, match="FREEZABLE_NO"):
        freeze([1], module)


def test_freezing_a_bridge_ends_its_region_and_freezes_its_subregions():
    from pyrona.runtime.state import RUNTIME

    r1, r2 = Region(), Region()
    rids = (r1._pyrona_meta.rid, r2._pyrona_meta.rid)
    r1.data = Obj()
    r1.data.sub = r2
    r2.x = Obj()
    freeze(r1)
    assert isfrozen(r1) and isfrozen(r1.data) and isfrozen(r2) and isfrozen(r2.x)
    assert type(r1) is Obj and r1._pyrona_meta is None
    # the views mark a frozen former bridge: which objects were bridges is remembered
    assert (RUNTIME.frozen_bridges.get(id(r1)), RUNTIME.frozen_bridges.get(id(r2))) == rids
    assert id(r1.data) not in RUNTIME.frozen_bridges
    assert region_of(r2.x) is None
    r3 = Region()
    r3.shared = r1  # frozen objects may be referenced from any region
    Region().shared = r1


def test_freeze_stops_at_cowns():
    from pyrona import Cown

    c = Cown(None)
    x = Obj()
    x.c = c
    freeze(x)
    assert isfrozen(x) and not isfrozen(c)


class _Record:
    def __init__(self, value: object) -> None:
        self.value = value


class _Key:
    """A hashable, mutable object: a dict key that is not a value."""

    def __init__(self) -> None:
        self.items: list[int] = []


def test_an_instance_dict_reached_before_its_instance_is_frozen_with_its_values():
    # the dict keeps its values in the instance (CPython 3.13): gc does not see them through it
    records = [_Record([i]) for i in range(3)]
    freeze([vars(r) for r in records], records)
    for r in records:
        assert isfrozen(r) and isfrozen(vars(r)) and isfrozen(r.value)


def test_an_instance_dict_alone_is_frozen_with_its_values_not_its_instance():
    r = _Record([1])
    freeze(vars(r))
    assert isfrozen(vars(r)) and isfrozen(r.value) and not isfrozen(r)


def test_keys_that_are_not_values_are_frozen_among_many_plain_dicts():
    key = _Key()
    dicts = [{"a": [i]} for i in range(50)] + [{key: [0]}]
    freeze(dicts)
    assert isfrozen(key) and isfrozen(key.items) and all(isfrozen(d["a"]) for d in dicts[:-1])


def test_an_object_met_twice_in_one_level_is_frozen_once_and_its_items_too():
    shared, record = [[1]], _Record([2])
    plan = freeze([shared, shared, record, record, {"x": shared}])
    assert isfrozen(shared[0]) and isfrozen(record.value) and isfrozen(plan[4])
    frozen = RUNTIME.frozen_objects()
    assert len(frozen) == len({id(o) for o in frozen})
