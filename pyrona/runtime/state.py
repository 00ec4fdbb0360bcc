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
        self.frozen: dict[int, Any] = {}
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
        self.places.clear()
        self.frozen.clear()
        self.frozen_bridges.clear()
        self.regions.clear()
        self.root_modules.clear()
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

    def emit(self, kind: str, **details: Any) -> None:
        listener = self.listener
        if listener is not None:
            listener(kind, **details)


RUNTIME = Runtime()
