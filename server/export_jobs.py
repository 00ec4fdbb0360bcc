"""Export jobs: pictures of a trace drawn in Chromium (SVG, PNG, GIF, PDF), and the offline
viewer (HTML, seconds for a long trace), never made inside a request. A request queues one
(`Exports.submit`); the client polls it and downloads the file once it is done.

Where it runs is where runs run: with SQLite, on the job manager's bounded threads behind
the uploads, its file kept in a folder of this server; with PostgreSQL, on the procrastinate
queue (`server/queue.py`), taken by a `pyrona worker` (or the pool of `pyrona serve
--workers N`), its file kept in the database (`server/export_store.py`), the one thing web
processes and workers on other machines share. Either way it is drawn in a child process
under limits (`server/export_process.py`: memory, CPU, wall time; Chromium's network
refused), and kept KEEP_SECONDS after it ended. Its id is a random token: whoever may read
the trace got it, nobody can guess it.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyrona.errors import PyronaError
from pyrona.tracer.backends import is_url

from .export_process import Drawn, ExportFailed, ExportLimits, draw
from .settings import ServerSettings

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from .export_store import ExportTable

log = logging.getLogger("pyrona.server")

FORMATS = {"html": "text/html; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
           "gif": "image/gif", "pdf": "application/pdf", "zip": "application/zip"}
#: exports waiting or running at once, over all clients (and web processes); more is refused (429)
MAX_PENDING = 8
#: an export longer than this is stopped
EXPORT_SECONDS = 300.0
#: how long a finished export's file (or its error) is kept
KEEP_SECONDS = 900.0
#: an export's file larger than this is refused (it would be kept in memory or the database)
MAX_BYTES = 64 * 1024 * 1024


def export_limits(settings: ServerSettings) -> ExportLimits:
    """An export's limits on this server: twice a run's memory for the whole tree (Chromium
    drawing a 200-object step's PNG was measured at 1.6 GB), EXPORT_SECONDS of wall time and
    of CPU per process."""
    return ExportLimits(memory_mb=2 * settings.limits.memory_mb, cpu_seconds=int(EXPORT_SECONDS),
                        wall_seconds=EXPORT_SECONDS)


class ExportBusy(PyronaError):
    """Too many exports are waiting: the client should try again later."""

    kind = "busy"


@dataclass
class ExportJob:
    """One export: what was asked, and where it stands."""

    id: str
    trace: int
    ref: str  # what the trace's URLs name it by (its token in public mode)
    format: str
    step: int | None = None
    slides: list[int] | None = None
    size: tuple[int, int] = (1280, 720)
    status: str = "queued"  # queued, running, done, failed
    message: str = ""
    ended: float = 0.0
    path: Path | None = None
    filename: str = ""
    media_type: str = ""
    finished: threading.Event = field(default_factory=threading.Event)

    def info(self) -> dict:
        """ExportInfo: `{"id", "trace", "format", "status", "message", "slides", "download"}`."""
        return {"id": self.id, "trace": self.ref, "format": self.format, "status": self.status,
                "message": self.message, "step": self.step, "slides": self.slides,
                "size": f"{self.size[0]}x{self.size[1]}",
                "download": f"/api/exports/{self.id}/file" if self.status == "done" else None}


class Exports:
    """The exports of this server. With SQLite: queued on `jobs` (a JobManager), their files
    kept in a folder of their own, forgotten KEEP_SECONDS after they ended. With PostgreSQL:
    rows of the database's `exports` table, deferred on the queue for a worker to draw."""

    def __init__(self, settings: ServerSettings, jobs: object) -> None:
        self.settings = settings
        self._jobs_manager = jobs
        self._lock = threading.Lock()
        self._exports: dict[str, ExportJob] = {}
        self._folder: Path | None = None
        self._table: ExportTable | None = None
        if is_url(settings.db):
            from .export_store import ExportTable

            self._table = ExportTable(str(settings.db))

    def submit(self, job: ExportJob) -> ExportJob:
        if self._table is not None:
            return self._submit_queued(job)
        with self._lock:
            self._forget_old()
            pending = sum(not j.finished.is_set() for j in self._exports.values())
            if pending >= MAX_PENDING:
                raise ExportBusy(f"{pending} exports are being drawn; try again in a minute")
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="pyrona-exports-"))
            self._exports[job.id] = job
        self._jobs_manager.queue_task(lambda: self.run(job), job.id)  # type: ignore[attr-defined]
        return job

    def _submit_queued(self, job: ExportJob) -> ExportJob:
        assert self._table is not None
        if not self._table.add(job, MAX_PENDING):
            raise ExportBusy(f"{MAX_PENDING} exports are being drawn; try again in a minute")
        try:
            self._jobs_manager.defer_export(job.id)  # type: ignore[attr-defined]
        except BaseException as exc:  # not queued: it must not look as if it were
            self._table.finish(job.id, "failed", f"the export could not be queued: {exc}")
            raise
        return job

    def get(self, export_id: str) -> ExportJob | None:
        if self._table is not None:
            return self._table.get(export_id)
        with self._lock:
            self._forget_old()
            return self._exports.get(export_id)

    def content(self, job: ExportJob) -> Path | bytes | None:
        """A done export's file: its path here (SQLite) or its bytes (from the database)."""
        if self._table is not None:
            return self._table.data(job.id)
        return job.path

    def _forget_old(self) -> None:
        old = time.monotonic() - KEEP_SECONDS
        for key in [k for k, j in self._exports.items() if j.finished.is_set() and j.ended < old]:
            job = self._exports.pop(key)
            if job.path is not None:
                job.path.unlink(missing_ok=True)

    def run(self, job: ExportJob) -> None:
        """Draw the export (on a thread of the job manager's queue), its file kept here."""
        job.status = "running"
        try:
            drawn = draw_export(self.settings, job)
            assert self._folder is not None
            path = self._folder / f"{job.id}.{drawn.kind}"
            path.write_bytes(drawn.data)
            job.path, job.media_type, job.filename = path, FORMATS[drawn.kind], drawn.filename
            job.status, job.message = "done", files_text(drawn)
        except PyronaError as exc:
            job.status, job.message = "failed", str(exc)
        finally:
            job.ended = time.monotonic()
            job.finished.set()

    def shutdown(self) -> None:
        with self._lock:
            folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def draw_export(settings: ServerSettings, job: ExportJob) -> Drawn:
    """Draw `job` in a child process under this server's export limits (ExportFailed if not)."""
    try:
        return draw(str(settings.db), job.trace, job.ref, job.format, job.step, job.slides, job.size,
                    export_limits(settings), MAX_BYTES)
    except ExportFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - an export's failure is its own, not the server's
        log.exception("export %s of trace %d failed", job.id, job.trace)
        raise ExportFailed(f"the export could not be drawn: {exc}") from exc


def files_text(drawn: Drawn) -> str:
    return f"{drawn.files} {'file' if drawn.files == 1 else 'files'}"


def run_stored(settings: ServerSettings, export_id: str) -> None:
    """A queue worker's export task: draw the stored export `export_id` and keep its file
    in the database (an export no longer queued, or forgotten, is left alone)."""
    from .export_store import ExportTable

    table = ExportTable(str(settings.db))
    job = table.start(export_id, f"{socket.gethostname()}:{os.getpid()}")
    if job is None:
        return
    try:
        drawn = draw_export(settings, job)
    except PyronaError as exc:
        table.finish(export_id, "failed", str(exc))
        return
    except BaseException as exc:
        table.finish(export_id, "failed", f"the export could not be drawn: {exc}")
        raise
    table.finish(export_id, "done", files_text(drawn), drawn.filename, FORMATS[drawn.kind], drawn.data)


def new_id() -> str:
    return secrets.token_urlsafe(16)
