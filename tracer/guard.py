"""The tracer's guard: a traced program may not switch the tracer off (or trace itself).

While the program runs, the Python entry points that could take the tracer's tool id,
its callbacks or its events, or install another tracer (`sys.monitoring`'s setters,
`sys.settrace`/`setprofile` and their all-threads forms, `threading.settrace`/
`setprofile`), are replaced by guards: called by pyrona's own code they do what they
always do; called by anything else (the program, or the standard library on its
behalf) they refuse, and the run ends failed (`TracerTampered`). The read-only
functions (`get_tool`, `get_events`, ...) stay as they are.

A guard is no wall: Python code can reach the originals through introspection, and
ctypes can do anything. So the tool id is also checked at the tracer's periodic work
(every few thousand steps, no cost per step) and when the program is over: a tracer
that lost its tool id or its events marks the run failed too.
"""

from __future__ import annotations

import sys

from ..runtime.scan import is_internal

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

TOOL_NAME = "pyrona"
_MONITORING = ("use_tool_id", "clear_tool_id", "free_tool_id", "register_callback", "set_events",
               "set_local_events", "restart_events")
_SYS = ("settrace", "setprofile", "_settraceallthreads", "_setprofileallthreads")
_THREADING = ("settrace", "setprofile", "settrace_all_threads", "setprofile_all_threads")


def _no_tool() -> None:
    return None


class TracerTampered(BaseException):
    """The program tried to switch the tracer off: the run ends, failed. A `BaseException`
    outside the PyronaError family, so the program's `except Exception` cannot swallow it
    (and one that swallows it anyway is stopped again at the next periodic check)."""


def tamper_message(what: str) -> str:
    """The message of a run ended for tampering with the tracer."""
    return f"the program tampered with the tracer ({what}): the run was stopped"


class Guard:
    """Guards the tracer of one run: `install` before the program runs, `uninstall` after."""

    __slots__ = ("tool_of", "events", "attempt", "_saved", "_get_tool", "_get_events")

    def __init__(self) -> None:
        self.tool_of: Callable[[], int | None] = _no_tool
        self.events = 0
        self.attempt = ""  # what the program tried first ("" while it tried nothing)
        self._saved: list[tuple[ModuleType, str, object]] = []
        # the real readers, taken now: the program may replace the module's
        self._get_tool = sys.monitoring.get_tool
        self._get_events = sys.monitoring.get_events

    def install(self, tool_of: Callable[[], int | None], events: int) -> None:
        """Guard the entry points, while the tracer holds the tool id `tool_of()` (None once
        it stopped by itself, e.g. at a step cap) with `events` on."""
        import threading

        self.tool_of, self.events = tool_of, events
        for module, names in ((sys.monitoring, _MONITORING), (sys, _SYS), (threading, _THREADING)):
            for name in names:
                original = getattr(module, name, None)
                if original is not None:
                    self._saved.append((module, name, original))
                    setattr(module, name, self._guarded(f"{module.__name__}.{name}", original))

    def uninstall(self) -> None:
        for module, name, original in reversed(self._saved):
            setattr(module, name, original)
        self._saved.clear()
        self.tool_of = _no_tool  # (it refers to the tracer: no cycle keeps that alive)

    def _guarded(self, label: str, original: Callable) -> Callable:
        def guarded(*args: object, **kwargs: object) -> object:
            if is_internal(sys._getframe(1).f_code) or self.tool_of() is None:
                return original(*args, **kwargs)
            return self.refuse(f"it called {label}()")

        guarded.__name__ = guarded.__qualname__ = label.rpartition(".")[2]
        return guarded

    def refuse(self, what: str) -> None:
        """Stop the program for tampering (the first attempt is the one the run reports)."""
        self.attempt = self.attempt or what
        raise TracerTampered(tamper_message(self.attempt))

    def lost(self) -> str:
        """What the tracer lost, if anything: its tool id or its events."""
        tool = self.tool_of()
        if tool is None:
            return ""
        if self._get_tool(tool) != TOOL_NAME:
            return f"the tracer's sys.monitoring tool id {tool} was taken from it"
        if self._get_events(tool) != self.events:
            return "the tracer's sys.monitoring events were changed"
        return ""

    def check(self) -> None:
        """At the tracer's periodic work: stop a program that tampered (or swallowed the
        exception that stopped it)."""
        if self.attempt:
            self.refuse(self.attempt)
        if what := self.lost():
            self.refuse(what)

    def finish(self) -> str:
        """When the program is over: the first tampering found, or ''."""
        if not self.attempt:
            self.attempt = self.lost()
        return self.attempt
