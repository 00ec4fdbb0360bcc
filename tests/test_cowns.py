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


def test_a_cown_takes_only_free_regions_frozen_values_cowns_and_local_objects():
    inner = Region()
    inner.x = Obj()
    with pytest.raises(RegionViolationError, match="is not the bridge object of the region"):
        Cown(inner.x)  # a non-bridge object already in a region
    with pytest.raises(RegionViolationError, match="is not the bridge object of the region"):
        Cown(test_dropping_the_last_local_reference_releases)  # a (mutable) function is no region
    assert is_released(Cown(len))  # a builtin function counts as frozen (as in the prototype)
    parent, child = Region(), Region()
    parent.child = child
    with pytest.raises(RegionViolationError, match="A cown can only be created from a free region"):
        Cown(child)
    assert is_released(Cown(Cown(None)))


class Account:
    def __init__(self, name: str, balance: int) -> None:
        self.name, self.balance, self.history = name, balance, [Obj(kind="opened")]


def test_a_local_object_becomes_the_bridge_of_a_region_the_cown_owns():
    c = Cown(Account("alice", 10))  # bocpy's idiom: nothing local keeps the account
    assert is_released(c)
    from pyrona.runtime.regions import region_of, region_of_bridge

    with c as account:
        region = region_of_bridge(account)
        assert region is not None and region.owner is c
        # its whole reachable local graph moved in with it
        assert region_of(account.history) is region and region_of(account.history[0]) is region
        assert account.balance == 10
    assert account is None  # the `with` variable is cleared as `close` clears it


def test_a_cown_of_a_local_object_still_referenced_locally_is_pending():
    account = Account("bob", 0)
    c = Cown(account)
    assert not is_released(c) and c.value is account
    account = None
    assert is_released(c)


def test_a_refused_local_object_changes_nothing():
    r = Region()
    r.x = Obj()
    bad = Account("eve", 0)
    bad.history.append(r.x)  # reaches a non-bridge object of another region
    from pyrona.runtime.regions import region_of
    from pyrona.runtime.state import RUNTIME

    regions = len(RUNTIME.regions)
    with pytest.raises(RegionViolationError, match="not its bridge"):
        Cown(bad)
    assert region_of(bad) is None and region_of(bad.history) is None and len(RUNTIME.regions) == regions


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
    with pytest.raises(CownAccessError, match="not aquired"):  # released, not frozen
        c.other = 1
    with pytest.raises(CownAccessError, match="not a cown"):
        is_released(x)


def _instrumented(src: str, **names):
    """Run `src` rewritten, with the runtime's hooks; returns its namespace."""
    from pyrona.instrument.hooks import HOOKS
    from pyrona.instrument.rewrite import compile_program

    ns = {"__name__": "prog", **HOOKS, **names}
    exec(compile_program(src, "prog.py"), ns)
    return ns


RELEASED_WRITES = [
    "c.value = None",
    "c.other = 1",
    "c._value = Obj()",
    "c._state = 'acquired'",
    "setattr(c, 'other', 1)",
    "setattr(c, 'value', None)",
    "object.__setattr__(c, '_value', None)",
    "object.__setattr__(c, '_state', 'pending')",
    "c.__setattr__('other', 1)",
    "del c.value",
    "del c._value",
    "delattr(c, 'other')",
    "object.__delattr__(c, '_value')",
]


@pytest.mark.parametrize("write", RELEASED_WRITES)
def test_every_write_of_a_released_cowns_fields_is_a_cown_access_error(write):
    shared = freeze(Obj())
    c = Cown(shared)
    assert is_released(c)
    with pytest.raises(CownAccessError, match="Cannot mutate a cown that is not aquired") as caught:
        _instrumented(write, c=c, Obj=Obj)
    assert caught.value.kind == "cown-access" and caught.value.source is c
    assert c._value is shared and c.state == "released"


def test_plain_writes_of_a_released_cown_are_checked_without_instrumentation():
    c = Cown(None)
    for write in (lambda: setattr(c, "x", 1), lambda: setattr(c, "_state", "pending"),
                  lambda: delattr(c, "value"), lambda: delattr(c, "x")):
        with pytest.raises(CownAccessError, match="not aquired"):
            write()
    assert c.state == "released"


def test_a_pending_cown_has_one_writable_field_value():
    r = Region()
    c = Cown(r)
    assert not is_released(c)
    ns = _instrumented("c.value.data = Obj()\nseen = c.value\nc.value = None\n", c=c, Obj=Obj)
    assert ns["seen"] is r and is_released(c)  # (now owning None: released)
    c = Cown(r2 := Region())
    for write in ("c.other = 1", "c._value = None", "setattr(c, 'other', 1)", "del c.value",
                  "object.__setattr__(c, '_value', None)"):
        with pytest.raises(AttributeError, match="a cown has one field, `value`"):
            _instrumented(write, c=c)
    assert c.value is r2 and not is_released(c)
