"""The API of exports drawn in Chromium: ask for one (it is queued), poll it, download it.

    POST /api/traces/{trace}/exports  {"format": "png", "step": 5}  -> 202 ExportInfo
    GET  /api/exports/{id}                                         -> ExportInfo
    GET  /api/exports/{id}/file                                    -> the file, once done

The text exports (md, json, mermaid, html) need no browser: `GET /api/traces/{trace}/export`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from pyrona import exports
from pyrona.tracer.store import StoreError, TraceStore

from .access import access
from .api import Problem, TraceId, problems, trace_of
from .export_jobs import MAX_PENDING, ExportBusy, ExportJob, new_id
from .problems import HTTPProblem
from .viewmodels import readable_steps

router = APIRouter(prefix="/api", tags=["exports"])
ExportId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,40}$", description="the export's id")]


class ExportRequest(BaseModel):
    """What to draw: `svg` (a step's diagram) or `png` (a step as a slide) of `step` (default
    the last), or of each slide with `slides` (a zip); `gif` and `pdf` are of the slides;
    `html` is the offline viewer, opened at `step`. The
    slides are `bookmarks` if given, else the program's `# pyrona: slide` lines, else the
    steps with region events or violations."""

    format: Literal["svg", "png", "gif", "pdf", "html"]
    step: int | None = Field(None, description="the step (negative counts from the end)")
    slides: bool = False
    bookmarks: list[int] | None = Field(None, max_length=exports.MAX_SLIDES)
    size: str = Field("1280x720", max_length=12, description="a slide's size, WIDTHxHEIGHT in pixels")


class ExportInfo(BaseModel):
    id: str
    trace: int | str
    format: str
    status: Literal["queued", "running", "done", "failed"]
    message: str
    step: int | None
    slides: list[int] | None
    size: str
    download: str | None = Field(description="where the file is, once done")


def _prepare(db: object, trace: int, ref: str, asked: ExportRequest) -> ExportJob:
    """The export asked for, checked against the trace (its steps, the slides)."""
    store = TraceStore(db, shared=True, pooled=True)
    try:
        info = trace_of(store, trace)
        if readable_steps(store, info) == 0:
            why = "yet (its run is queued)" if info.status in ("queued", "running") else "to export"
            raise HTTPProblem(409, "no-steps", f"Trace {ref} has no steps {why}.")
        try:
            size = exports.parse_size(asked.size)
            step = None if asked.step is None else exports.step_index(store, trace, asked.step)
            slides = None
            if asked.format in ("gif", "pdf") or asked.slides:
                slides = exports.slide_steps(store, trace, asked.bookmarks)
        except StoreError as exc:
            raise HTTPProblem(422, "invalid-request", str(exc)) from exc
        return ExportJob(new_id(), trace, ref, asked.format, step, slides, size)
    finally:
        store.close()


@router.post("/traces/{trace}/exports", status_code=202, response_model=ExportInfo,
             summary="Queue an export (SVG, PNG, GIF, PDF drawn in Chromium; offline HTML); poll its `id`",
             responses={**problems(400, 404, 422),
                        409: {"model": Problem, "description": "`no-steps`: the trace has no steps (yet)"},
                        429: {"model": Problem, "description": f"`busy`: {MAX_PENDING} exports are waiting"}})
async def create_export(request: Request, trace: TraceId, asked: ExportRequest) -> JSONResponse:
    ref = request.path_params["trace"]
    job = await run_in_threadpool(_prepare, request.app.state.settings.db, trace, ref, asked)
    try:
        await run_in_threadpool(request.app.state.exports.submit, job)  # (a database write with PostgreSQL)
    except ExportBusy as exc:
        raise HTTPProblem(429, exc.kind, str(exc)) from exc
    return JSONResponse(job.info(), status_code=202, headers={"Location": f"/api/exports/{job.id}"})


def _export(request: Request, export_id: str) -> ExportJob:
    job = request.app.state.exports.get(export_id)
    if job is None:
        raise HTTPProblem(404, "not-found", "There is no such export (exports are kept for 15 minutes).")
    access(request)  # (the id is the secret: whoever asked for it was allowed to read the trace)
    return job


@router.get("/exports/{export_id}", response_model=ExportInfo, summary="Where an export stands",
            responses=problems(404, 422))
def get_export(request: Request, export_id: ExportId) -> JSONResponse:
    return JSONResponse(_export(request, export_id).info())


@router.get("/exports/{export_id}/file", summary="The export's file, once it is done",
            response_class=FileResponse,
            responses={200: {"description": "The file (`Content-Disposition: attachment`)",
                             "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                                         for kind in ("text/html", "image/svg+xml", "image/png", "image/gif",
                                                      "application/pdf", "application/zip")}},
                       409: {"model": Problem,
                             "description": "`not-ready` (queued or running) or `failed`"},
                       **problems(404, 422)})
def export_file(request: Request, export_id: ExportId) -> Response:
    job = _export(request, export_id)
    if job.status == "failed":
        raise HTTPProblem(409, "failed", f"The export failed: {job.message}")
    content = request.app.state.exports.content(job) if job.status == "done" else None
    if content is None:
        raise HTTPProblem(409, "not-ready", f"The export is {job.status}: poll /api/exports/{job.id}.")
    if isinstance(content, bytes):  # (kept in the database)
        return Response(content, media_type=job.media_type,
                        headers={"Content-Disposition": f'attachment; filename="{job.filename}"'})
    return FileResponse(content, media_type=job.media_type, filename=job.filename)
