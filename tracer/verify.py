"""A check of the recorder against a full walk of the heap (for tests and debugging).

The recorder only rescans what changed; this walks everything reachable from
the same roots and reports where the two disagree. Slow: a test tool.
"""

from __future__ import annotations

from .frames import HIDDEN_NAMES
from .objects import is_inline, kind_of, place_of, short_repr, slots_of

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

    from .monitor import Monitor


def _scope(rec: Any) -> dict:
    return dict(rec.frame.f_globals if rec.info.module_level else rec.frame.f_locals)


def full_walk(monitor: Monitor) -> tuple[dict[int, str], set[tuple]]:
    """(place by id(obj), references as (id(src), name, id(dst) or repr)) from the roots."""
    places: dict[int, str] = {}
    refs: set[tuple] = set()
    stack: list[Any] = []
    seen: set[int] = set()
    for rec in monitor.frames.values():
        for name, value in _scope(rec).items():
            if name.startswith(HIDDEN_NAMES):
                continue
            refs.add((id(rec.frame.f_globals) if rec.info.module_level else id(rec.frame), name,
                      short_repr(value) if is_inline(value) else id(value)))
            if not is_inline(value):
                stack.append(value)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        kind = kind_of(obj)
        places[id(obj)] = place_of(obj)
        if kind in ("function", "class", "module", "other"):
            continue
        for name, value in slots_of(obj, kind):
            refs.add((id(obj), name, short_repr(value) if is_inline(value) else id(value)))
            if not is_inline(value):
                stack.append(value)
    return places, refs


def recorded(monitor: Monitor) -> tuple[dict[int, str], set[tuple]]:
    """The same, from the recorder's graph (its part reachable from the roots)."""
    recorder = monitor.recorder
    live_roots = {rec.node for rec in monitor.frames.values()}
    places: dict[int, str] = {}
    refs: set[tuple] = set()
    stack, seen = list(live_roots), set()
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        obj = recorder.objs[nid]
        if nid not in live_roots:
            places[id(obj)] = recorder.nodes[nid][3]
        for name, (_start, dst, text, _run) in recorder.slots[nid].items():
            refs.add((id(obj), name, text if dst is None else id(recorder.objs[dst])))
            if dst is not None:
                stack.append(dst)
    return places, refs


def live_slots(recorder: Any) -> set[tuple]:
    """The recorder's current slots as (node, name, dst or None, value or None)."""
    return {(nid, name, dst, text) for nid, slots in recorder.slots.items()
            for name, (_start, dst, text, _run) in slots.items()}


def stored_slots(graph: Any) -> set[tuple]:
    """The same, from a StepGraph read back from the store."""
    return ({(e.src, e.name, e.dst, None) for e in graph.edges}
            | {(f.node, f.name, None, f.value) for f in graph.fields})


def differences(monitor: Monitor) -> list[str]:
    """Where the recorded graph and a full walk disagree (empty when they agree)."""
    walked_places, walked_refs = full_walk(monitor)
    rec_places, rec_refs = recorded(monitor)
    problems = [f"missing reference {r}" for r in sorted(walked_refs - rec_refs, key=str)[:5]]
    problems += [f"stale reference {r}" for r in sorted(rec_refs - walked_refs, key=str)[:5]]
    for oid, place in walked_places.items():
        if rec_places.get(oid, place) != place:
            problems.append(f"object {oid:#x} recorded in {rec_places[oid]}, is in {place}")
    return problems
