"""Trace a program: run it under the region runtime with the monitor on, into a store."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..instrument.importer import should_instrument
from ..instrument.runner import Instrumentation, run_program
from ..runtime.state import RUNTIME
from .hooks import Changes, tracing_hooks
from .monitor import Monitor
from .store import TraceStore

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DEFAULT_MAX_STEPS = 1_000_000
DEFAULT_MAX_OBJECTS = 200_000


@dataclass(frozen=True)
class TraceOutcome:
    """How a traced run ended: the new trace's id, its status and step count."""

    trace: int
    status: str  # done, failed, truncated
    steps: int
    message: str
    exit_status: int
    elapsed: float


class _Tee:
    """A stream that passes text through and hands a copy to the monitor."""

    def __init__(self, stream: object, name: str, sink: Callable[[str, str], None]) -> None:
        self._stream, self._name, self._sink = stream, name, sink

    def write(self, text: str) -> int:
        self._sink(self._name, text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def trace_program(path: str | os.PathLike[str], store: TraceStore, *, name: str | None = None,
                  argv: list[str] | None = None, max_steps: int = DEFAULT_MAX_STEPS,
                  max_objects: int = DEFAULT_MAX_OBJECTS,
                  progress: Callable[[int, int, float], None] | None = None,
                  verify: bool = False, trace: int | None = None) -> TraceOutcome:
    """Run `path` traced; its trace goes into `store` (into trace `trace` if given, a
    trace created beforehand, e.g. queued by the server). Returns how it ended."""
    script = os.path.abspath(path)
    root = Path(os.path.realpath(os.path.dirname(script)))
    settings = {"max_steps": max_steps, "max_objects": max_objects, "argv": argv or []}
    if trace is None:
        trace = store.create_trace(name or os.path.basename(script), {}, settings)
    store.set_status(trace, "running")
    writer = store.writer(trace)
    changes = Changes()
    started = time.monotonic()

    def report(steps: int, nodes: int) -> None:
        if progress is not None:
            progress(steps, nodes, time.monotonic() - started)

    monitor = Monitor(writer, lambda f: os.path.isabs(f) and should_instrument(f, root), changes,
                      max_steps=max_steps, max_objects=max_objects, progress=report, verify=verify)

    @contextmanager
    def around(_file: str) -> Iterator[None]:
        out, err = sys.stdout, sys.stderr
        sys.stdout = _Tee(out, "stdout", monitor.write_output)
        sys.stderr = _Tee(err, "stderr", monitor.write_output)
        monitor.start()
        try:
            yield
        finally:
            monitor.stop()
            sys.stdout, sys.stderr = out, err

    RUNTIME.reset()  # a fresh heap for this program
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        hooks = tracing_hooks(changes)
        monitor.hook_ids = {id(f) for f in hooks.values()}
        how = Instrumentation(hooks=hooks, fast_paths=False, around=around, value_paths=True)
        exit_status = run_program(script, argv or [], result_path, how)
        result = json.loads(result_path.read_text()) if result_path.exists() else {"ok": False}
    steps = monitor.finish()
    writer.finish()
    error = result.get("error") or {}
    if monitor.truncated:
        status, message = "truncated", monitor.truncated
    elif result.get("ok"):
        status, message = "done", ""
    else:
        status = "failed"
        line = f" (line {error['line']})" if error.get("line") else ""
        message = f"{error.get('type', 'Error')}: {error.get('message', '')}{line}"
    summary = {"nodes": monitor.recorder.next_id - 1, "regions": RUNTIME.next_region_id - 1,
               "violations": len(store.events(trace, kinds=("violation",))),
               "error_kind": error.get("kind"),
               # the runtime's own view at the end, to compare with the last step's
               "final_regions": {str(m.rid): m.parent.rid if m.parent else None
                                 for m in RUNTIME.regions.values()}}
    if verify:
        from .verify import stored_slots

        summary["verify_problems"] = monitor.verify_problems
        summary["readback_problems"] = [
            step for step, live in sorted(monitor.snapshots.items())
            if step < steps and stored_slots(store.step(trace, step)) != live][:10]
    store.set_status(trace, status, message, steps=steps, truncated=monitor.truncated, summary=summary)
    RUNTIME.reset()
    return TraceOutcome(trace, status, steps, message, exit_status, time.monotonic() - started)
