"""Trace a program: run it under the region runtime with the monitor on, into a store."""

from __future__ import annotations

import os
import sys
import time
from collections import namedtuple
from contextlib import contextmanager

from ..instrument.importer import should_instrument
from ..instrument.runner import Instrumentation, run_outcome
from ..runtime.state import RUNTIME
from .guard import Guard, tamper_message
from .halt import Halt
from .hooks import Changes, tracing_hooks
from .monitor import GLOBAL_EVENTS, Monitor
from .store import TraceStore

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from ..instrument.cache import CodeCache

DEFAULT_MAX_STEPS = 1_000_000
DEFAULT_MAX_OBJECTS = 200_000


#: How a traced run ended: the new trace's id, its status (done, failed, truncated), its
#: step count, message, the program's exit status and the seconds it took.
TraceOutcome = namedtuple("TraceOutcome", "trace status steps message exit_status elapsed")


class OutputLimitReached(BaseException):
    """The program wrote more than `max_output` characters: it is stopped. A signal that
    stops the run, not an error: a `BaseException` outside the PyronaError family, so the
    program's `except Exception` cannot swallow it."""


class TraceStopped(BaseException):
    """The trace was cut (step or object cap) and the run was asked to stop there. A signal
    that stops the run, not an error: a `BaseException` outside the PyronaError family, so
    the program's `except Exception` cannot swallow it."""


class _Tee:
    """A stream that passes text through and hands a copy to the monitor; with a budget,
    text beyond it is cut and the run stopped (`on_limit`)."""

    def __init__(self, stream: object, name: str, sink: Callable[[str, str], None],
                 budget: list[int] | None = None, on_limit: Callable[[], None] | None = None) -> None:
        self._stream, self._name, self._sink = stream, name, sink
        self._budget, self._on_limit = budget, on_limit

    def write(self, text: str) -> int:
        budget = self._budget
        if budget is not None and len(text) > budget[0]:
            # both streams share one budget: cut here, keep what fits, stop the program
            kept = text[:budget[0]]
            budget[0] = 0
            if kept:
                self._sink(self._name, kept)
                self._stream.write(kept)
            if self._on_limit is not None:
                self._on_limit()
            return len(text)
        if budget is not None:
            budget[0] -= len(text)
        self._sink(self._name, text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def trace_program(path: str | os.PathLike[str], store: TraceStore, *, name: str | None = None,
                  argv: list[str] | None = None, max_steps: int = DEFAULT_MAX_STEPS,
                  max_objects: int = DEFAULT_MAX_OBJECTS,
                  progress: Callable[[int, int, float], None] | None = None,
                  verify: bool = False, trace: int | None = None, max_output: int | None = None,
                  stop_when_truncated: bool = False, max_store_bytes: int | None = None,
                  ticker: Callable[[Monitor], None] | None = None,
                  keep_threads_parked: bool = False,
                  code_cache: CodeCache | None = None) -> TraceOutcome:
    """Run `path` traced; its trace goes into `store` (into trace `trace` if given, a
    trace created beforehand, e.g. queued by the server). Returns how it ended.

    For sandboxed runs (the server's worker): `max_output` caps the characters written to
    stdout+stderr (the run stops, truncated, when it is reached), and `stop_when_truncated`
    ends the program when the trace is cut instead of letting it run on untraced; the
    first checkpoint is then taken early, so a run killed from outside leaves steps behind;
    `max_store_bytes` cuts the trace when the store grows past it (below a file size limit,
    so what is written stays readable). `ticker`, if given, is handed the monitor before
    the program starts: it promises to call `monitor.tick()` every so often (the worker
    does from its alarm signal), and progress and checkpoints then go by time (see
    `Monitor.tick`) instead of every so many steps. `code_cache` keeps the program's
    instrumented code between runs (the command line's; the server's runs have none).

    The program's other threads are parked once it is over (`Monitor.halt`), so none
    runs traced code or touches the tracer while its trace is finished; they go on,
    untraced, when it is written, unless `keep_threads_parked` (the worker, which exits
    at once: nothing of the program runs after its trace)."""
    script = os.path.abspath(path)
    root = os.path.realpath(os.path.dirname(script))
    settings = {"max_steps": max_steps, "max_objects": max_objects, "argv": argv or []}
    if trace is None:
        trace = store.create_trace(name or os.path.basename(script), {}, settings)
    store.set_status(trace, "running")
    writer = store.writer(trace)
    changes = Changes()
    started = time.monotonic()
    guard = Guard()

    def report(steps: int, nodes: int) -> None:
        if progress is not None:
            progress(steps, nodes, time.monotonic() - started)

    monitor = Monitor(writer, lambda f: os.path.isabs(f) and should_instrument(f, root), changes,
                      max_steps=max_steps, max_objects=max_objects, progress=report, verify=verify,
                      max_store_bytes=max_store_bytes)
    monitor.watchdog = guard.check  # (every few thousand steps: the tracer still has its tool id)
    if stop_when_truncated:
        _stop_at_truncation(monitor)
    if ticker is not None:
        monitor.ticking = True
        ticker(monitor)
    budget = [max_output] if max_output is not None else None

    def output_limit() -> None:
        if not monitor.truncated:
            monitor._truncate(output_limit_reason(max_output or 0))
        raise OutputLimitReached(monitor.truncated)

    halted: list[Halt] = []

    @contextmanager
    def around(_file: str) -> Iterator[None]:
        out, err = sys.stdout, sys.stderr
        sys.stdout = _Tee(out, "stdout", monitor.write_output, budget, output_limit)
        sys.stderr = _Tee(err, "stderr", monitor.write_output, budget, output_limit)
        monitor.start()
        guard.install(lambda: monitor.tool, GLOBAL_EVENTS)
        owner = os.getpid()
        try:
            yield
        except BaseException as exc:
            if os.getpid() != owner:
                _forked_exit(exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 1)
            raise
        finally:
            if os.getpid() == owner:  # the program is over in this thread: the others stop
                halted.append(monitor.halt())
            lost = guard.finish() if os.getpid() == owner else ""
            guard.uninstall()
            _stop(monitor, lost)
            sys.stdout, sys.stderr = out, err
        if os.getpid() != owner:
            _forked_exit(0)

    RUNTIME.reset()  # a fresh heap for this program
    hooks = tracing_hooks(changes)
    monitor.hook_ids = {id(f) for f in hooks.values()}
    how = Instrumentation(hooks=hooks, fast_paths=False, around=around, value_paths=True, cache=code_cache)
    exit_status, failure = run_outcome(script, argv or [], how)
    try:
        monitor.on_truncate = None  # the program is over: nothing left to stop
        steps = monitor.finish()
        # hints left for frames that ended before their next line (a generator expression's):
        # they hold those frames, whose callers' frames hold this one and the monitor
        changes.later.clear()
        changes.dirty.clear()
        writer.finish()
        error = failure or {}
        if guard.attempt:
            status, message = "failed", tamper_message(guard.attempt)
        elif monitor.truncated:
            status, message = "truncated", monitor.truncated
        elif failure is None:
            status, message = "done", ""
        else:
            status = "failed"
            line = f" (line {error['line']})" if error.get("line") else ""
            text = error.get("message", "")
            if error.get("kind") not in (None, "other"):  # a pyrona error: maybe a violation's
                text = _named(store, trace, text)  # (never after a MemoryError: it reads the store)
            message = f"{error.get('type', 'Error')}: {text}{line}"
        summary = {"nodes": monitor.recorder.next_id - 1, "regions": RUNTIME.next_region_id - 1,
                   "violations": store.event_count(trace, "violation"),
                   "error_kind": error.get("kind"),
                   # the runtime's own view at the end, to compare with the last step's
                   "final_regions": {str(m.rid): m.parent.rid if m.parent else None
                                     for m in RUNTIME.regions.values()}}
        if verify:
            from .verify import stored_slots

            summary["verify_problems"] = monitor.verify_problems
            summary["oracle"] = monitor.oracle.result
            summary["readback_problems"] = [
                step for step, live in sorted(monitor.snapshots.items())
                if step < steps and stored_slots(store.step(trace, step)) != live][:10]
        store.set_status(trace, status, message, steps=steps, truncated=monitor.truncated, summary=summary)
        RUNTIME.reset()
        return TraceOutcome(trace, status, steps, message, exit_status, time.monotonic() - started)
    finally:
        if halted and not keep_threads_parked:
            halted[0].release()


def _named(store: TraceStore, trace: int, message: str) -> str:
    """An uncaught error's message with its objects named as the diagram names them, when
    it is a violation's (whose event keeps the runtime's own text)."""
    try:
        for event in reversed(store.events(trace, kinds=("violation",))):
            if event.message == message:
                return event.text
    except MemoryError:  # (at the memory limit: the status must still be written)
        pass
    return message


def _stop(monitor: Monitor, lost: str) -> None:
    """Switch the monitor off; one whose tool id or events the program took is switched off
    as far as it still can be (the run is failed anyway)."""
    if not lost:
        monitor.stop()
        return
    try:
        monitor.stop()
    except ValueError:  # its tool id is no longer its own
        monitor.tool = None
        monitor.stop()


def output_limit_reason(limit: int) -> str:
    """The truncation reason of a run stopped by `max_output`."""
    return f"output limit ({limit} characters) reached"


def _stop_at_truncation(monitor: Monitor) -> None:
    """Make the monitor's truncation also stop the program (a TraceStopped raised where it
    runs), and take the first checkpoint at the first chance (a run killed early by a
    limit then still leaves a readable trace)."""
    def stop(reason: str) -> None:
        raise TraceStopped(reason)

    monitor.on_truncate = stop
    monitor.last_checkpoint = float("-inf")


def _forked_exit(status: int) -> None:
    """A fork of the traced program ends with its program: the trace, its store and the
    program's outcome are the parent's, not its to finish."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the program may have closed or replaced it
            pass
    os._exit(status)
