"""Region states as the trace records them: each region's bridge, parent, owner, LRC
(references from local nodes into it, which the recorder counts as edges come and go),
SBRC (open child regions) and open/closed state, an interval per state; `opened` and
`closed` events when the counters say so."""

from __future__ import annotations

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from .recorder import Recorder


def update_regions(recorder: Recorder, metas: list) -> list:
    """Region states from the graph: LRC = references from local nodes into the region.
    Returns the pending cowns whose region the graph says is closed now: the runtime
    decides whether they are released (`Cown.state` asks it)."""
    recorder.regions_dirty = False
    if not metas and not recorder.regions:
        return []
    lrc = recorder.lrc
    by_rid = {m.rid: m for m in metas}
    opened: dict[int, bool] = {}

    def is_open(rid: int) -> bool:
        if rid not in opened:
            meta = by_rid[rid]
            opened[rid] = lrc.get(rid, 0) > 0 or any(is_open(c) for c in meta.children if c in by_rid)
        return opened[rid]

    states = {}
    for rid, meta in by_rid.items():
        sbrc = sum(1 for c in meta.children if c in by_rid and is_open(c))
        bridge = recorder.ids.get(id(meta.bridge)) if meta.bridge is not None else None
        owner = recorder.ids.get(id(meta.owner)) if meta.owner is not None else None
        parent = meta.parent.rid if meta.parent is not None else None
        states[rid] = (bridge, parent, owner, lrc.get(rid, 0), sbrc, is_open(rid), "")
    for rid in [r for r in recorder.regions if r not in states]:
        _close_region(recorder, rid)
    for rid, values in states.items():
        current = recorder.regions.get(rid)
        if current is not None and current[1] == values:
            continue
        if current is not None:
            _close_region(recorder, rid)
        was_open = recorder.open_regions.get(rid)
        if was_open is not None and was_open != values[5]:
            kind = "opened" if values[5] else "closed"
            # close(r) reports itself: the same event from the counters would repeat it
            if not any(e.kind == kind and e.rid == rid and e.step == recorder.step for e in recorder.events):
                from .model import Event  # (the model's dataclasses stay out of start-up)

                recorder.events.append(Event(recorder.step, kind, rid))
        recorder.open_regions[rid] = values[5]
        recorder.regions[rid] = (recorder.step, values)
    return [meta.owner for rid, meta in by_rid.items()
            if meta.owner is not None and not opened[rid] and meta.owner._state == "pending"]


def _close_region(recorder: Recorder, rid: int) -> None:
    start, values = recorder.regions.pop(rid)
    if start < recorder.step:
        recorder.writer.interval("regions", start, recorder.step, (rid, *values))
