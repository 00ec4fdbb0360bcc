"""A check of the recorder against a full walk of the heap (for tests and debugging).

The recorder only rescans what changed; this walks everything reachable from
the same roots and reports where the two disagree. Slow: a test tool.
"""

from __future__ import annotations

from .frames import HIDDEN_NAMES
from .kinds import CALLER_SLOT, SUSPENDED
from collections import deque

from .objects import is_inline, kind_of, place_of, set_slots, short_repr, slots_of

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
    frames = monitor.frames
    recorder = monitor.recorder
    for rec in [*frames.values(), *monitor.suspended.values()]:
        caller = frames.get(rec.frame.f_back) if not rec.info.module_level else None
        if caller is not None:  # (a frame's link to its caller's)
            refs.add((id(rec.frame), CALLER_SLOT,
                      id(caller.frame.f_globals if caller.info.module_level else caller.frame)))
        elif rec.frame in monitor.suspended:
            refs.add((id(rec.frame), CALLER_SLOT, SUSPENDED))
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
        if kind in ("class", "module", "other"):
            continue  # (a function's slots: a frozen one's private snapshot, else none)
        if kind == "set":  # (named by the numbers the recorder gave its elements: the
            # walk checks what each holds; a new one gets a number no slot has)
            found = set_slots(obj, recorder.set_numbers(obj), -1_000_000)[0]
        else:  # (a deque's elements by their coordinates: Recorder.ends)
            found = slots_of(obj, kind, recorder.deque_base(obj) if type(obj) is deque else 0)
        for name, value in found:
            refs.add((id(obj), name, short_repr(value) if is_inline(value) else id(value)))
            if not is_inline(value):
                stack.append(value)
    return places, refs


def recorded(monitor: Monitor) -> tuple[dict[int, str], set[tuple]]:
    """The same, from the recorder's graph (its part reachable from the roots)."""
    recorder = monitor.recorder
    live_roots = {rec.node for rec in [*monitor.frames.values(), *monitor.suspended.values()]}
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


class Oracle:
    """What the live runtime says a step's diagram must show, asked at that step (verify
    mode), apart from the events the tracer records: each cown's state, each pyrona error
    raised (the object written to, the reference's name, the target), each frame's return
    or yield value. `facts` is a list of JSON-ready lists; tests check each against the
    diagram drawn from the store."""

    def __init__(self) -> None:
        self.facts: list[list] = []
        self._cowns: dict[tuple[int, int], str] = {}
        self._errors: set[int] = set()

    def cowns(self, recorder: Any, step: int) -> None:
        """Each cown of the graph: released if the runtime says so, or would say so if
        asked now (its value immutable, a cown, or its region closed by a full scan)."""
        from ..runtime.cowns import ACQUIRED, RELEASED, _releasable

        for nid, obj in recorder.objs.items():
            if recorder.nodes[nid][1] == "cown":
                key = (step, nid)
                if key not in self._cowns:
                    self.facts.append(["cown", step, nid, ""])
                if obj._state == ACQUIRED:  # by a behaviour (or a `with` block)
                    self._cowns[key] = "acquired"
                    continue
                released = obj._state == RELEASED or _releasable(obj._value)
                self._cowns[key] = "released" if released else "pending"

    def raised(self, recorder: Any, error: Any) -> None:
        if id(error) in self._errors:  # (raised again as it leaves each frame)
            return
        self._errors.add(id(error))
        node = recorder.ids.get
        slot = error.slot
        name = "" if slot is None else str(slot[1]) if slot[0] == "attr" else "[]"
        self.facts.append(["error", recorder.step, error.kind, node(id(error.source)),
                           node(id(error.target)) if error.target is not None else None, name])

    def returned(self, recorder: Any, step: int, frame: int, slot: str | None, value: Any) -> None:
        if slot is None:
            return
        target = None if is_inline(value) else recorder.ids.get(id(value))
        self.facts.append([slot, step, frame, target, short_repr(value) if target is None else None])

    @property
    def result(self) -> list[list]:
        return [[*fact[:3], self._cowns[(fact[1], fact[2])]] if fact[0] == "cown" else fact
                for fact in self.facts]
