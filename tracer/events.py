"""The runtime's events (moves, freezes, closes, violations...) as the trace records them.

SCC garbage adds `scc-collected` (an SCC of frozen objects nothing outside it refers to,
forgotten by the runtime: its objects, drawn at that step only); sub-interpreters add
`sent` (a value or frozen object copied, or a region moved, to another interpreter) and
`received`. Deep immutability adds three: `frozen` (the objects a freeze marked), `pre-freeze` (a
`__pre_freeze__` hook about to run, its object) and `freeze-rolled-back` (a freeze that
stopped: the objects it had visited, `src` the object that stopped it, the message).
"""

from __future__ import annotations

from . import kinds
from .behaviour_events import payload as behaviour_payload
from .naming import mention_nodes
from .objects import is_inline, short_repr

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

    from .recorder import Recorder

#: ("freezability": a class's status is its instances' too)
_REFRESH_ALL = {"closed", "merged", "merged-into", "dissolved", "collected", "frozen", "freezability"}
_RESCAN = {"behaviour-started", "behaviour-finished"}


def record_runtime_events(recorder: Recorder, events: list[tuple[str, dict]], step: int) -> bool:
    """Turn the runtime's events into trace events at `step`, refreshing the nodes they
    touched; True when an event may have changed any node (then everything is rescanned
    here, and the caller rereads the frames)."""
    from .model import Event  # (the model's dataclasses stay out of start-up)

    refresh_all = False
    for kind, details in events:
        objs: Any = details.get("objects") or ()
        for obj in objs:
            nid = recorder.ids.get(id(obj))
            if nid is not None and nid in recorder.nodes:
                recorder.refresh_node(nid)
        if kind in _REFRESH_ALL or details.get("refresh_all"):
            refresh_all = True
        elif kind == "escape-written":  # a SharedField or InterpreterLocal changed inside
            for nid in (recorder.ids.get(id(o)) for o in objs):
                if nid is not None and nid in recorder.nodes:
                    recorder.rescan(nid)
            continue
        if kind == "created" and not _held(recorder, details.get("rid")):
            # a region whose bridge nothing the graph holds refers to (`Region().x = y`):
            # the runtime is asked to collect it now, as FrankenScript frees it at once
            recorder.bridge_gone = recorder.changed = True
        nodes = tuple(n for n in (recorder.ids.get(id(o)) for o in objs) if n is not None)
        message, src, dst, edge = details.get("message", ""), None, None, ""
        if kind == "freeze-rolled-back":
            # a freeze stopped before marking anything: the objects it visited, and the one
            # that stopped it (outlined in red); nothing changed, so nothing is refreshed
            error = details.get("error")
            message = f"{type(error).__name__}: {error}" if error is not None else ""
            src = _drawn(recorder, details.get("stopped_by"))
        elif kind == "violation":
            error = details["error"]
            error.drawn = True
            message = str(error)
            if error.kind == "region-violation":  # a reference the rules forbid: drawn red
                src = _drawn(recorder, error.source)
                dst = _drawn(recorder, error.target)
                edge = slot_name(getattr(error, "slot", None))
            else:  # no such reference (a write to a frozen object, a cown not acquired,
                # a merge refused...): the object involved is outlined in red
                src = _drawn(recorder, error.source if error.source is not None else error.target)
            nodes = _mentioned(recorder, error, message)
        if kind in _RESCAN:  # the runtime set the cowns' states and a result cown's value
            for nid in nodes:
                if nid in recorder.nodes:
                    recorder.rescan(nid)
        if "behaviour" in details:  # the behaviour, its cowns and thread (see behaviour_events)
            edge = behaviour_payload(recorder, details["behaviour"], details.get("thread", ""),
                                     details.get("leaks", 0))
        cown = details.get("cown")
        if cown is not None:
            nid = recorder.ids.get(id(cown))
            if nid is not None:
                recorder.refresh_node(nid)
                nodes = (nid,)
        if kind == "scc-collected":
            nodes = _ghosts(recorder, objs)
        if kind == "moved" and not nodes:
            continue
        recorder.events.append(Event(step, kind, details.get("rid"), nodes, message, src, dst, edge))
    if refresh_all:
        for nid in list(recorder.nodes):
            if nid in recorder.nodes:
                recorder.refresh_node(nid)
                if recorder.nodes[nid][1] not in kinds.ROOT_KINDS:
                    recorder.rescan(nid)
    return refresh_all


def _held(recorder: Recorder, rid: int | None) -> bool:
    from ..runtime.state import RUNTIME

    meta = RUNTIME.regions.get(rid) if rid is not None else None
    return meta is None or meta.bridge is None or id(meta.bridge) in recorder.ids


def _mentioned(recorder: Recorder, error: Any, message: str) -> tuple[int, ...]:
    """The nodes of the objects the error's message mentions by repr, in order (how the
    views name them: `naming.named_message`). Only the objects the error carries are
    looked up: an address alone could be a dead object's, reused."""
    carried = {id(o): o for o in (error.source, error.target, *getattr(error, "mentions", ()))
               if o is not None and not is_inline(o)}
    return mention_nodes(message, lambda address: _drawn(recorder, carried[address])
                         if address in carried else None)


def _drawn(recorder: Recorder, obj: Any) -> int | None:
    """The node of an object a violation involves. One the graph does not hold (a
    temporary: `Region().x = y`) gets a node for this step, so the violation is drawn."""
    if obj is None or is_inline(obj):
        return None
    nid = recorder.ids.get(id(obj))
    if nid is None or nid not in recorder.nodes:
        nid = recorder.node(obj)
        recorder.ephemeral.append(nid)
    return nid


def _ghosts(recorder: Recorder, objs: Any) -> tuple[int, ...]:
    """The nodes of a collected SCC's objects, drawn at this step only (fading out, in the
    immutable region, where they were: the runtime has just forgotten them). The objects
    the graph held until this step come back under their own nodes, so the SCC keeps its
    identity in the views; their references go at the next step, and with them the
    recorder's hold on the objects."""
    gone = recorder.gone_frozen
    drawn = [o for o in objs if id(o) in gone and gone[id(o)] not in recorder.nodes]
    if not drawn:  # (never drawn before, all of them: drawn now, under new nodes)
        drawn = [o for o in objs if id(o) not in recorder.ids]
    nids = [recorder.node(o, revive=gone.get(id(o), 0)) for o in drawn]
    for nid in nids:
        recorder.rescan(nid)
        start, kind, type_name, _place, label, detail = recorder.nodes[nid]
        recorder.nodes[nid] = (start, kind, type_name, kinds.FROZEN, label, detail)
    recorder.ephemeral.extend(nids)
    recorder.ghosts.extend(nids)
    return tuple(nids)


def slot_name(slot: tuple | None) -> str:
    """The name the graph gives the reference a failed store would have made: an
    attribute's name, `[key]` for an item (the runtime's `error.slot`)."""
    if slot is None:
        return ""
    what, key = slot
    if what == "attr":
        return str(key)
    return f"[{short_repr(key)}]" if is_inline(key) else "[?]"
