"""Exports kept in a PostgreSQL store's own database, the one thing a web process and the
`pyrona worker`s on other machines share: the web process adds an export (queued) and defers
its task, a worker draws it and writes the file's bytes into the row, the web process reads
them back for the download. Rows are forgotten KEEP_SECONDS after the export ended (any
process that looks at the table removes them), and a file larger than MAX_BYTES is refused.

The table is additive: made by the first process that needs it (under its own advisory
lock), in no schema version of the trace store, never read by the store itself.
"""

from __future__ import annotations

import json

from pyrona.tracer.backends import SCHEMA_LOCK, PgConnection

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from .export_jobs import ExportJob

#: the advisory lock of this table's creation (the store's is SCHEMA_LOCK, procrastinate's + 1)
EXPORTS_LOCK = SCHEMA_LOCK + 2
TABLE = """
CREATE TABLE IF NOT EXISTS exports (
    id TEXT PRIMARY KEY, trace BIGINT NOT NULL, ref TEXT NOT NULL, format TEXT NOT NULL,
    step BIGINT, slides TEXT, width INTEGER NOT NULL, height INTEGER NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', created DOUBLE PRECISION NOT NULL,
    ended DOUBLE PRECISION, worker TEXT NOT NULL DEFAULT '', filename TEXT NOT NULL DEFAULT '',
    media_type TEXT NOT NULL DEFAULT '', size BIGINT NOT NULL DEFAULT 0, data BYTEA);
CREATE INDEX IF NOT EXISTS exports_ended ON exports (ended);
"""
_COLUMNS = "id, trace, ref, format, step, slides, width, height, status, message, filename, media_type"
#: the database's clock (the processes' clocks may differ), in seconds
_NOW = "extract(epoch FROM clock_timestamp())"


class ExportTable:
    """The `exports` table of the PostgreSQL database at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._made = False

    def _db(self) -> PgConnection:
        db = PgConnection(self.url, pooled=True)
        if not self._made:
            if db.execute("SELECT to_regclass('exports')").fetchone()[0] is None:
                db.execute("BEGIN")
                try:
                    db.execute("SELECT pg_advisory_xact_lock(?)", (EXPORTS_LOCK,))
                    db.executescript(TABLE)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    db.close()
                    raise
            self._made = True
        return db

    def add(self, job: ExportJob, most_pending: int) -> bool:
        """Add `job` (queued) unless `most_pending` exports are waiting or running already
        (False then). Forgets the exports that ended long enough ago first."""
        db = self._db()
        try:
            db.execute("BEGIN")
            try:
                db.execute("SELECT pg_advisory_xact_lock(?)", (EXPORTS_LOCK,))  # (one count at a time)
                self._forget(db)
                pending = db.execute("SELECT COUNT(*) FROM exports WHERE ended IS NULL").fetchone()[0]
                if pending >= most_pending:
                    db.execute("ROLLBACK")
                    return False
                db.execute("INSERT INTO exports (id, trace, ref, format, step, slides, width, height, "
                           f"status, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', {_NOW})",
                           (job.id, job.trace, job.ref, job.format, job.step,
                            None if job.slides is None else json.dumps(job.slides), *job.size))
                db.execute("COMMIT")
                return True
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()

    def _forget(self, db: PgConnection) -> None:
        from .export_jobs import EXPORT_SECONDS, KEEP_SECONDS

        # ended long ago; or never ended long after any export must have (its worker and the
        # queue's stalled check both gone)
        db.execute(f"DELETE FROM exports WHERE ended < {_NOW} - ? OR created < {_NOW} - ?",
                   (KEEP_SECONDS, 2 * EXPORT_SECONDS + KEEP_SECONDS))

    def get(self, export_id: str) -> ExportJob | None:
        """The export (without its file), None if there is none (or it was forgotten)."""
        from .export_jobs import ExportJob, KEEP_SECONDS

        db = self._db()
        try:
            row = db.execute(f"SELECT {_COLUMNS}, ended IS NULL OR ended >= {_NOW} - ? FROM exports "
                             "WHERE id = ?", (KEEP_SECONDS, export_id)).fetchone()
        finally:
            db.close()
        if row is None or not row[-1]:
            return None
        (id_, trace, ref, fmt, step, slides, width, height, status, message, filename, media_type,
         _kept) = row
        job = ExportJob(id_, trace, ref, fmt, step, None if slides is None else json.loads(slides),
                        (width, height), status=status, message=message, filename=filename,
                        media_type=media_type)
        if status in ("done", "failed"):
            job.finished.set()
        return job

    def data(self, export_id: str) -> bytes | None:
        db = self._db()
        try:
            row = db.execute("SELECT data FROM exports WHERE id = ? AND status = 'done'",
                             (export_id,)).fetchone()
        finally:
            db.close()
        return None if row is None or row[0] is None else bytes(row[0])

    def start(self, export_id: str, worker: str) -> ExportJob | None:
        """Mark a queued export running on `worker`; None if it is not queued (any more)."""
        db = self._db()
        try:
            taken = db.execute("UPDATE exports SET status = 'running', worker = ? WHERE id = ? "
                               "AND status = 'queued' RETURNING id", (worker, export_id)).fetchone()
        finally:
            db.close()
        return self.get(export_id) if taken else None

    def finish(self, export_id: str, status: str, message: str, filename: str = "", media_type: str = "",
               data: bytes | None = None) -> None:
        """An export ended: done with its file, or failed with why."""
        db = self._db()
        try:
            db.execute(f"UPDATE exports SET status = ?, message = ?, filename = ?, media_type = ?, "
                       f"size = ?, data = ?, ended = {_NOW} WHERE id = ? AND ended IS NULL",
                       (status, message, filename, media_type, len(data or b""), data, export_id))
        finally:
            db.close()
