"""Stopping a traced program that has threads: its trace is finished with the program's
other threads parked (`tracer.halt`), and the worker's stop is raised only where no code of
pyrona's runs on the stack (`worker.Stopper`)."""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
import time
from types import SimpleNamespace

import pytest

import pyrona.tracer.writer
from pyrona.server import worker
from pyrona.server.worker import RunStopped, Stopper
from pyrona.tracer.monitor import Monitor
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore

#: a thread that runs on, traced, after the program's main thread is over (a daemon, so the
#: program ends without waiting for it); it ends once the file named by argv[1] exists
OUTLIVED = """import os, sys, threading, time

def spin(stop):
    n = 0
    while not os.path.exists(stop):
        n += 1

t = threading.Thread(target=spin, args=(sys.argv[1],), name="spinner", daemon=True)
t.start()
time.sleep(0.3)
"""


def _top(thread: threading.Thread) -> str:
    frame = sys._current_frames().get(thread.ident)
    return frame.f_code.co_name if frame is not None else ""


def test_a_thread_that_outlives_the_program_is_parked_while_its_trace_is_finished(tmp_path, monkeypatch):
    program, stop = tmp_path / "outlived.py", tmp_path / "stop"
    program.write_text(OUTLIVED)
    seen: dict[str, object] = {}
    finish = Monitor.finish

    def finishing(monitor: Monitor) -> int:
        spinner = next(t for t in threading.enumerate() if t.name == "spinner")
        seen["spinner"] = spinner
        before = monitor.step
        time.sleep(0.3)  # (running, the spinner would record thousands of steps meanwhile)
        seen.update(top=_top(spinner), steps=(before, monitor.step))
        return finish(monitor)

    monkeypatch.setattr(Monitor, "finish", finishing)
    store = TraceStore(tmp_path / "t.db", shared=True)
    try:
        outcome = trace_program(program, store, argv=[str(stop)])
    finally:
        stop.touch()
    spinner = seen["spinner"]
    spinner.join(30)  # released once the trace was written: it goes on, untraced, and ends
    assert not spinner.is_alive()
    assert (outcome.status, outcome.message) == ("done", "")
    assert seen["top"] == "park"  # parked at an event, while the trace was finished
    assert seen["steps"][0] == seen["steps"][1]  # and recording nothing then
    # the spinner's loop was traced until it was parked: the last steps are its lines
    assert store.step_count(outcome.trace) == outcome.steps
    last = store.steps(outcome.trace, outcome.steps - 20)
    assert {step.line for step in last} <= {5, 6}, last


def test_the_worker_keeps_the_threads_parked_once_the_trace_is_written(tmp_path):
    program, stop = tmp_path / "outlived.py", tmp_path / "stop"
    program.write_text(OUTLIVED)
    try:
        outcome = trace_program(program, TraceStore(tmp_path / "t.db", shared=True), argv=[str(stop)],
                                keep_threads_parked=True)
        spinner = next(t for t in threading.enumerate() if t.name == "spinner")
        time.sleep(0.2)
        assert outcome.status == "done" and _top(spinner) == "park"
    finally:
        stop.touch()
        spinner = next((t for t in threading.enumerate() if t.name == "spinner"), None)
        if spinner is not None:  # what the worker never does: let it go, and end
            frame = sys._current_frames().get(spinner.ident)
            if frame is not None and frame.f_code.co_name == "park":
                frame.f_locals["self"].release()
            spinner.join(30)


# --- where the worker's stop may be raised ---

def _code(source: str, filename: str, name: str) -> object:
    scope: dict[str, object] = {}
    exec(compile(source, filename, "exec"), scope)
    return scope[name]


#: the same calling function compiled as three kinds of code: the program's, pyrona's (a
#: file of the tracer's) and the standard library's (contextlib's file, which a tracer's
#: checkpoint runs through)
CALLER = "def {0}(then):\n    return then()\n"
# (named apart: code objects that differ only in their file compare equal)
PROGRAM = _code(CALLER.format("program"), "/somewhere/program.py", "program")
PYRONA = _code(CALLER.format("pyrona"), pyrona.tracer.writer.__file__, "pyrona")
STDLIB = _code(CALLER.format("stdlib"), contextlib.__file__, "stdlib")


@pytest.fixture
def stopper(monkeypatch):
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    retries: list[float] = []
    monkeypatch.setattr(signal, "setitimer", lambda _which, first, *_: retries.append(first))
    stopper = Stopper(None, None)
    stopper.install()
    retries.clear()
    stopper.monitor = SimpleNamespace(tool=3, tick=lambda: None,
                                      infos={id(PROGRAM.__code__): object()})
    stopper.retries = retries
    return stopper


def _signal_in(stopper: Stopper, *stack) -> bool:
    """Whether SIGXCPU, arriving in the innermost of `stack` (callers first), raised the stop."""
    def innermost() -> None:
        stopper.on_signal(signal.SIGXCPU, sys._getframe(1))

    call = innermost
    for function in reversed(stack):
        call = functools.partial(function, call)  # (no frame of its own)
    try:
        call()
    except RunStopped as stop:
        assert str(stop) == "cpu"
        return True
    return False


@pytest.mark.parametrize("stack, raised", [
    ((PYRONA, PROGRAM), True),  # the program's code, run by pyrona's
    ((PYRONA, PROGRAM, STDLIB), True),  # the standard library, called by the program
    ((PYRONA, PROGRAM, PYRONA), False),  # pyrona's code (a callback, the runtime)
    ((PYRONA, PROGRAM, PYRONA, STDLIB), False),  # the standard library, called by the tracer
    ((PYRONA, PROGRAM, PYRONA, STDLIB, PROGRAM), False),  # the program's, called by the tracer
    ((PYRONA, STDLIB), False),  # the standard library, the program over (its trace being finished)
])
def test_the_stop_is_raised_only_where_no_code_of_pyronas_runs(stopper, stack, raised):
    assert _signal_in(stopper, *stack) is raised
    assert stopper.reason == "cpu"
    assert stopper.retries == ([] if raised else [0.02])  # not now: tried again in a moment


def test_the_stop_is_raised_once(stopper):
    assert not _signal_in(stopper, PYRONA, PROGRAM, PYRONA)  # in the tracer: kept for later
    assert _signal_in(stopper, PYRONA, PROGRAM)  # (the retry's alarm, in the program)
    assert not _signal_in(stopper, PYRONA, PROGRAM)  # swallowed: the hard limit comes next
    assert worker.STOP_CODES[stopper.reason] == worker.EXIT_CPU


def test_a_trace_cut_on_another_thread_stops_the_main_thread_at_the_next_alarm(stopper):
    stopper.monitor = SimpleNamespace(tool=None, truncated="step cap (20000) reached", tick=lambda: None,
                                      infos={id(PROGRAM.__code__): object()})

    def alarm(*stack) -> bool:
        def innermost() -> None:
            stopper.on_signal(signal.SIGALRM, sys._getframe(1))

        call = innermost
        for function in reversed(stack):
            call = functools.partial(function, call)
        try:
            call()
        except RunStopped:
            return True
        return False

    assert not alarm(PYRONA, PROGRAM, PYRONA)  # (in pyrona's code: not there)
    assert not alarm(PYRONA, STDLIB)  # (the cut on this thread: the program is over, its trace finished)
    assert alarm(PYRONA, PROGRAM)
    assert stopper.reason == ""  # the worker's exit status is the cap's (the trace's outcome)
    assert not alarm(PYRONA, PROGRAM)  # once
