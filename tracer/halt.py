"""Halting the program's other threads before its trace is finished.

When the program is over in the thread that finishes its trace (it ended, or a limit
stopped it there), its other threads may still run, traced: a thread inside one of the
tracer's callbacks would change the graph while it is closed and written (at best a
wrong trace, at worst an exception that ends the worker). `halt_threads` first hands
every event to a callback that parks the thread that meets it (blocked on a lock: it
uses no CPU, runs no more of the program's code and touches nothing of the tracer's),
then waits until no other thread is inside the tracer's code: a thread in the middle
of a callback finishes it and parks at its next event. What a thread recorded before
it parked is kept. A thread running code that sends no events (untraced code, a long
C call) goes on until it sends one, or for good: it touches nothing of the tracer's
either. The program cannot take a parked thread back: no exception reaches it, so
`except BaseException` catches nothing.
"""

from __future__ import annotations

import os
import sys
from _thread import allocate_lock, get_ident
from time import monotonic, sleep

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Iterable

#: the tracer's own folder: its code on a thread's stack, above the program's, is the tracer at work
TRACER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: seconds to wait for the other threads to leave the tracer's code (a callback takes
#: microseconds; this is for a loaded machine): then the trace is finished anyway
HALT_WAIT = 3.0
#: seconds to wait, besides, for the program's threads that run on (a moment in untraced
#: code, a short sleep) to park: one that does not yet goes on untraced (a long sleep)
PARK_WAIT = 0.25
# (taken now, before the program runs: it may replace the modules' own)
_register_callback = sys.monitoring.register_callback
_current_frames = sys._current_frames
_getframe = sys._getframe


def _in_tracer(frame: object, infos: dict[int, object]) -> bool:
    """Whether the event at `frame` comes from inside one of the tracer's callbacks (the
    program's `__repr__` that a callback called): a frame of the tracer's code under it
    with a frame of the program's code further down, the one whose event the callback
    handles. (Tracer code with no program code under it is not a callback at work: the
    thread-start hook at the bottom of a thread the program started.)"""
    tracer = False
    frame = frame.f_back  # type: ignore[attr-defined]
    while frame is not None:
        code = frame.f_code  # type: ignore[attr-defined]
        if code.co_filename.startswith(TRACER_DIR):
            tracer = True
        elif tracer and infos.get(id(code)) is not None:
            return True
        frame = frame.f_back  # type: ignore[attr-defined]
    return False


class Halt:
    """The program's threads but the caller's, parked at their next event (`halt_threads`)."""

    def __init__(self, infos: dict[int, object]) -> None:
        self.finisher = get_ident()  # the thread that finishes the trace: never parked
        self.infos = infos  # id(code) -> not None for the program's code (`Monitor.infos`)
        self.parked: set[int] = set()
        self._gate = allocate_lock()
        self._gate.acquire()
        self.released = False

    def park(self, *_args: object) -> None:
        """Every event's callback once halted: the thread that sends it waits here until
        `release`. (The finisher goes on, and so does a thread whose event came from inside
        the tracer, e.g. the program's `__repr__` that a callback called: it finishes that
        callback first, and parks at its next event.)"""
        ident = get_ident()
        if ident == self.finisher or self.released or _in_tracer(_getframe(1), self.infos):
            return None
        self.parked.add(ident)
        self._gate.acquire()  # (no timeout: a thread other than the main one cannot be interrupted)
        self._gate.release()
        return None

    def survey(self) -> tuple[bool, bool]:
        """(busy, running): whether a thread, not the finisher and not parked, is inside the
        tracer's code called from the program's (a callback), and whether one runs the
        program's code at all. (Threads that never ran the program's, a test's or a
        server's, count as neither.)"""
        try:
            frames = _current_frames()
        except Exception:  # noqa: BLE001 - an audit hook of the program's may refuse it
            return False, False
        # (this thread's own frame holds `frames`: a cycle that would keep the trace alive)
        frames.pop(self.finisher, None)
        running = False
        for ident, frame in frames.items():
            if ident in self.parked:
                continue
            tracer = False
            while frame is not None:
                code = frame.f_code
                if code.co_filename.startswith(TRACER_DIR):
                    tracer = True
                elif self.infos.get(id(code)) is not None:
                    if tracer:
                        return True, True
                    running = True
                frame = frame.f_back
        return False, running

    def release(self) -> None:
        """Let the parked threads go on (with the tracer stopped: untraced)."""
        if not self.released:
            self.released = True
            self._gate.release()


def halt_threads(tool: int | None, events: Iterable[int], infos: dict[int, object],
                 wait: float = HALT_WAIT) -> Halt:
    """Park the program's threads but this one at their next event of `tool` (None: the
    tracer stopped already, and sends no more), and wait until none of them is inside the
    tracer (up to `wait` seconds) and all are parked (up to PARK_WAIT). `infos` tells the
    program's code (`Monitor.infos`). Returns the Halt, to `release` them once the trace
    is finished."""
    halt = Halt(infos)
    if tool is not None:
        for event in events:
            _register_callback(tool, event, halt.park)
    start = monotonic()
    while True:
        busy, running = halt.survey()
        waited = monotonic() - start
        if waited >= wait or not busy and (not running or tool is None or waited >= PARK_WAIT):
            return halt
        sleep(0.002)  # (lets them run: the GIL is theirs meanwhile)
