"""Behaviour events as the trace keeps them: who ran, on which cowns, on which thread.

A `behaviour-scheduled`, `-started` or `-finished` event carries its behaviour in the
event's `edge` column (otherwise the name of a violation's reference) as compact JSON:
`{"b": id, "name": function, "cowns": [[cid, node], ...], "result": cid|null,
"thread": name}`. A cown is named by the runtime's number (`cid`, stable for the whole
run) and by its node at that step (0 when the graph does not hold it, e.g. the result
cown of a behaviour whose name nothing keeps). Everything the views show about
behaviours (lanes, queues, happens-before) is derived from these events when read
(`pyrona.analysis.behaviours`); nothing is recorded per step.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

    from .recorder import Recorder

KINDS = ("behaviour-scheduled", "behaviour-started", "behaviour-finished")
#: a payload's length at most (the store's bound on `edge` is 1,000 characters): a
#: behaviour on very many cowns keeps its first ones, its result cown, and `"more"`, how
#: many it left out
MAX_PAYLOAD = 900
_MAX_NAME = 80
_VERBS = {"behaviour-scheduled": "scheduled on", "behaviour-started": "acquired",
          "behaviour-finished": "released"}


def payload(recorder: Recorder, behaviour: Any, thread: str, leaks: int = 0) -> str:
    """The JSON kept in a behaviour event's `edge` (at its end also `failed`, the type of
    the exception it raised, and `leaks`, how many references to its cowns' content it
    kept: each a violation event of that step)."""
    ids, nodes = recorder.ids, recorder.nodes
    cowns = []
    for cown in behaviour.cowns:
        nid = ids.get(id(cown))
        cowns.append([cown._cid, nid if nid is not None and nid in nodes else 0])
    result = behaviour.result._cid if behaviour.result is not None else None
    data = {"b": behaviour.bid, "name": behaviour.name[:_MAX_NAME], "cowns": cowns, "result": result,
            "thread": thread[:_MAX_NAME]}
    if behaviour.failed:
        data["failed"] = behaviour.failed[:_MAX_NAME]
    if leaks:
        data["leaks"] = leaks
    text = json.dumps(data, separators=(",", ":"))
    if len(text) > MAX_PAYLOAD:  # (rare: keep what fits, the result cown last)
        kept = [c for c in cowns if c[0] != result][:(MAX_PAYLOAD - 200) // 24]
        kept += [c for c in cowns if c[0] == result]
        data["cowns"], data["more"] = kept, len(cowns) - len(kept)
        text = json.dumps(data, separators=(",", ":"))
    return text


def parse(edge: str) -> dict | None:
    """A behaviour event's payload, or None when `edge` holds none (older traces, or a
    row that is not what the tracer writes)."""
    try:
        data = json.loads(edge)
    except ValueError:
        return None
    if (type(data) is not dict or type(data.get("b")) is not int or type(data.get("cowns")) is not list
            or not all(type(c) is list and len(c) == 2 and all(type(x) is int for x in c)
                       for c in data["cowns"])):
        return None
    data.setdefault("name", "behaviour")
    data.setdefault("thread", "")
    return data


def cown_name(cid: int, node: int) -> str:
    """A cown as the diagram names it (`#17 Cown`), or by its runtime number when the
    graph does not hold it."""
    return f"#{node} Cown" if node else f"cown {cid} (not drawn)"


def text(kind: str, edge: str, message: str) -> str:
    """The event's text: `behaviour #3 move acquired #16 Cown, #18 Cown → result #20 Cown`."""
    data = parse(edge)
    if data is None:
        return message
    result = data.get("result")
    held = [cown_name(cid, node) for cid, node in data["cowns"] if cid != result]
    out = f"behaviour #{data['b']} {data['name']} {_VERBS.get(kind, kind)} {', '.join(held) or 'no cown'}"
    if data.get("more"):
        out += f" and {data['more']} more"
    if data.get("failed"):
        out += f" after raising {data['failed']}"
    if data.get("leaks"):
        out += f", {data['leaks']} reference(s) to their content kept (cleared)"
    for cid, node in data["cowns"]:
        if cid == result:
            out += f" → result {cown_name(cid, node)}" if node else " → a result cown (not drawn)"
    return out
