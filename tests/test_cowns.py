"""Cowns: what they may own, pending/released, and access to a released cown."""

from __future__ import annotations

import pytest

from pyrona import Cown, CownAccessError, Obj, Region, RegionViolationError, close, freeze, is_released


def test_a_cown_of_none_or_a_frozen_value_is_released_at_once():
    assert is_released(Cown(None))
    shared = freeze(Obj())
    c = Cown(shared)
    assert is_released(c)
    with pytest.raises(CownAccessError, match="Cannot access data on a cown that is not aquired"):
        _ = c.value
    with pytest.raises(CownAccessError, match="Cannot mutate a cown that is not aquired"):
        c.value = None


def test_a_cown_of_an_open_region_is_pending_until_the_region_closes():
    r = Region()
    r.data = Obj()
    data = r.data
    c = Cown(r)
    pending = not is_released(c)
    assert pending and c.value.data is data
    close(c.value)
    assert r is None and data is None
    assert is_released(c)


def test_dropping_the_last_local_reference_releases():
    r = Region()
    c = Cown(r)
    r = None
    assert is_released(c)


def test_a_cown_takes_only_free_regions_frozen_values_and_cowns():
    with pytest.raises(RegionViolationError, match="is not the bridge object of the region"):
        Cown(Obj())
    parent, child = Region(), Region()
    parent.child = child
    with pytest.raises(RegionViolationError, match="A cown can only be created from a free region"):
        Cown(child)
    assert is_released(Cown(Cown(None)))


def test_a_region_owned_by_a_cown_cannot_get_another_parent():
    r = Region()
    c = Cown(r)
    with pytest.raises(RegionViolationError, match="already has a parent"):
        Region().r = r
    del c


def test_cowns_can_be_referenced_from_anywhere_and_are_not_frozen():
    c = Cown(None)
    r1, r2 = Region(), Region()
    r1.c, r2.c = c, c
    x = Obj()
    x.c = c
    freeze(x)
    with pytest.raises(AttributeError):
        c.other = 1
    with pytest.raises(CownAccessError, match="not a cown"):
        is_released(x)
