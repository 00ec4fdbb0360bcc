"""The write barrier: moves, ownership, cross-region errors, and failing stores changing nothing."""

from __future__ import annotations

import pytest

from pyrona import Obj, Region, RegionError, RegionViolationError, enable_implicit_freezing, isfrozen
from pyrona.runtime.regions import region_of
from pyrona.runtime.state import RUNTIME


def test_new_objects_are_local_and_a_store_moves_the_reachable_subgraph():
    r = Region()
    a = Obj()
    a.b = Obj()
    a.b.items = [Obj(), {"k": Obj()}]
    assert region_of(a) is None
    r.a = a
    region = r._pyrona_meta
    assert region_of(a) is region
    assert region_of(a.b) is region
    assert region_of(a.b.items) is region
    assert region_of(a.b.items[0]) is region
    assert region_of(a.b.items[1]["k"]) is region


def test_reference_to_a_non_bridge_object_of_another_region_is_refused():
    r1, r2 = Region(), Region()
    r1.a = Obj()
    with pytest.raises(RegionViolationError) as info:
        r2.a = r1.a
    assert info.value.kind == "region-violation"
    assert "Cannot reference an object from another region" in str(info.value)
    assert "region #1" in str(info.value) and "region #2" in str(info.value)
    assert "a" not in r2


def test_a_bridge_of_a_root_region_becomes_a_child():
    r1, r2 = Region(), Region()
    r1.child = r2
    assert r2._pyrona_meta.parent is r1._pyrona_meta
    with pytest.raises(RegionViolationError, match="already has a parent"):
        Region().other = r2
    with pytest.raises(RegionViolationError, match="already has a parent"):
        r1.again = r2  # a second owning reference, even from the same region


def test_a_parent_link_that_would_make_a_cycle_is_refused():
    r1, r2, r3 = Region(), Region(), Region()
    r1.c = r2
    r2.c = r3
    with pytest.raises(RegionViolationError, match="Cycle created in region hierarchy"):
        r3.c = r1
    assert r1._pyrona_meta.parent is None


def test_overwriting_the_owning_reference_unparents_the_child():
    r1, r2 = Region(), Region()
    r1.data = Obj()
    r1.data.r2 = r2
    r1.data.r2 = None
    assert r2._pyrona_meta.parent is None
    r2.r1 = r1  # now legal the other way round
    assert r1._pyrona_meta.parent is r2._pyrona_meta


def test_a_failing_store_moves_nothing():
    r1, r2 = Region(), Region()
    r1.a = Obj()
    local = Obj()
    local.child = Obj()
    local.bad = r1.a  # a local object may borrow into r1
    with pytest.raises(RegionError):
        r2.x = local  # moving local would make r2 reference r1's object
    assert region_of(local) is None and region_of(local.child) is None
    assert "x" not in r2
    assert set(r2._pyrona_meta.members) == {id(r2), id(r2.__dict__)}  # only the bridge (and its fields)


def test_a_failing_move_does_not_adopt_bridges_met_on_the_way():
    r1, r2, r3 = Region(), Region(), Region()
    r1.a = Obj()
    local = Obj()
    local.sub = r3
    local.bad = r1.a
    with pytest.raises(RegionViolationError):
        r2.x = local
    assert r3._pyrona_meta.parent is None


def test_bridge_of_the_same_region_and_cycles_inside_a_region_are_fine():
    r = Region()
    r.f = Obj()
    r.f.bridge = r
    r.f.me = r.f
    assert region_of(r.f) is r._pyrona_meta


def test_implicit_freezing_freezes_a_shared_target_instead_of_failing():
    enable_implicit_freezing()
    r1, r2 = Region(), Region()
    share = Obj()
    share.text = "info"
    r1.info = share
    r2.info = share
    assert isfrozen(share)
    assert region_of(share) is None and RUNTIME.places[id(share)] is not None


def test_values_functions_and_classes_are_never_moved():
    r = Region()

    class Thing:
        pass

    def helper():
        return 1

    r.n, r.s, r.t, r.f, r.c = 1, "s", (1, "x"), helper, Thing
    assert region_of(helper) is None and region_of(Thing) is None
    other = Region()
    other.t = r.t  # a tuple of values is a value
    other.f = r.f
