"""Thread mode: the tracer's callbacks once the program runs more than one thread.

sys.monitoring calls back on whichever thread runs the program's code, and the GIL
may switch threads between two bytecodes of a callback: two threads inside the
monitor at once would corrupt it. A program that never starts a thread pays nothing
for this: its callbacks are the plain ones. The moment it starts one (through
`threading` or `_thread`, hooked here while the program runs), before the new thread
exists, the monitor switches for good to serialised callbacks (`serialised`): each
takes the runtime's lock (the one its check-store-commit holds: one lock, one order,
no deadlock between the two), notes which thread runs, and, when that thread is not
the one whose step came last, records a `thread` event at the first step it makes.

What a `thread` event means is in tracer.thread_events. (Threads started from C
extensions are not seen: their steps count as the last thread's.)
"""

from __future__ import annotations

import _thread
import sys
import threading

from ..runtime.state import RUNTIME
from .kinds import INSTANCE, LIST, DICT, SET
from .thread_events import MAX_NAME, THREAD_EVENT
from .recorder import NODE_KIND

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

    from .model import Event
    from .monitor import Monitor
    from .recorder import Recorder
    from .writer import TraceWriter

_RESCANNED = frozenset({INSTANCE, LIST, DICT, SET})  # (kinds whose slots library code may change)
#: the functions that start threads, as (module, name): hooked while the program runs
_STARTERS = ((threading, "_start_joinable_thread"), (_thread, "start_joinable_thread"),
             (_thread, "start_new_thread"), (_thread, "start_new"))


def thread_name(ident: int) -> str:
    """The `threading` name of a thread (one `threading` does not know: by its number)."""
    thread = threading._active.get(ident)  # (not current_thread(): it would make a dummy)
    return thread.name[:MAX_NAME] if thread is not None else f"thread {ident}"


def thread_event(step: int, name: str) -> Event:
    from .model import Event  # (only threaded programs need it: dataclasses stay out of start-up)

    return Event(step, THREAD_EVENT, message=f"thread {name} runs", edge=name)


def shifted(depth: int) -> FrameType:
    """`sys._getframe` as seen from a callback under `serialised` (two frames deeper: this
    one and the wrapper's)."""
    return sys._getframe(depth + 2)


def _is_foreign(recorder: Recorder, kind: type) -> bool:
    """Whether objects of this type are neither the program's nor builtins nor pyrona's
    (a Thread, an Event, a Condition's deque of waiters: what library code changes)."""
    found = recorder.foreign_types.get(kind)
    if found is None:
        module = getattr(kind, "__module__", None) or "builtins"
        found = recorder.foreign_types[kind] = (module != "builtins" and module not in RUNTIME.root_modules
                                                and module.partition(".")[0] != "pyrona")
    return found


def rescan_foreign(recorder: Recorder, start: list[Any] | None = None) -> None:
    """Rescan the library objects of the graph (`_is_foreign`), all of them (at a switch:
    the code that changes them on another thread is not traced, nor always called from a
    line of the program: a thread's bootstrap sets its `_started`), or those reached from
    `start` through library objects (a line that called `event.set()` changed the event's
    condition's waiters too, deeper than the one object the tracer rescans for a call)."""
    nodes, objs, ids, rescan = recorder.nodes, recorder.objs, recorder.ids, recorder.rescan
    if start is None:
        todo = [nid for nid, obj in list(objs.items()) if _is_foreign(recorder, type(obj))]
        seen = None
    else:
        todo = [nid for obj in start if _is_foreign(recorder, type(obj)) and (nid := ids.get(id(obj)))]
        seen = set(todo)
    while todo:
        nid = todo.pop()
        if nid not in nodes or nodes[nid][NODE_KIND] not in _RESCANNED:
            continue
        rescan(nid)
        if seen is not None:
            for _start, dst, _text, _run in list(recorder.slots[nid].values()):
                if dst is not None and dst not in seen and _is_foreign(recorder, type(objs[dst])):
                    seen.add(dst)
                    todo.append(dst)


class ThreadHooks:
    """The thread starters, replaced while the program runs: the first start puts the
    monitor in thread mode; every thread started forgets which thread ran last (a new
    thread may get a finished one's number)."""

    __slots__ = ("saved", "last_name")

    def __init__(self) -> None:
        self.saved: list[tuple[Any, str, Any]] = []
        self.last_name = ""  # the thread named by the last `thread` event

    def named(self, writer: TraceWriter, step: int, ident: int) -> None:
        """Steps from `step` on run on thread `ident`: a `thread` event, unless the last
        one named it already (its number was forgotten when another thread started)."""
        name = thread_name(ident)
        if name != self.last_name:
            self.last_name = name
            writer.event(thread_event(step, name))

    def install(self, monitor: Monitor) -> None:
        """(the hooks refer to the monitor until `uninstall`; the monitor does not refer to
        them: no cycle keeps a finished monitor alive)"""
        for module, name in _STARTERS:
            original = getattr(module, name, None)
            if original is not None:
                self.saved.append((module, name, original))
                setattr(module, name, self._hooked(monitor, original))

    def uninstall(self) -> None:
        for module, name, original in reversed(self.saved):
            setattr(module, name, original)
        self.saved.clear()

    @staticmethod
    def _hooked(monitor: Monitor, original: Callable[..., Any]) -> Callable[..., Any]:
        def start(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            if monitor.tool is not None and not monitor.threaded:
                monitor.thread_mode()

            def run(*a: Any, **k: Any) -> Any:
                monitor.running = monitor.step_thread = 0  # (a new thread: maybe a finished one's number)
                return function(*a, **k)

            return original(run, *args, **kwargs)

        start.__name__ = start.__qualname__ = getattr(original, "__name__", "start")
        return start


def serialised(monitor: Monitor, callback: Callable[..., Any]) -> Callable[..., Any]:
    """`callback` run under the runtime's lock, the thread that runs it noted (see the
    module's docstring). Monitor callbacks under it find the program's frame through
    `monitor.getframe` (`shifted`)."""
    lock = RUNTIME.lock
    get_ident = _thread.get_ident
    later, hooks = monitor.later, monitor.thread_hooks
    line = callback is monitor.line_event

    def call(*args: Any) -> Any:
        with lock:
            if monitor.tool is None:  # (stopped while this thread waited for the lock)
                return None
            ident = get_ident()
            if ident != monitor.running:
                monitor.switched(ident)
            if line and later:  # (the line that ends called library code: what it reaches too)
                pending = later.get(sys._getframe(1))
                if pending:
                    monitor.rescan_library([obj for obj, _hint in pending])
            step = monitor.step
            try:
                return callback(*args)
            finally:
                if monitor.step != step and monitor.step_thread != ident:
                    monitor.step_thread = ident
                    hooks.named(monitor.writer, step + 1, ident)

    call.__name__ = call.__qualname__ = getattr(callback, "__name__", "callback")
    return call
