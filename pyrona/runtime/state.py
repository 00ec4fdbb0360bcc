"""The runtime's mutable state, kept in one clearly named place: RUNTIME."""

from __future__ import annotations

import threading
import types

TYPE_CHECKING = False  # (typing stays out of start-up)

if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable
    from .regions import RegionMeta


class _Frozen:
    """The place of every deeply immutable object."""

    __slots__ = ()
    #: Like RegionMeta.values_ok: no store into a frozen object is free.
    values_ok = False

    def __repr__(self) -> str:
        return "FROZEN"


#: Marker stored in `Runtime.places` for frozen objects.
FROZEN = _Frozen()


class Runtime:
    """Where every tracked object lives, plus the program's roots and settings.

    `places` maps `id(obj)` to the RegionMeta the object is a member of, or to
    FROZEN. An object absent from it is in the local region (or is a value such
    as an int). Region members and frozen objects are kept alive by their region
    / by `frozen`, so their ids stay valid while listed here.
    """

    def __init__(self) -> None:
        self.places: dict[int, RegionMeta | _Frozen] = {}
        #: What keeps frozen objects alive: each freeze's batch (id -> object), by the id
        #: of the batch (one entry per freeze, not per object: a freeze can mark millions).
        self.frozen: dict[int, dict[int, Any]] = {}
        #: Frozen objects that were a region's bridge when frozen: id(obj) -> that region's id.
        self.frozen_bridges: dict[int, int] = {}
        #: Live regions by id; a collection ends the unreachable ones.
        self.regions: dict[int, RegionMeta] = {}
        #: Instrumented modules of the program: their globals are local roots.
        self.root_modules: dict[str, types.ModuleType] = {}
        #: Held by every check-plan-store-commit and every scan, so behaviours on
        #: several threads see each other's stores whole (one lock: simple, and the
        #: GIL serialises the work anyway).
        self.lock = threading.RLock()
        #: The behaviour each thread runs now (`current_behaviour`), if any.
        self.local = threading.local()
        self.reset()

    def reset(self) -> None:
        """Forget every region, frozen object and root: a fresh program (tests use it).

        The tables are cleared in place: hot paths hold bound methods of them.
        """
        from .kinds import forget_heap_types

        forget_heap_types()
        # a module frozen in place is a process-wide change: a fresh program gets it back
        for module in getattr(self, "proxied_modules", ()):
            module.__class__ = types.ModuleType
        #: Modules that a freeze made ImmutableModule proxies in place.
        self.proxied_modules: list[types.ModuleType] = []
        self.places.clear()
        self.frozen.clear()
        self.frozen_bridges.clear()
        self.regions.clear()
        self.root_modules.clear()
        #: Per-object freezability of objects that cannot carry a `__freezable__`
        #: attribute (lists, dicts, builtin types...): id -> (status, the object, kept alive
        #: so the id stays valid; most of them cannot be weakly referenced).
        self.freezability: dict[int, tuple[int, Any]] = {}
        #: Objects whose `__pre_freeze__` ran (it runs once per object, even if the
        #: freeze that ran it failed): id -> object.
        self.pre_frozen: dict[int, Any] = {}
        #: Whether the program ever set a freezability (so the tracer looks for statuses).
        self.freezability_used = False
        #: Region count that triggers the next collection.
        self.collect_threshold = 64
        self.implicit_freezing = False
        self.next_region_id = 1
        self.next_cown_id = 1
        old = getattr(self, "scheduler", None)
        if old is not None:
            old.stop()  # its idle worker threads end
        #: The behaviour scheduler (pyrona.runtime.behaviours), made at the first `when`.
        self.scheduler: Any = None
        #: Called as listener(kind, **details) for region events (the tracer sets it).
        self.listener: Callable[..., None] | None = None

    def frozen_objects(self) -> list[Any]:
        """Every object frozen so far."""
        return [obj for batch in self.frozen.values() for obj in batch.values()]

    def emit(self, kind: str, **details: Any) -> None:
        listener = self.listener
        if listener is not None:
            listener(kind, **details)


RUNTIME = Runtime()
