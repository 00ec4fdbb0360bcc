"""Export jobs: pictures of a trace drawn in Chromium (SVG, PNG, GIF, PDF), and the offline
viewer (HTML, seconds for a long trace), never made inside a request. A request queues one
(`Exports.submit`) on the job manager's bounded queue, the same threads that run uploads;
the client polls it and downloads the file once it is done.

An export reads the store, draws in a headless Chromium with every network request refused
(`pyrona/pictures.py`), and keeps its file in a folder of this server for KEEP_SECONDS. Its
id is a random token: whoever may read the trace got it, nobody can guess it.
"""

from __future__ import annotations

import io
import logging
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pyrona import exports
from pyrona.errors import PyronaError
from pyrona.tracer.store import TraceStore

from .settings import ServerSettings

log = logging.getLogger("pyrona.server")

FORMATS = {"html": "text/html; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
           "gif": "image/gif", "pdf": "application/pdf", "zip": "application/zip"}
#: exports waiting or running at once, over all clients; more is refused (429)
MAX_PENDING = 8
#: an export longer than this is stopped (between two slides)
EXPORT_SECONDS = 300.0
#: how long a finished export's file (or its error) is kept
KEEP_SECONDS = 900.0


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
    created: float = field(default_factory=time.monotonic)
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
    """The exports of this server: queued on `jobs` (a JobManager), their files kept in a
    folder of their own, forgotten KEEP_SECONDS after they ended."""

    def __init__(self, settings: ServerSettings, jobs: object) -> None:
        self.settings = settings
        self._jobs_manager = jobs
        self._lock = threading.Lock()
        self._exports: dict[str, ExportJob] = {}
        self._folder: Path | None = None

    def submit(self, job: ExportJob) -> ExportJob:
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

    def get(self, export_id: str) -> ExportJob | None:
        with self._lock:
            self._forget_old()
            return self._exports.get(export_id)

    def _forget_old(self) -> None:
        old = time.monotonic() - KEEP_SECONDS
        for key in [k for k, j in self._exports.items() if j.finished.is_set() and j.ended < old]:
            job = self._exports.pop(key)
            if job.path is not None:
                job.path.unlink(missing_ok=True)

    def run(self, job: ExportJob) -> None:
        """Draw the export (on a thread of the job manager's queue)."""
        job.status = "running"
        store = TraceStore(self.settings.db, shared=True, pooled=True)
        try:
            if job.format == "html":  # (no browser, but seconds for a long trace: not in a request)
                page = io.StringIO()
                exports.write_html(store, job.trace, page, job.step or 0)
                files = [(f"trace-{job.trace}.html", page.getvalue().encode())]
            else:
                files = exports.draw_pictures(store, job.trace, job.format, job.step, job.slides, job.size,
                                              deadline=job.created + EXPORT_SECONDS)
            name = f"trace-{job.ref}"
            if job.slides is None or job.format in ("gif", "pdf", "html"):  # one file
                data, kind = files[0][1], job.format
                job.filename = files[0][0].replace(f"trace-{job.trace}", name, 1)
            else:  # one picture per slide: a zip of them
                out = io.BytesIO()
                with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
                    for file_name, content in files:
                        zipped.writestr(file_name.replace(f"trace-{job.trace}", name, 1), content)
                data, job.filename, kind = out.getvalue(), f"{name}-slides-{job.format}.zip", "zip"
            assert self._folder is not None
            path = self._folder / f"{job.id}.{kind}"
            path.write_bytes(data)
            job.path, job.media_type = path, FORMATS[kind]
            job.status, job.message = "done", f"{len(files)} {'file' if len(files) == 1 else 'files'}"
        except PyronaError as exc:
            job.status, job.message = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - an export's failure is its own, not the server's
            log.exception("export %s of trace %d failed", job.id, job.trace)
            job.status, job.message = "failed", f"the export could not be drawn: {exc}"
        finally:
            store.close()
            job.ended = time.monotonic()
            job.finished.set()

    def shutdown(self) -> None:
        with self._lock:
            folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def new_id() -> str:
    return secrets.token_urlsafe(16)
