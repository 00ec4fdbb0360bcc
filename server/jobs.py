"""The job manager: a queue of runs of uploaded programs, each traced in the sandbox, copied into the store.

`submit` creates the trace row (queued) and queues the run; `settings.workers`
threads take runs off the queue. A run is a worker process in the sandbox
(`sandbox.plan`) tracing into a scratch store in its own temporary directory; the
thread watches it (wall time, output, scratch space, cancel), copies its trace into
the main store as it goes and at the end (`TraceStore.import_trace`: the scratch
store is checked while copied), and sets the status with a message that names the
limit that stopped it. The manager holds the server's one writer connection: every
write to the main store goes through `write`. At start (`recover`) it finishes what
a server that died left behind (`recovery`).
"""

from __future__ import annotations

import logging
import os
import queue
import resource
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pyrona.tracer.backends import is_url
from pyrona.tracer.store import StoreError, TraceStore, read_run

from . import recovery, sandbox, worker
from .worker_end import STOP_GRACE, Streams, WorkerEnd, disk_usage, kill_group, signal_end
from .settings import Limits, ServerSettings

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from pyrona.tracer.scratch import ScratchRun

    T = TypeVar("T")

log = logging.getLogger("pyrona.server")

FINAL = ("done", "failed", "truncated")
CANCELLED = "stopped: cancelled"
INTERRUPTED = ("stopped: the server stopped during the run; the trace ends at the last step copied "
               "before, run the program again for all of it")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}\.py\Z")
IMPORT_EVERY = 2.0  # seconds between copies of a running trace
KEEP_ENDED = 600.0  # seconds a run's progress stays in memory after it ended


def safe_name(name: str) -> str:
    """The file name a program runs under: its base name if that is a plain `*.py` name."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base if _SAFE_NAME.match(base) else "program.py"


@dataclass
class Job:
    """One run: its trace, and its progress as the server knows it (for the SSE endpoint)."""

    trace: int
    name: str
    source: str
    status: str = "queued"
    steps: int = 0
    message: str = ""
    started: float = 0.0  # time.monotonic() when it started running
    ended: float = 0.0
    cancel: threading.Event | StoreCancel = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    #: the limits of a queued run (the web process's, in its trace); None: this server's
    limits: Limits | None = None

    def progress(self) -> dict:
        """`{"status", "steps", "elapsed", "message"}`."""
        if not self.started:
            elapsed = 0.0
        else:
            elapsed = (self.ended or time.monotonic()) - self.started
        return {"status": self.status, "steps": self.steps, "elapsed": round(elapsed, 2),
                "message": self.message}


@dataclass
class Task:
    """Work that is not a run (an export), done by the same bounded threads as the runs."""

    run: Callable[[], None]
    label: str


class StoreCancel:
    """A queued run's cancel: asked through the store (the web process that cancels it, or
    deletes its trace, may be on another machine), looked at once a second at most."""

    def __init__(self, manager: JobManager, trace: int) -> None:
        self._manager, self._trace = manager, trace
        self._asked = threading.Event()
        self._next = 0.0

    def set(self) -> None:
        self._asked.set()

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._asked.is_set() and now >= self._next:
            self._next = now + 1.0
            try:
                info = self._manager.write(lambda store: store.trace(self._trace))
                if info.status == "failed" and info.message == CANCELLED:
                    self._asked.set()
            except StoreError:  # deleted
                self._asked.set()
        return self._asked.is_set()


class JobManager:
    """Queued runs, executed by `settings.workers` threads (started at the first run).

    With a PostgreSQL store the queue is procrastinate's (`queue`): runs are deferred
    there, taken by `pyrona worker` processes and by this server's own procrastinate
    worker of `settings.workers` runs (none for 0). A `runner` is the manager of such a
    worker: it runs what it is given (`run_queued`), nothing else."""

    def __init__(self, settings: ServerSettings, *, runner: bool = False) -> None:
        self.settings = settings
        self.runner = runner
        #: the web side of a queue deployment (a PostgreSQL store)
        self.queued = is_url(settings.db) and not runner
        self._queue_app: object = None
        self._pool: object = None
        self._write_lock = threading.Lock()
        self._writer: TraceStore | None = None
        self._lock = threading.Lock()  # guards _jobs, _threads, _mode
        self._jobs: dict[int, Job] = {}
        self._threads: list[threading.Thread] = []
        self._queue: queue.Queue[Job | Task | None] = queue.Queue()
        self._mode: str | None = None
        self._closed = False
        self._owner: recovery.Owner | None = None  # made at the first run (or `recover`)
        self._recovered = False

    # --- the one writer ---

    def write(self, action: Callable[[TraceStore], T]) -> T:
        """Run `action` with the server's one writer connection (one at a time)."""
        with self._write_lock:
            if self._writer is None:
                self._writer = TraceStore(self.settings.db, shared=True)
            return action(self._writer)

    # --- runs ---

    def submit(self, name: str, source: str, owner: str = "") -> int:
        """Create the trace of a run of `source` (status queued; `owner`: see
        `server/access.py`) and queue the run; its id."""
        name = safe_name(name)
        if self.queued:  # the limits go with the trace to whichever worker runs it
            options = {**asdict(self.settings.limits), "sandbox": self.settings.sandbox,
                       "queue": "procrastinate"}
            trace = self.write(lambda store: store.create_trace(name, {name: source}, options, owner))
            from . import queue

            try:
                queue.defer(self._app(), trace)
            except BaseException as exc:  # not queued: it must not look as if it were
                message = f"the run could not be queued: {exc}"
                self.write(lambda store: store.set_status(trace, "failed", message))
                raise
            return trace
        options = self._options()
        trace = self.write(lambda store: store.create_trace(name, {name: source}, options, owner))
        self._queue_run(Job(trace, name, source))
        return trace

    def _app(self) -> object:
        """The procrastinate app of the store (its schema made, opened for deferring)."""
        from . import queue

        with self._lock:
            if self._queue_app is None:
                app = queue.make_app(str(self.settings.db), self.settings)
                queue.ensure_schema(app, str(self.settings.db))
                app.open()
                self._queue_app = app
            return self._queue_app

    def defer_export(self, export: str) -> None:
        """Queue the drawing of the stored export `export` (a queue deployment's; see
        `export_jobs`): whichever worker takes it draws it."""
        from . import queue

        queue.defer_export(self._app(), export)

    def run_queued(self, trace: int) -> None:
        """Run the queued run of `trace` here (a queue worker's job): as a run of the
        in-process pool, with the limits its trace holds. A trace no longer queued
        (cancelled, deleted) is left alone."""
        try:
            info, files = self.write(lambda store: (store.trace(trace), store.files(trace)))
        except StoreError:
            return
        if info.status != "queued":
            return
        names = Limits.__dataclass_fields__
        limits = Limits(**{k: v for k, v in info.settings.items() if k in names})
        job = Job(trace, safe_name(info.name), files.get(0, ("", ""))[1], limits=limits)
        job.cancel = StoreCancel(self, trace)
        # which worker runs it (for whoever looks after the workers)
        here = {**info.settings, "worker": f"{socket.gethostname()}:{os.getpid()}"}
        self.write(lambda store: store.set_status(trace, "queued", settings=here))
        try:
            self._run(job)
        except Exception as exc:  # noqa: BLE001 - one broken run must not end the worker's thread
            log.exception("run of trace %d failed", job.trace)
            self._finish(job, "failed", f"the run could not be completed: {exc}")

    def _options(self) -> dict:
        """A run's settings in its trace: the limits, the sandbox, the server that runs it."""
        return {**asdict(self.settings.limits), "sandbox": self.settings.sandbox, "server": self.owner().id}

    def owner(self) -> recovery.Owner:
        """This server as the owner of its runs (its lock taken at the first call)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the job manager is shut down")
            if self._owner is None:
                self._owner = recovery.Owner()
            return self._owner

    def _queue_run(self, job: Job) -> None:
        trace = job.trace
        with self._lock:
            if self._closed:
                raise RuntimeError("the job manager is shut down")
            # runs that ended a while ago: their progress is in the store now
            old = time.monotonic() - KEEP_ENDED
            for ended in [t for t, j in self._jobs.items() if j.finished.is_set() and j.ended < old]:
                del self._jobs[ended]
            self._jobs[trace] = job
            self._start_threads()
        self._queue.put(job)

    def queue_task(self, run: Callable[[], None], label: str) -> None:
        """Queue work that is not a run (an export) behind the runs already queued."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the job manager is shut down")
            self._start_threads()
        self._queue.put(Task(run, label))

    def _start_threads(self) -> None:  # (with the lock held)
        while len(self._threads) < max(self.settings.workers, 1):
            thread = threading.Thread(target=self._work, name=f"pyrona-run-{len(self._threads)}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    def recover(self) -> dict[str, list]:
        """Finish what servers that died left behind (once, at start; see `recovery`):
        their runs that were running end failed (INTERRUPTED), keeping the steps copied
        before; their queued runs are queued here (they never started: nothing about them
        can have brought the server down); their scratch folders go. Runs that an older
        server left (no owner in their settings) count as a dead server's. Returns the
        traces failed and queued again and the folders removed."""
        done: dict[str, list] = {"failed": [], "queued": [], "removed": []}
        with self._lock:
            if self._recovered:
                return done
            self._recovered = True
        if self.queued:  # the queue's own means recover its runs (`queue.recover_stalled`)
            self._start_pool()
            return done
        claims = recovery.Claims(self.owner())
        try:
            for trace, status, settings in self.write(lambda store: store.unfinished()):
                owner = settings.get("server")
                if "queue" in settings:
                    continue  # a queued run: the queue's (`queue.recover_stalled`)
                if owner is None and "sandbox" not in settings:
                    continue  # not a server's run (`pyrona trace` into this store)
                if owner is not None and not claims.dead(str(owner)):
                    continue  # a live server's
                if status == "running":
                    steps = self.write(lambda store, t=trace: store.end_interrupted(t, "failed", INTERRUPTED))
                    log.warning("trace %d: %s (%d steps kept)", trace, INTERRUPTED, steps)
                    done["failed"].append(trace)
                else:
                    self._requeue(trace, settings)
                    done["queued"].append(trace)
            done["removed"] = claims.remove_scratch()
        finally:
            claims.release()
        if done["queued"] or done["removed"]:
            log.warning("recovered: %d runs queued again, %d scratch folders removed",
                        len(done["queued"]), len(done["removed"]))
        return done

    def _requeue(self, trace: int, settings: dict) -> None:
        info, files = self.write(lambda store: (store.trace(trace), store.files(trace)))
        source = files.get(0, ("", ""))[1]
        self.write(lambda store: store.set_status(trace, "queued", settings={**settings, **self._options()}))
        self._queue_run(Job(trace, safe_name(info.name), source))

    def _start_pool(self) -> None:
        """This server's own procrastinate worker (`settings.workers` runs; none for 0)."""
        if self.settings.workers > 0 and self._pool is None:
            from . import queue

            self._app()  # (the schema, made before the worker starts)
            self._pool = queue.InProcessPool(str(self.settings.db), self.settings.workers, self.settings)

    def progress(self, trace: int) -> dict | None:
        """The progress of a run this server started, None for other traces."""
        job = self._jobs.get(trace)
        return job.progress() if job is not None else None

    def wait(self, trace: int, timeout: float | None = None) -> bool:
        """Wait for a run to end; False on timeout (True for traces this server does not run)."""
        if self.queued:
            return self._wait_stored(trace, timeout)
        job = self._jobs.get(trace)
        return job is None or job.finished.wait(timeout)

    def _wait_stored(self, trace: int, timeout: float | None) -> bool:
        """Wait for a queued run to end, as its trace in the store says."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                if self.write(lambda store: store.trace(trace)).status in FINAL:
                    return True
            except StoreError:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.25)

    def cancel(self, trace: int) -> bool:
        """Stop a queued or running run (it ends failed, "stopped: cancelled"); False if none."""
        if self.queued:  # the worker that runs it looks at its trace (`StoreCancel`)
            def ask(store: TraceStore) -> bool:
                if store.trace(trace).status not in ("queued", "running"):
                    return False
                store.set_status(trace, "failed", CANCELLED)
                return True

            return self.write(ask)
        job = self._jobs.get(trace)
        if job is None or job.finished.is_set():
            return False
        job.cancel.set()
        return True

    def delete(self, trace: int) -> None:
        """Delete a trace, stopping its run first. Raises StoreError for an unknown trace."""
        job = self._jobs.get(trace)
        if self.cancel(trace) and job is not None and job.status != "queued":
            self.wait(trace, timeout=30)  # a queued one never starts: no need to wait for it
        self.write(lambda store: store.delete_trace(trace))
        with self._lock:
            self._jobs.pop(trace, None)

    def ensure_samples(self, wait: bool = False) -> list[int]:
        """Trace every sample program the store has no trace of yet (matched by name), or
        whose newest trace ran another version of it (the gallery shows what the file says)."""

        def traced_sources(store: TraceStore) -> dict[str, str | None]:
            newest: dict[str, int] = {}
            for info in store.traces():
                if info.name not in newest or newest[info.name] < info.id:
                    newest[info.name] = info.id
            sources = {}
            for name, trace in newest.items():
                files = store.files(trace)
                sources[name] = files[0][1] if 0 in files else None
            return sources

        have = self.write(traced_sources)
        started = []
        for path in sorted(Path(self.settings.samples).glob("*.py")):
            source = path.read_text(encoding="utf-8")
            if path.name not in have or (have[path.name] is not None and have[path.name] != source):
                started.append(self.submit(path.name, source))
        if wait:
            for trace in started:
                self.wait(trace)
        return started

    def mode(self) -> str:
        """The sandbox runs use here ("bwrap" or "rlimits"), found once; SandboxError if the
        one asked for cannot be used."""
        with self._lock:
            if self._mode is None:
                self._mode = sandbox.resolve_mode(self.settings.sandbox)
            return self._mode

    def shutdown(self) -> None:
        """Stop every run, end the threads, close the writer."""
        with self._lock:
            self._closed = True
            jobs, threads = list(self._jobs.values()), list(self._threads)
        for job in jobs:
            job.cancel.set()
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=30)
        if self._pool is not None:
            self._pool.stop()  # type: ignore[attr-defined]
        if self._queue_app is not None:
            self._queue_app.close()  # type: ignore[attr-defined]
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        if self._owner is not None:
            self._owner.release()

    # --- one run ---

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            if isinstance(job, Task):
                try:
                    job.run()
                except Exception:  # noqa: BLE001 - a task's failure must not end the thread
                    log.exception("task %s failed", job.label)
                continue
            try:
                self._run(job)
            except Exception as exc:  # noqa: BLE001 - one broken run must not end the thread
                log.exception("run of trace %d failed", job.trace)
                self._finish(job, "failed", f"the run could not be completed: {exc}")

    def _finish(self, job: Job, status: str, message: str, **extra: object) -> None:
        try:
            self.write(lambda store: store.set_status(job.trace, status, message, **extra))
        finally:
            job.status, job.message, job.ended = status, message, time.monotonic()
            job.finished.set()

    def _run(self, job: Job) -> None:
        if job.cancel.is_set():
            return self._finish(job, "failed", CANCELLED)
        job.status, job.started = "running", time.monotonic()
        self.write(lambda store: store.set_status(job.trace, "running"))
        try:
            mode = self.mode()
        except sandbox.SandboxError as exc:
            return self._finish(job, "failed", str(exc))
        scratch = self.owner().scratch(job.trace)
        try:
            self._sandboxed(job, mode, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _sandboxed(self, job: Job, mode: str, scratch: Path) -> None:
        limits = job.limits or self.settings.limits
        (scratch / job.name).write_text(job.source, encoding="utf-8")
        job.source = ""  # the store has it: a long-lived server need not keep every upload
        (scratch / "tmp").mkdir()
        progress_in, progress_out = os.pipe()
        # the control pipe: closing its end asks the worker to stop (so does this process's death)
        control_in, control_out = os.pipe()
        try:
            plan = sandbox.plan(mode, scratch, job.name, limits, progress_out)
            argv = [*plan.argv, "--control-fd", str(control_in)]
            inherited = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            proc = subprocess.Popen(argv, env=plan.env, cwd=scratch, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    pass_fds=(progress_out, control_in), start_new_session=True,
                                    preexec_fn=plan.preexec)
        except BaseException:
            os.close(progress_in)
            os.close(control_out)
            raise
        finally:
            os.close(progress_out)
            os.close(control_in)
        worker_end = WorkerEnd(proc, control_out, inherited)
        streams = Streams(proc.stdout, progress_in, job, limits.max_steps)
        db = scratch / "trace.db"
        reason = self._watch(job, worker_end, streams, db, plan.folder, scratch)
        worker_end.stop(grace=STOP_GRACE)  # the worker stops the program and finishes its trace
        kill_group(proc)  # always: whatever the program left behind goes too
        worker_end.wait(None)
        streams.join()
        if not reason and streams.output > self._output_backstop(job):
            reason = "output"  # (raw writes the worker outran the watch with: all read now)
        run, broken = None, ""
        if db.exists():
            try:
                run = self._import(db, job, plan.folder, final=True)
            except StoreError as exc:
                broken = str(exc)
                self.write(lambda store: store.delete_trace(job.trace, steps_only=True))
        status, message = self._conclude(job, reason, worker_end, mode, run, broken)
        if status == "failed" and not run and not broken and message.startswith("the run failed"):
            log.warning("trace %d: %s; worker output: %s", job.trace, message, streams.tail()[-800:])
        job.steps = run.steps if run else 0
        summary = {**(run.summary if run else {}), "sandbox": mode}
        self._finish(job, status, message, steps=job.steps, summary=summary,
                     truncated=message if status == "truncated" else "")

    def _import(self, db: Path, job: Job, folder: str, *, final: bool) -> ScratchRun:
        """Copy the run's scratch store into its trace. Reading and checking the untrusted
        store (seconds, for a big trace) happens outside the writer's lock: only the copy,
        one short transaction, holds it, so uploads and other runs' copies do not wait."""
        limits = job.limits or self.settings.limits
        done, used = self.write(lambda store: store.import_position(job.trace))
        run, rows = read_run(db, done, final=final, folder=folder, max_steps=limits.max_steps,
                             output_left=limits.output_bytes - used)
        return self.write(lambda store: store.import_rows(job.trace, run, rows))

    def _output_backstop(self, job: Job) -> int:
        """Output bytes past which the server stops a run: the worker's tee cuts the output
        the program prints first; this is for raw writes to its descriptors."""
        return 4 * (job.limits or self.settings.limits).output_bytes + 65_536

    def _watch(self, job: Job, worker_end: WorkerEnd, streams: Streams, db: Path, folder: str,
               scratch: Path) -> str:
        """Wait for the run to end, copying its trace now and then; the reason to stop it
        early ("wall", "output", "disk", "cancelled"), or "" when it ended by itself."""
        limits = job.limits or self.settings.limits
        deadline = job.started + limits.wall_seconds
        backstop = self._output_backstop(job)
        next_copy = next_disk = time.monotonic() + 1.0
        copying = True
        while True:
            if worker_end.wait(0.1):
                return ""
            worker_end.sample_cpu()
            now = time.monotonic()
            if job.cancel.is_set():
                return "cancelled"
            if now >= deadline:
                return "wall"
            if streams.output > backstop:
                return "output"
            if now >= next_disk:
                next_disk = now + 1.0
                if disk_usage(scratch) > sandbox.disk_mb(limits) << 20:
                    return "disk"
            if copying and now >= next_copy and db.exists():
                next_copy = now + IMPORT_EVERY
                try:
                    run = self._import(db, job, folder, final=False)
                    job.steps = max(job.steps, run.steps)
                except StoreError as exc:
                    copying = False  # the final copy says what is wrong
                    log.info("trace %d: live copy stopped: %s", job.trace, exc)

    def _conclude(self, job: Job, reason: str, worker_end: WorkerEnd, mode: str, run: object,
                  broken: str) -> tuple[str, str]:
        """The status and message of a run that ended: the limit the server stopped it at,
        else what the worker's end says (its exit status, or the signal that killed it)."""
        limits = job.limits or self.settings.limits
        if reason == "cancelled":
            return "failed", CANCELLED
        if reason:
            return "truncated", sandbox.stop_message(reason, limits)
        returncode = worker_end.proc.returncode
        # bwrap reports a killed worker as 128 + the signal
        sig = -returncode if returncode < 0 else 0
        if mode == "bwrap" and returncode > 128:
            sig = returncode - 128
        if sig:
            return signal_end(sig, worker_end, limits, time.monotonic() - job.started)
        if broken:
            return "failed", broken
        if returncode in worker.LIMIT_REASONS:
            return "truncated", sandbox.stop_message(worker.LIMIT_REASONS[returncode], limits)
        if returncode == worker.EXIT_TERMINATED:
            return "failed", "stopped: the run was stopped from outside the server (SIGTERM)"
        said = getattr(run, "message", "")
        if returncode == worker.EXIT_NETWORK:
            done = getattr(run, "status", "") == "done"
            return ("done", sandbox.NO_NETWORK) if done else ("failed", f"{sandbox.NO_NETWORK}: {said}")
        if returncode == worker.EXIT_DONE and run is not None:
            return "done", ""
        if returncode == worker.EXIT_FAILED and run is not None:
            return "failed", said or "the program failed"
        return "failed", f"the run failed inside the sandbox (worker exit status {returncode})"
