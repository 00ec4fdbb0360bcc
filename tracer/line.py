"""The LINE callback: one step per executed line of the program (the hottest code of all).

It applies what the line that just ended stored to its frame's variables (most
store one number, inline here), has the monitor settle what else changed, and
counts the new step. It is a closure over what it uses at every step: a
closure's variables cost less than attributes, its call less than a bound
method's.

Three pieces are inlined from elsewhere, each marked where it is: the start of
`Monitor._complete` (the line's stores), `Recorder.set_slot` with
`Recorder._end_interval` for a plain value (a number, a bool, None: most lines
store one), and `Monitor._new_step`. Anything else goes to those methods. While
generators are suspended, each step also asks whether one went (`Monitor._reap`: a
freed generator sends no event).

This function is the reference. When the C accelerator was built at install
(`tracer/_speedups.c`), the callback registered is its `LineFast`: the same steps
for the common line (a known frame, a line that stored nothing or one plain value; with
the recorder's set_slot in C, `SlotsFast`, also a str or an object that has a node),
every other line handed whole to the function here, so both record the same trace.
PYRONA_PURE_PYTHON=1 in the environment forces the pure-Python callback.
"""

from __future__ import annotations

import os
from sys import _getframe

from .frames import REREAD_SHARED, FrameRec
from .objects import MAX_REPR, SHORT_INT
from .recorder import RUN_SIZE, CapReached

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, FrameType
    from typing import Any

    from .monitor import Monitor

_GONE = object()  # what a deleted variable holds
#: the environment variable that forces the pure-Python callback (any value but "" or "0")
PURE_PYTHON_VAR = "PYRONA_PURE_PYTHON"

try:
    from ._speedups import LineFast
except ImportError as error:  # (not built: no compiler at install, or it failed)
    LineFast = None
    #: why the C accelerator is not there (None when it is)
    SPEEDUPS_MISSING: str | None = f"the C accelerator was not built ({error}): pure-Python LINE callback"
else:
    SPEEDUPS_MISSING = None


def accelerated() -> bool:
    """Does a monitor created now use the C accelerator?"""
    return LineFast is not None and os.environ.get(PURE_PYTHON_VAR, "") in ("", "0")


def line_callback(monitor: Monitor, getframe: Callable[[int], FrameType] = _getframe
                  ) -> Callable[[CodeType, int], Any]:
    """The LINE callback of `monitor`: the C accelerator's over `line_event` when it is
    there (and not turned off), else `line_event` itself. `getframe` is how the callback
    finds the program's frame, one frame up; another under thread mode's wrapper (see
    tracer.threads), which is a Python frame of its own: the C callback finds the
    program's frame only when sys.monitoring calls it directly, so thread mode runs the
    pure-Python one."""
    reference = line_event_of(monitor, getframe)
    if getframe is not _getframe or not accelerated():
        return reference
    return LineFast(monitor, reference, FrameRec, MAX_REPR, RUN_SIZE)


def line_event_of(monitor: Monitor, getframe: Callable[[int], FrameType] = _getframe
                  ) -> Callable[[CodeType, int], Any]:
    """The pure-Python LINE callback of `monitor`."""
    frames, infos, recorder = monitor.frames, monitor.infos, monitor.recorder
    dirty, later = monitor.dirty, monitor.later
    step_append, enter, settle, check = monitor.step_append, monitor._enter, monitor._settle, monitor._check
    suspended, reap, gens_gone = monitor.suspended, monitor._reap, monitor.gens_gone
    writer = recorder.writer

    def line_event(code: CodeType, line: int) -> Any:
        frame = getframe(1)
        rec = frames.get(frame)
        if rec is None:
            rec = enter(frame, infos[id(code)])
        last = rec.last_line
        rec.last_line = line
        # _complete(rec), inlined, with set_slot's plain-value case inlined too: a
        # variable that holds a number, a bool or None (most lines store one variable)
        settled = False
        if last is not None:
            name = rec.stores.get(last)  # the variable the line stored (a tuple: several)
            if name is not None:
                try:
                    if type(name) is not str:
                        monitor._store(rec, name)
                    else:
                        try:
                            value = rec.scope[name]
                        except KeyError:  # (deleted)
                            value = _GONE
                        kind = type(value)
                        if ((kind is int and -SHORT_INT < value < SHORT_INT) or kind is bool or kind is float
                                or value is None):
                            # Recorder.set_slot's plain-value case, inlined: only a
                            # short text over a plain value (or a new slot) stays here
                            text = f"{value}"  # (its repr, without a call)
                            slots = rec.slots
                            slot = slots.get(name)
                            if slot is None:
                                if len(text) > MAX_REPR:
                                    recorder.set_slot(rec.node, name, value)
                                else:
                                    slots[name] = (recorder.step, None, text, None)
                            else:
                                start, dst, old, run = slot  # (recorder.SLOT_*)
                                if dst is not None or len(text) > MAX_REPR:
                                    recorder.set_slot(rec.node, name, value)
                                elif old != text:
                                    step = recorder.step
                                    if start < step:  # Recorder._end_interval, inlined
                                        if run is None:
                                            run = [start, old]
                                        else:
                                            run += start, old
                                            if len(run) >= RUN_SIZE:
                                                writer.slot_run(rec.node, name, run, step)
                                                run = None
                                    slots[name] = (step, None, text, run)
                        elif value is _GONE:
                            recorder.del_slot(rec.node, name)
                        else:
                            recorder.set_slot(rec.node, name, value)
                except CapReached as cap:
                    settled = True
                    monitor._truncate(str(cap))
                    monitor._flush_output(monitor.step)
                if last in rec.wide:  # (a global or a cell: what other frames share)
                    monitor.frames_dirty = monitor.frames_dirty or REREAD_SHARED
                    monitor.unsettled = True
            if later and not settled:
                dirty.extend(later.pop(frame, ()))
        # (a generator freed at a yield says nothing: see _reap; its first test, inlined)
        if suspended and not settled and (gens_gone or monitor.reap_all or monitor.scan_all):
            reap()
        # (recorder.events is only filled, and emptied, in _settle)
        if not settled and (recorder.changed or dirty or monitor.unsettled):
            settle()
        # a new step: _new_step, inlined (output written during the line set
        # `unsettled` and went out in _settle)
        step = monitor.step = monitor.step + 1
        recorder.step = step
        step_append(rec.step_code | line)
        if step >= monitor.next_check:
            check()
        return None

    return line_event
