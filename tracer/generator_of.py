"""The generator (or coroutine, or async generator) a frame belongs to.

A generator freed at a yield runs no code and sends no monitoring event, so the monitor
needs a weak reference to it to learn that it went; but CPython 3.13 gives Python code no
way from a generator's frame to its generator (3.14 adds `frame.f_generator`). CPython's
C API does (`PyFrame_GetGenerator`): the accelerator (tracer/_speedups.c) wraps it. Where
neither is there (the accelerator was not built), `generator_of` is None and the monitor
checks every suspended frame at every step instead (`Monitor.scan_all`): slower where many
generators wait, the same trace.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (typing stays out of start-up)

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any


def _make() -> Callable[[FrameType], Any] | None:
    try:
        from ._speedups import generator_of as found
    except ImportError:
        return None
    return found


#: the generator of a frame (None if it is no generator's), or None where it cannot be known here
generator_of = _make()
