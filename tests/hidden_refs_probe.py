"""A probe programs under test import: after `close(r)`, does anything but the runtime
still hold a former member of r? (Not instrumented: it lives outside the programs' folders.)

    import hidden_refs_probe as probe
    probe.watch(r)      # before close(r): remember r's region
    close(r)
    probe.check()       # -> descriptions of the references left; also kept in probe.found

The runtime's own tables (RUNTIME, the regions' bookkeeping, and, under a tracer, the
tables of the tool set as the runtime's listener) may hold members; they are found
from those objects, never by type names. A frame's variables are checked one by one
(`gc.get_referrers` does not see the variables of running frames).
"""

from __future__ import annotations

import gc
import sys
import types
from collections import deque
from typing import Any

from pyrona.runtime.cowns import Cown
from pyrona.runtime.objects import Bag
from pyrona.runtime.regions import RegionMeta
from pyrona.runtime.scan import is_internal
from pyrona.runtime.state import RUNTIME

_CONTAINERS = (dict, list, set, frozenset, tuple, deque)
_STRUCTURE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)

#: The regions watched (their bookkeeping, so close clears no reference of ours).
watched: list[RegionMeta] = []
#: What the last check found.
found: list[str] = []


def watch(*bridges: Any) -> None:
    watched.extend(bridge._pyrona_meta for bridge in bridges)


def check() -> list[str]:
    gc.collect()
    me = sys._getframe()
    frames = _frames(me)
    held = _runtime_tables(frames)
    found.clear()
    for meta in watched:
        members = list(meta.members.values())
        inside = {id(m) for m in members}
        inside.update(id(d) for d in (getattr(m, "__dict__", None) for m in members) if type(d) is dict)
        for obj in members:
            for ref in gc.get_referrers(obj):
                if id(ref) in inside or id(ref) in held or ref is members or ref is frames:
                    continue
                found.append(f"{_name(obj)} of region #{meta.rid} is held by {_name(ref, obj)}")
        for frame in frames:
            for name, value in list(frame.f_locals.items()):
                if id(value) in inside:
                    found.append(f"{_name(value)} of region #{meta.rid} is held by variable {name!r} "
                                 f"of {frame.f_code.co_qualname}")
    return list(found)


def _frames(me: types.FrameType) -> list[types.FrameType]:
    out = []
    for top in sys._current_frames().values():
        frame = top
        while frame is not None:
            if frame is not me:
                out.append(frame)
            frame = frame.f_back
    return out


def _name(obj: Any, member: Any = None) -> str:
    if type(obj) is dict:
        keys = [key for key, value in obj.items() if value is member]
        return f"a dict (under {keys})" if keys else f"a dict with keys {sorted(map(str, obj))[:8]}"
    return f"<{type(obj).__qualname__} at {id(obj):#x}>"


def _runtime_tables(frames: list[types.FrameType]) -> set[int]:
    """Ids of the objects through which the runtime (and a tool listening to it) holds
    the program's objects: its tables, never the program's own objects."""
    held = {id(RUNTIME), id(RUNTIME.places), id(RUNTIME.frozen), id(RUNTIME.regions),
            id(RUNTIME.root_modules), id(watched)}
    for meta in (*RUNTIME.regions.values(), *watched):
        held.update((id(meta), id(meta.members), id(meta.children)))
    tool = getattr(RUNTIME.listener, "__self__", None)
    if tool is not None:
        held |= _tables_of(tool, _program_objects(frames))
    return held


def _is_runtime_object(obj: Any) -> bool:
    module = getattr(type(obj), "__module__", "") or ""
    return module.partition(".")[0] == "pyrona" and not isinstance(obj, (Bag, Cown))


def _program_objects(frames: list[types.FrameType]) -> set[int]:
    """Everything the program's roots (its modules' globals, its frames) reach, through
    the program's own objects."""
    stack: list[Any] = [m.__dict__ for m in RUNTIME.root_modules.values()]
    for frame in frames:
        if not is_internal(frame.f_code):
            stack.extend(frame.f_locals.values())
    seen: set[int] = set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _STRUCTURE) or _is_runtime_object(obj):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return seen


def _tables_of(tool: Any, program: set[int]) -> set[int]:
    """The tool's own objects and the containers they hold, not the program's objects."""
    stack, seen = [tool], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in program:
            continue
        if not (_is_runtime_object(obj) or type(obj) in _CONTAINERS):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return seen
