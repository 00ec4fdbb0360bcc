"""The runtime's events (moves, freezes, closes, violations...) as the trace records them."""

from __future__ import annotations

from . import kinds

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

    from .recorder import Recorder

_REFRESH_ALL = {"closed", "merged", "merged-into", "dissolved", "collected", "frozen"}


def record_runtime_events(recorder: Recorder, events: list[tuple[str, dict]], step: int,
                          failed_store: str) -> bool:
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
        if kind in _REFRESH_ALL:
            refresh_all = True
        nodes = tuple(n for n in (recorder.ids.get(id(o)) for o in objs) if n is not None)
        message, src, dst, edge = "", None, None, ""
        if kind == "violation":
            error = details["error"]
            message = str(error)
            src = recorder.ids.get(id(error.source))
            dst = recorder.ids.get(id(error.target)) if error.target is not None else None
            edge = failed_store
        cown = details.get("cown")
        if cown is not None:
            nid = recorder.ids.get(id(cown))
            if nid is not None:
                recorder.refresh_node(nid)
                nodes = (nid,)
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
