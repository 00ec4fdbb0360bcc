"""Cyclic immutable garbage: frozen objects grouped in SCCs, each freed as a unit.

The second step of the Pyrona plan: frozen objects form a graph whose strongly
connected components (SCCs) are reference-counted as units, one count per SCC of
the references from outside it, so a frozen cycle is freed without the cycle
collector. Stock CPython keeps one count per object; this module derives the SCC's
count from them when asked (as LRC is derived): the sum of its members' reference
counts, less the references between its members and the runtime's own. An SCC whose
count is zero is reachable only from itself (and from other dead SCCs): the runtime
drops its references to it (it keeps every frozen object alive until then), records
`scc-collected`, and CPython frees it.

SCCs are visited in topological order (referrers first), so a chain of SCCs that
only the first one held goes in one collection: each dead SCC's references are taken
off the counts of the SCCs it refers to.
"""

from __future__ import annotations

import gc
import sys
from itertools import chain

from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


def _baseline() -> int:
    """sys.getrefcount of an object held only by one dict, read as `obj = store[oid]`
    (the dict, `obj`, getrefcount's argument)."""
    store = {0: object()}
    obj = store[0]
    return sys.getrefcount(obj)


_BASELINE = _baseline()
#: Py_TPFLAGS_MANAGED_DICT: the type's instances keep their attributes in the instance.
_MANAGED_DICT = 1 << 4


def frozen_store() -> dict[int, Any]:
    """Every frozen object in one table (id -> object), the only reference the runtime
    keeps to each: the batches of past freezes (with what their plans held besides) are
    merged into it."""
    frozen = RUNTIME.frozen
    if len(frozen) == 1:
        (store,) = frozen.values()
        if type(store) is dict:
            return store
    store = {}
    for batch in frozen.values():
        store.update(batch)
    frozen.clear()
    frozen[id(store)] = store
    return store


def frozen_sccs(store: dict[int, Any], start: Iterable[int] | None = None
                ) -> tuple[list[list[int]], dict[int, list[int]]]:
    """(the SCCs of the frozen graph in topological order, referrers first; each
    object's references to frozen objects, by id, duplicates kept). With `start` (ids),
    only the part of the graph they reach: an SCC is whole in it, and what it does not
    hold counts as outside (so garbage among them is found without a walk of it all)."""
    edges: dict[int, list[int]] = {}
    owners: dict[int, int] = {}  # id of an instance's __dict__ -> the instance
    todo = list(store) if start is None else [oid for oid in start if oid in store]
    while todo:
        oid = todo.pop()
        if oid in edges:
            continue
        obj = store[oid]
        refs = [id(r) for r in gc.get_referents(obj) if id(r) in store]
        if type(obj).__flags__ & _MANAGED_DICT:
            # an instance whose values live in the instance: gc reports them, not the
            # __dict__ that the instance holds too (freeze made it and froze it). The two
            # are one object to the program: one SCC (no reference is counted back)
            did = id(object.__getattribute__(obj, "__dict__"))
            if did in store and did not in refs:
                refs.append(did)
                owners[did] = oid
        edges[oid] = refs
        if start is not None:
            todo.extend(r for r in refs if r not in edges)
    obj = None
    paired = edges
    if owners:
        paired = dict(edges)
        for did, oid in owners.items():
            paired[did] = [*edges[did], oid]
    return _tarjan(paired), edges


def _tarjan(edges: dict[int, list[int]]) -> list[list[int]]:
    """Tarjan's algorithm without recursion (frozen graphs can be long chains); the
    SCCs come out sinks first, so they are returned reversed."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges[nxt])))
                    break
                if nxt in on_stack and index[nxt] < low[node]:
                    low[node] = index[nxt]
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    if low[node] < low[parent]:
                        low[parent] = low[node]
                if low[node] == index[node]:
                    comp = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp.append(member)
                        if member == node:
                            break
                    out.append(comp)
    out.reverse()
    return out


def outside_counts(store: dict[int, Any], sccs: list[list[int]], edges: dict[int, list[int]]) -> list[int]:
    """Each SCC's count of references from outside it (other SCCs included)."""
    held = _held_by_runtime()
    counts = []
    for comp in sccs:
        members = set(comp)
        total = 0
        for oid in comp:
            obj = store[oid]
            total += sys.getrefcount(obj) - _BASELINE - held.get(oid, 0)
            total -= sum(1 for r in edges[oid] if r in members)
        obj = None
        counts.append(total)
    return counts


def _held_by_runtime() -> dict[int, int]:
    """References the runtime holds besides the store: pre-freeze and freezability tables."""
    held: dict[int, int] = {}
    for oid in chain(RUNTIME.pre_frozen, RUNTIME.freezability):
        held[oid] = held.get(oid, 0) + 1
    return held


def collect_frozen(release: bool = True, start: Iterable[int] | None = None) -> list[list[Any]]:
    """Free every SCC of frozen objects that nothing outside it references; returns
    them (their objects: the caller lets go of them). `scc-collected` is emitted for
    each. With `release`, their cycles are broken at once (see release_sccs); a tracer
    that draws them first releases them itself. With `start` (ids of frozen objects that
    lost a reference), only what they reach is looked at."""
    with RUNTIME.lock:
        store = frozen_store()
        if not store:
            return []
        sccs, edges = frozen_sccs(store, start)
        counts = outside_counts(store, sccs, edges)
        position = {oid: i for i, comp in enumerate(sccs) for oid in comp}
        dead: list[list[Any]] = []
        for i, comp in enumerate(sccs):  # (referrers first: a dead SCC's references go first)
            if counts[i] != 0:
                continue
            for oid in comp:
                for r in edges[oid]:
                    j = position[r]
                    if j != i:
                        counts[j] -= 1
            dead.append([store[oid] for oid in comp])
        for objs in dead:
            _forget(store, objs)
    for objs in dead:
        RUNTIME.emit("scc-collected", objects=objs, size=len(objs),
                     message=f"an SCC of {len(objs)} frozen object{'s' * (len(objs) != 1)} "
                             "that nothing outside it references: freed as a unit")
    if release:
        release_sccs(dead)
    return dead


def release_sccs(dead: list[list[Any]]) -> None:
    """Break the references inside collected SCCs, so CPython's reference counting frees
    them as soon as the caller lets go, cycles included, without waiting for its cycle
    collector (what the prototype's SCC count does). Nothing outside refers to them (their
    count was zero), so emptying their builtin containers is seen by no one; what is not
    such a container is left to the cycle collector."""
    for objs in dead:
        if len(objs) == 1 and not _self_referent(objs[0]):
            continue
        for obj in objs:
            clear = _CLEARERS.get(type(obj))
            if clear is not None:
                clear(obj)


_CLEARERS = {list: list.clear, dict: dict.clear, set: set.clear}


def _self_referent(obj: Any) -> bool:
    return any(r is obj for r in gc.get_referents(obj))


def _forget(store: dict[int, Any], objs: list[Any]) -> None:
    places = RUNTIME.places
    for obj in objs:
        oid = id(obj)
        del store[oid]
        places.pop(oid, None)
        RUNTIME.pre_frozen.pop(oid, None)
        RUNTIME.freezability.pop(oid, None)
        RUNTIME.frozen_bridges.pop(oid, None)


def scc_summary() -> list[tuple[int, int]]:
    """(size, outside count) of every frozen SCC now, referrers first (for views and tests)."""
    with RUNTIME.lock:
        store = frozen_store()
        sccs, edges = frozen_sccs(store)
        return list(zip(map(len, sccs), outside_counts(store, sccs, edges), strict=True))
