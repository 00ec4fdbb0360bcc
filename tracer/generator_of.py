"""The generator (or coroutine, or async generator) a running frame belongs to.

A generator freed at a yield runs no code and sends no monitoring event, so the monitor
needs a weak reference to it to learn that it went; but CPython 3.13 gives no way from a
generator's frame to its generator (3.14 adds `frame.f_generator`). A generator's frame
data lives inside the generator object, at one fixed offset, and the frame object points
at it: while the frame runs (its generator is alive), the generator's address is that
pointer minus the offset. The offset is measured here once, on a generator, a coroutine
and an async generator of our own; if they disagree, or this is not CPython 3.13,
`generator_of` is None and the monitor checks every suspended frame at every step.
"""

from __future__ import annotations

import ctypes
import _ctypes
import sys
import types
TYPE_CHECKING = False  # (typing stays out of start-up)

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

#: where a frame object keeps its pointer to the frame data (PyFrameObject.f_frame:
#: after the object header and f_back)
FRAME_DATA_AT = ctypes.sizeof(ctypes.c_ssize_t) + 2 * ctypes.sizeof(ctypes.c_void_p)

GENERATOR_TYPES = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)


def _data(frame: FrameType) -> int:
    return ctypes.c_void_p.from_address(id(frame) + FRAME_DATA_AT).value or 0


def _offset() -> int | None:
    """The frame data's offset inside a generator object, the same for all three kinds."""
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 13):
        return None
    found = []

    def gen():
        yield sys._getframe()

    @types.coroutine
    def pause():
        yield

    async def coro():
        seen.append(sys._getframe())
        await pause()

    async def agen():
        seen.append(sys._getframe())
        yield

    seen: list[FrameType] = []
    g = gen()
    found.append(_data(next(g)) - id(g))
    c = coro()
    c.send(None)
    found.append(_data(seen.pop()) - id(c))
    a = agen()
    try:
        a.asend(None).send(None)
    except StopIteration:
        pass
    found.append(_data(seen.pop()) - id(a))
    for it in (g, c, a):  # (closed now: their frames are not suspended any more)
        it.close() if not isinstance(it, types.AsyncGeneratorType) else None
    offset = found[0]
    if any(o != offset for o in found) or not 0 < offset < 512:
        return None
    return offset


def _make() -> Callable[[FrameType], Any] | None:
    offset = _offset()
    if offset is None:
        return None
    # (the object at an address: _ctypes's own helper is ten times quicker than a cast)
    from_pointer = getattr(_ctypes, "PyObj_FromPtr", None) or (
        lambda address: ctypes.cast(address, ctypes.py_object).value)
    read = ctypes.c_void_p.from_address

    def generator_of(frame: FrameType) -> Any:
        """The generator of `frame`, which must be running (or None if it is no
        generator's frame)."""
        if not frame.f_code.co_flags & (0x20 | 0x80 | 0x200):  # CO_GENERATOR|COROUTINE|ASYNC_GENERATOR
            return None
        owner = from_pointer((read(id(frame) + FRAME_DATA_AT).value or 0) - offset)
        if type(owner) in GENERATOR_TYPES and getattr(owner, _FRAME_ATTR[type(owner)]) is frame:
            return owner
        return None

    return generator_of


_FRAME_ATTR = {types.GeneratorType: "gi_frame", types.CoroutineType: "cr_frame",
               types.AsyncGeneratorType: "ag_frame"}

#: the generator of a running generator frame, or None where it cannot be known here
generator_of = _make()
