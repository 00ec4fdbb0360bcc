"""The job queue of a PostgreSQL deployment: procrastinate, its tables in the trace store's
own database, so one PostgreSQL holds both.

The web process creates a trace (queued) and defers `RUN_TASK` with its id; any worker
(`pyrona worker`, or the in-process pool of `pyrona serve --workers N`) takes it and
runs it as the in-process pool does with SQLite (`JobManager.run_queued`: the same
sandbox, the trace copied into the store as it goes, so the web process's progress
stream reads it from the store). Workers send procrastinate heartbeats; a periodic
task (`STALLED_TASK`, every CHECK_EVERY seconds, run by whichever worker takes it)
asks procrastinate for the jobs of workers that stopped sending them: such a job is
retried once (its trace queued again, what it had copied dropped), then failed with
LOST. Exports are a task of their own (`EXPORT_TASK`, `server/export_jobs.py`): the worker
draws it and keeps its file in the database; an export whose worker stopped fails (EXPORT_LOST).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import procrastinate
from procrastinate import jobs as procrastinate_jobs

from pyrona.tracer.store import StoreError, TraceStore

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable

    from .settings import ServerSettings

log = logging.getLogger("pyrona.server")

QUEUE = "pyrona"
RUN_TASK = "pyrona.run"
STALLED_TASK = "pyrona.stalled"
EXPORT_TASK = "pyrona.export"
#: seconds between a worker's heartbeats, and without one before its jobs count as stalled
#: (procrastinate's defaults; PYRONA_HEARTBEAT sets the first, the second is three times it)
HEARTBEAT = float(os.environ.get("PYRONA_HEARTBEAT", "10"))
STALLED_AFTER = 3 * HEARTBEAT
CHECK_EVERY = max(1, round(HEARTBEAT / 2))  # seconds between checks for stalled jobs
ATTEMPTS = 2  # a run whose worker died is retried once
LOST = ("stopped: the worker running it stopped (it was killed, crashed or lost its connection) "
        f"in {ATTEMPTS} attempts; nothing more was copied: run the program again")
RETRIED = "queued again: the worker running it stopped"
EXPORT_LOST = ("stopped: the worker drawing it stopped (it was killed, crashed or lost its connection); "
               "ask for the export again")


def make_app(url: str, settings: ServerSettings | None = None) -> procrastinate.App:
    """The procrastinate app of the store at `url`, with pyrona's two tasks; the runs this
    process takes go through one job manager that only runs what it is given."""
    from .jobs import JobManager
    from .settings import ServerSettings

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    runner = JobManager(settings or ServerSettings(db=url), runner=True)

    @app.task(name=RUN_TASK, queue=QUEUE, pass_context=True)
    def run(context: procrastinate.JobContext, trace: int) -> None:
        runner.run_queued(trace)

    @app.task(name=EXPORT_TASK, queue=QUEUE, pass_context=True)
    def export(context: procrastinate.JobContext, export: str) -> None:
        from .export_jobs import run_stored

        run_stored(runner.settings, export)

    @app.periodic(cron=f"* * * * * */{CHECK_EVERY}", periodic_id="stalled")
    @app.task(name=STALLED_TASK, queue=QUEUE, queueing_lock=STALLED_TASK, pass_context=True)
    async def stalled(context: procrastinate.JobContext, timestamp: int) -> None:
        await recover_stalled(app, url)

    return app


async def recover_stalled(app: procrastinate.App, url: str) -> list[tuple[int, str]]:
    """The runs of workers that stopped sending heartbeats: retried once, then failed (LOST).
    Returns (trace, "retried" or "failed") for each."""
    done = []
    stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE, task_name=RUN_TASK,
                                                     seconds_since_heartbeat=STALLED_AFTER)
    for job in stalled:
        trace = int(job.task_kwargs["trace"])
        if job.attempts + 1 < ATTEMPTS:
            await asyncio.to_thread(_write, url, _requeue, trace)
            await app.job_manager.retry_job(job)
            done.append((trace, "retried"))
        else:
            await app.job_manager.finish_job(job, status=procrastinate_jobs.Status.FAILED, delete_job=False)
            await asyncio.to_thread(_write, url, _lost, trace)
            done.append((trace, "failed"))
        log.warning("trace %d: its worker stopped; %s", trace, done[-1][1])
    exports = await app.job_manager.get_stalled_jobs(queue=QUEUE, task_name=EXPORT_TASK,
                                                     seconds_since_heartbeat=STALLED_AFTER)
    for job in exports:  # (not retried: the client asks again)
        await app.job_manager.finish_job(job, status=procrastinate_jobs.Status.FAILED, delete_job=False)
        await asyncio.to_thread(_export_lost, url, str(job.task_kwargs["export"]))
        log.warning("export %s: its worker stopped", job.task_kwargs["export"])
    return done


def _export_lost(url: str, export: str) -> None:
    from .export_store import ExportTable

    ExportTable(url).finish(export, "failed", EXPORT_LOST)


def _requeue(store: TraceStore, trace: int) -> None:
    """A stalled run's trace, queued again: what it had copied goes (the retry copies it all)."""
    store.delete_trace(trace, steps_only=True)
    store.set_status(trace, "queued", RETRIED)


def _lost(store: TraceStore, trace: int) -> None:
    """A run stalled at its last attempt: failed, the steps copied before kept."""
    store.end_interrupted(trace, "failed", LOST)


def _write(url: str, action: Callable[[TraceStore, int], None], trace: int) -> None:
    store = TraceStore(url)
    try:
        action(store, trace)
    except StoreError as exc:  # deleted meanwhile
        log.info("%s", exc)
    finally:
        store.close()


def ensure_schema(app: procrastinate.App, url: str) -> None:
    """procrastinate's tables, made once (the first process to start makes them)."""
    import psycopg

    from pyrona.tracer.backends import SCHEMA_LOCK

    with psycopg.connect(url, autocommit=True) as db, db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK + 1,))
        if db.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:
            db.execute(app.schema_manager.get_schema())  # (no parameters: no % to escape)


def defer(app: procrastinate.App, trace: int) -> int:
    """Queue the run of `trace`; its job's id."""
    return app.configure_task(RUN_TASK, queue=QUEUE).defer(trace=trace)


def defer_export(app: procrastinate.App, export: str) -> int:
    """Queue the drawing of the stored export `export`; its job's id."""
    return app.configure_task(EXPORT_TASK, queue=QUEUE).defer(export=export)


def worker_options(concurrency: int, name: str) -> dict:
    """procrastinate's worker options for pyrona's runs."""
    return {"queues": [QUEUE], "concurrency": concurrency, "name": name,
            "update_heartbeat_interval": HEARTBEAT, "stalled_worker_timeout": STALLED_AFTER,
            "delete_jobs": "successful"}


def run_worker(url: str, concurrency: int, settings: ServerSettings | None = None) -> None:
    """`pyrona worker`: take runs off the queue until stopped (SIGINT/SIGTERM: the runs in
    progress finish first)."""
    app = make_app(url, settings)
    ensure_schema(app, url)
    with app.open():
        pass  # (checks the connection now: a bad URL is an error before any run)
    app.run_worker(**worker_options(concurrency, f"pyrona-worker-{os.getpid()}"))


class InProcessPool:
    """`pyrona serve --workers N` with PostgreSQL: a procrastinate worker of N runs on a
    thread of the server (its own event loop), stopped with the server."""

    def __init__(self, url: str, concurrency: int, settings: ServerSettings) -> None:
        self.app = make_app(url, settings)
        self.concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="pyrona-queue-worker", daemon=True)
        self._thread.start()
        self._ready.wait(30)

    def _main(self) -> None:
        async def work() -> None:
            self._loop = asyncio.get_running_loop()
            options = worker_options(self.concurrency, f"pyrona-serve-{os.getpid()}")
            async with self.app.open_async():
                self._task = asyncio.current_task()
                self._ready.set()
                await self.app.run_worker_async(install_signal_handlers=False, **options)

        try:
            asyncio.run(work())
        except asyncio.CancelledError:
            pass
        finally:
            self._ready.set()

    def stop(self) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=60)
