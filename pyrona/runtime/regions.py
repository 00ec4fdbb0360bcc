"""A user region: its members, its bridge, its place in the region forest."""

from __future__ import annotations

import sys

from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterator
    from .cowns import Cown
    from .objects import Region


class RegionMeta:
    """The bookkeeping of one user region; `RUNTIME.places` maps members' ids to it.

    Only membership and the forest are stored; LRC, SBRC and open/closed are
    derived on demand from the program's local references (see `scan`), and a
    region is collected when a scan finds it has no parent and no local
    reference (so when it goes is deterministic, not up to Python's GC).
    """

    __slots__ = ("rid", "members", "bridge", "parent", "children", "owner", "prune_at", "values_ok")

    def __init__(self, bridge: Region) -> None:
        self.rid = RUNTIME.next_region_id
        RUNTIME.next_region_id += 1
        self.members: dict[int, Any] = {}
        self.bridge: Region | None = bridge
        self.parent: RegionMeta | None = None
        self.children: dict[int, RegionMeta] = {}
        #: True while a store of a plain value (int, str...) into a member needs
        #: no check: the region has no child whose owning reference it could drop.
        #: Instrumented code reads it inline (see pyrona.instrument.rewrite).
        self.values_ok = True
        self.owner: Cown | None = None
        #: Member count at which stale members are pruned next (amortised).
        self.prune_at = 1024
        RUNTIME.regions[self.rid] = self

    def __repr__(self) -> str:
        return f"region #{self.rid}"

    # --- membership ---

    def add(self, obj: Any) -> None:
        oid = id(obj)
        self.members[oid] = obj
        RUNTIME.places[oid] = self

    def discard(self, obj: Any) -> None:
        """Forget a member (it becomes local, or the caller gives it another place)."""
        oid = id(obj)
        if self.members.pop(oid, None) is not None and RUNTIME.places.get(oid) is self:
            del RUNTIME.places[oid]

    def release_all(self) -> list[Any]:
        """Forget every member; returns them."""
        objs = list(self.members.values())
        places = RUNTIME.places
        for oid in self.members:
            if places.get(oid) is self:
                del places[oid]
        self.members.clear()
        return objs

    def prune(self) -> int:
        """Drop members nothing but this region keeps alive; returns how many.

        A member overwritten in the program is garbage in Python's eyes but our
        table keeps it; the reference count tells. Repeats, since dropping one
        member can free the members it referenced.
        """
        dropped = 0
        while True:
            dead = [oid for oid, obj in self.members.items() if sys.getrefcount(obj) <= REFCOUNT_BASELINE]
            if not dead:
                return dropped
            for oid in dead:
                if RUNTIME.places.get(oid) is self:
                    del RUNTIME.places[oid]
                del self.members[oid]
            dropped += len(dead)

    # --- the forest ---

    def has_parent(self) -> bool:
        return self.parent is not None or self.owner is not None

    def set_parent(self, parent: RegionMeta | None) -> None:
        old = self.parent
        if old is not None:
            old.children.pop(self.rid, None)
            old.values_ok = not old.children
        self.parent = parent
        if parent is not None:
            parent.children[self.rid] = self
            parent.values_ok = False

    def ancestors(self) -> Iterator[RegionMeta]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def descendants(self) -> list[RegionMeta]:
        out, stack = [], list(self.children.values())
        while stack:
            child = stack.pop()
            out.append(child)
            stack.extend(child.children.values())
        return out


def _refcount_baseline() -> int:
    """sys.getrefcount of an object held only by a members dict, read in a loop
    `for oid, obj in members.items()` (the dict, `obj`, getrefcount's argument)."""
    members = {0: object()}
    for _oid, obj in members.items():
        return sys.getrefcount(obj)
    raise AssertionError("unreachable")


REFCOUNT_BASELINE = _refcount_baseline()


def region_of_bridge(obj: Any) -> RegionMeta | None:
    """The region whose current bridge is `obj`, or None.

    A bridge is usually a `Region`, but any object a cown adopted (`Cown(Account())`)
    is one too: the region's members table tells.
    """
    place = RUNTIME.places.get(id(obj))
    if type(place) is RegionMeta and place.bridge is obj:
        return place
    return None


def region_of(obj: Any) -> RegionMeta | None:
    """The user region `obj` belongs to, or None (local, frozen, value, cown)."""
    from .state import FROZEN

    place = RUNTIME.places.get(id(obj))
    return None if place is FROZEN else place


def all_regions() -> list[RegionMeta]:
    return sorted(RUNTIME.regions.values(), key=lambda m: m.rid)
