"""Thread events as the trace keeps them: which thread runs the steps.

A `thread` event at step s says that the steps from s on run on the thread it names
(its `threading` name in the event's `edge`; `message` reads "thread NAME runs"),
until the next `thread` event. The tracer writes one each time the thread that makes
a step is not the one that made the step before (tracer.threads), and a first one,
at the step that started the program's first thread, naming the thread that ran
every step until then. A trace without any ran on one thread (`MAIN`, unless its
behaviour events say otherwise). Nothing is kept per step.
"""

from __future__ import annotations

from bisect import bisect_right

THREAD_EVENT = "thread"
MAIN = "MainThread"
MAX_NAME = 80


def thread_of(switches: list[tuple[int, str]], step: int, default: str = MAIN) -> str:
    """The thread of `step`, from the trace's (step, name) thread events in step order."""
    if not switches:
        return default
    at = bisect_right(switches, step, key=lambda s: s[0])
    return switches[max(at - 1, 0)][1]
