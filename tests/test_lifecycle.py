"""close / is_closed, merge, dissolve and collection of unreachable regions."""

from __future__ import annotations

import gc

import pytest

from pyrona import (
    CloseError,
    DissolveError,
    MergeError,
    Obj,
    Region,
    close,
    dissolve,
    is_closed,
    merge,
)
from pyrona.runtime.lifecycle import collect_garbage
from pyrona.runtime.regions import region_of
from pyrona.runtime.scan import counters, scan
from pyrona.runtime.state import RUNTIME


def test_a_region_is_open_while_a_local_reference_reaches_it():
    r = Region()
    r.a = Obj()
    assert not is_closed(r)
    holder = Region()
    holder.child = r
    borrowed = r.a
    r = None
    # (results are kept in variables: pytest's assert rewriting would hold the
    # argument in a temporary, which is a local reference too)
    still_open = not is_closed(holder.child)  # `borrowed` still points into it
    borrowed = None  # noqa: F841 (dropping the local reference is the point)
    closed = is_closed(holder.child)
    assert still_open and closed


def test_counters_follow_frankenscript():
    r1 = Region()
    r2 = Region()
    r1.r2 = r2
    r2.a = Obj()
    ref = r2.a
    found = counters(scan().lrc)
    c1, c2 = found[r1._pyrona_meta], found[r2._pyrona_meta]
    assert (c2.lrc, c2.sbrc, c2.open) == (2, 0, True)  # r2 and ref
    assert (c1.lrc, c1.sbrc, c1.open) == (1, 1, True)
    del ref


def _nested_caller():
    r = Region()
    r.data = Obj()
    inner = r.data
    _close_from_below(r)
    return r, inner


def _close_from_below(bridge):
    alias = bridge
    close(alias)
    assert alias is None


def test_close_clears_local_references_in_every_frame_and_local_object():
    r, inner = _nested_caller()
    assert r is None and inner is None
    r2 = Region()
    r2.x = Obj()
    box = {"v": r2.x, "l": [r2, 1], "s": {r2.x}}
    keep = r2
    close(r2)
    assert r2 is None and keep is None
    assert box["v"] is None and box["l"] == [None, 1] and box["s"] == {None}


def test_close_of_a_parent_with_open_subregions_clears_them_too():
    r1, r2 = Region(), Region()
    r1.r2 = r2
    r2.x = Obj()
    x = r2.x
    close(r1)
    assert r1 is None and r2 is None and x is None


def test_close_refuses_a_prototype_link_and_changes_nothing():
    r1 = Region()
    proto = Obj()
    local_value = Obj(proto=proto)  # noqa: F841 (a local object whose prototype is in r1)
    r1.value = Obj(proto=proto)
    with pytest.raises(CloseError, match="Can't close the region due to this prototype"):
        close(r1)
    assert proto is not None and r1 is not None


def test_close_and_is_closed_need_a_bridge():
    for bad in (None, Obj(), [1]):
        with pytest.raises(CloseError, match="is not the bridge object of the region"):
            close(bad)
        with pytest.raises(CloseError):
            is_closed(bad)


def test_merge_moves_everything_into_the_parent():
    r1, r2, r3 = Region(), Region(), Region()
    r2.a = Obj()
    r2.r3 = r3
    r1.r2 = r2
    merge(r2, r1)
    assert region_of(r2.a) is r1._pyrona_meta and region_of(r2) is r1._pyrona_meta
    assert type(r2) is Obj
    assert r3._pyrona_meta.parent is r1._pyrona_meta
    r1.a = r2.a
    with pytest.raises(MergeError, match="Source is not a region"):
        merge(r2, r1)


def test_merge_errors():
    r1, r2 = Region(), Region()
    with pytest.raises(MergeError, match="Sink is not a parent of source"):
        merge(r2, r1)
    with pytest.raises(MergeError, match="Sink is not a region"):
        merge(r2, Obj())
    merge(r1, r1)  # the same region: nothing happens


def test_dissolve_makes_everything_local_and_children_roots():
    r1, r2 = Region(), Region()
    r1.a = Obj()
    r1.r2 = r2
    dissolve(r1)
    assert region_of(r1.a) is None and region_of(r1) is None and type(r1) is Obj
    assert r2._pyrona_meta.parent is None
    r2.a = r1.a
    with pytest.raises(DissolveError, match="Argument is not a region"):
        dissolve(r1)


def test_dissolve_refuses_a_child():
    r1, r2 = Region(), Region()
    r1.r2 = r2
    with pytest.raises(DissolveError, match="child of another"):
        dissolve(r2)


def test_unreachable_regions_are_collected_and_reachable_ones_kept():
    keep = Region()
    keep.self_cycle = keep
    for _ in range(3):
        dropped = Region()
        dropped.x = Obj()
        dropped.x.back = dropped
    borrowed_member = dropped.x
    dropped = None
    gc.collect()
    collected = collect_garbage()
    assert len(collected) == 2  # the last one is still borrowed through a member
    assert keep._pyrona_meta.rid in RUNTIME.regions
    assert region_of(borrowed_member) is not None
    child_holder = Region()
    child_holder.c = Region()
    assert collect_garbage() == []


def test_region_creation_in_a_loop_does_not_grow_without_bound():
    for _ in range(2000):
        r = Region()
        r.x = [Obj()]
    assert len(RUNTIME.regions) < 200
    assert len(RUNTIME.places) < 1000


def test_a_region_nothing_reaches_gives_up_its_child_before_a_store_is_refused():
    """`Region().x = other` makes `other` the child of a region that is garbage at once (in
    FrankenScript it goes with its last reference): a later owner may take `other`."""
    from pyrona import RegionViolationError

    other = Region()
    Region().stolen = other
    holder = Region()
    holder.child = other  # no "Region already has a parent"
    assert holder.child is other
    keeper = Region()
    keeper.child = Region()
    with pytest.raises(RegionViolationError, match="already has a parent"):
        holder.also = keeper.child  # a live owner still refuses a second one
