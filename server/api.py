"""The JSON API (every page's twin): traces, steps, diagrams, timeline, SCCs, exports.

Routes are thin: they check the request, read the store on a connection of their own
(off the event loop: plain `def` routes run in the thread pool) and return the dicts
`viewmodels` builds. Writes go through the job manager's one writer. Errors are
`HTTPProblem`s: `{"error": {"kind", "message"}}` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

import anyio

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel

from pyrona import exports
from pyrona.tracer.store import StoreError, TraceInfo, TraceStore
from pyrona.views.mermaid import ViewOptions

from pyrona.views.scene import GROUP_OVER

from pyrona import slides

from . import behaviours_view, viewmodels
from .json_out import json_bytes
from .access import TRACE_REF, access
from .jobs import FINAL, safe_name
from .problems import HTTPProblem

router = APIRouter(prefix="/api", tags=["api"])

MAX_EXPORT_STEPS = 2_000
MAX_KINDS = 32
_SAMPLE = re.compile(r"[A-Za-z0-9_]{1,80}\Z")
_KIND = re.compile(r"[a-z][a-z-]{0,39}\Z")
MAX_ID = 2**62  # trace ids are SQLite integers: anything larger is no trace (and no OverflowError)
_KINDS = rf"^([a-z][a-z-]{{0,39}}(,[a-z][a-z-]{{0,39}}){{0,{MAX_KINDS - 1}}})?$"  # (the schema's)
StepIndex = Annotated[int, Path(description="the step, from 0", examples=[0])]
Flag = Annotated[bool, Query()]


# --- what the schema says of the answers ---

class ProblemDetail(BaseModel):
    kind: str
    message: str


class Problem(BaseModel):
    """Every error of the API: `{"error": {"kind", "message"}}`."""

    error: ProblemDetail


class Created(BaseModel):
    id: int | str  # (with --public: the trace's token)


class Progress(BaseModel):
    """One event of a run's progress (its `data`, JSON)."""

    status: Literal["queued", "running", "done", "failed", "truncated"]
    steps: int
    elapsed: float | None
    message: str


_PROBLEMS = {
    400: "The request cannot be read: `bad-json`, `bad-upload`, `bad-name`, `empty`, `binary`, `not-utf8`",
    404: "No such trace, step or sample: `not-found`, `step-out-of-range`, `no-steps`, `unknown-sample`",
    413: "The upload is over the limit: `too-large`",
    415: "Neither multipart/form-data nor JSON: `unsupported-media-type`",
    422: "A parameter is invalid: `invalid-request`",
}


def problems(*statuses: int) -> dict[int | str, dict]:
    """The documented error answers of a route (the problem JSON)."""
    return {status: {"model": Problem, "description": _PROBLEMS[status]} for status in statuses}


def text(description: str, *media_types: str) -> dict:
    """A 200 answer that is not JSON."""
    return {"description": description,
            "content": {kind: {"schema": {"type": "string"}} for kind in media_types}}


def _progress_events() -> dict:
    """The progress stream: server-sent events whose `data` is a `Progress` (Open API 3.2's
    `itemSchema`, as FastAPI writes it for its own event streams)."""
    event = {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "string", "contentMediaType": "application/json",
                 "contentSchema": Progress.model_json_schema()}}}
    return {"description": '`data: {"status", "steps", "elapsed", "message"}` events until the run ends',
            "content": {"text/event-stream": {"itemSchema": event}}}


OF_A_TRACE = problems(404, 422)


def reader(request: Request) -> Iterator[TraceStore]:
    """A read connection of this request's own (the route and this dependency may run on
    different threads of the pool, one after the other: hence `shared`)."""
    store = TraceStore(request.app.state.settings.db, shared=True, pooled=True)
    try:
        yield store
    finally:
        store.close()


Store = Annotated[TraceStore, Depends(reader)]


def trace_id(request: Request, store: Store,
             trace: Annotated[str, Path(pattern=TRACE_REF, examples=["1"],
                                        description="the trace's id (with `pyrona serve --public`: its "
                                                    "token)")]) -> int:
    """The trace the URL names (see `access`), as the store's id."""
    return access(request).find(store, trace).id


TraceId = Annotated[int, Depends(trace_id)]


@contextmanager
def found() -> Iterator[None]:
    """A StoreError from reading (a trace deleted meanwhile...) as a 404."""
    try:
        yield
    except StoreError as exc:
        raise HTTPProblem(404, "not-found", str(exc)) from exc


def trace_of(store: TraceStore, trace: int) -> TraceInfo:
    try:
        return store.trace(trace)
    except StoreError as exc:
        raise HTTPProblem(404, "not-found", f"There is no trace {trace}.") from exc


def step_of(store: TraceStore, trace: int, index: int) -> int:
    """The trace's readable step count, after checking that `index` is one of its steps."""
    info = trace_of(store, trace)
    total = viewmodels.readable_steps(store, info)
    if not 0 <= index < total:
        has = "no steps" if total == 0 else f"steps 0 to {total - 1}"
        raise HTTPProblem(404, "step-out-of-range", f"Trace {trace} has {has}: there is no step {index}.")
    return total


# --- traces ---

@router.get("/samples", summary="The sample programs and their traces")
def samples(request: Request, store: Store) -> JSONResponse:
    rules = access(request)
    return JSONResponse(viewmodels.sample_list(request.app.state.settings.samples, rules.sample_pool(store),
                                               rules.ref, store))


@router.get("/traces", summary="Every trace, newest first (with --public: the samples' and your own)")
def traces(request: Request, store: Store) -> JSONResponse:
    rules = access(request)
    pool = viewmodels.sample_traces(request.app.state.settings.samples, rules.sample_pool(store))
    listed = rules.listed(store, {info.id for info in pool.values() if info is not None})
    return JSONResponse(viewmodels.trace_list(store, listed, rules.ref))


_HOW = ('Send the program as multipart/form-data (field \'file\') or as JSON {"name", "source"} '
        'or {"sample"}.')
_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "a .py file: UTF-8 text, not empty, at most the upload limit"}}},
            "encoding": {"file": {"contentType": "text/x-python", "headers": {"Content-Disposition": {
                "schema": {"type": "string"}, "example": 'form-data; name="file"; filename="program.py"'}}}}},
        "application/json": {"schema": {"oneOf": [
            {"type": "object", "required": ["source"], "not": {"required": ["sample"]}, "properties": {
                "name": {"type": "string", "pattern": r"\.py$", "default": "program.py"},
                "source": {"type": "string", "minLength": 1, "description": "Python source, not blank"}}},
            {"type": "object", "required": ["sample"], "not": {"required": ["source"]}, "properties": {
                "sample": {"type": "string", "pattern": r"^[A-Za-z0-9_]{1,80}$",
                           "description": "the name of a sample program (GET /api/samples)",
                           "examples": ["job_queue"]}}}]}},
    }}


@router.post("/traces", status_code=201, summary="Upload a program (or pick a sample); its run is queued",
             responses={201: {"model": Created, "description": "The trace's id (and its URL in `Location`); "
                                                                "its run is queued"},
                        **problems(400, 404, 413, 415)},
             openapi_extra={"requestBody": _UPLOAD})
async def create_trace(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 65_536:  # refused before reading it
        raise HTTPProblem(413, "too-large",
                          f"The upload is {_size(int(declared))}; the limit is {_size(limit)}.")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        name, source = await _uploaded_file(request, limit)
    elif kind == "application/json":
        name, source = await _json_program(request, limit)
    elif not await _has_body(request):
        raise HTTPProblem(400, "empty", f"The request has no body: there is no program to run. {_HOW}")
    else:
        raise HTTPProblem(415, "unsupported-media-type", _HOW)
    rules = access(request)
    trace = await in_writer(request, request.app.state.jobs.submit, name, source, rules.owner)
    if rules.public:
        trace = await run_in_threadpool(_token_of, request.app.state.settings.db, trace)
    return JSONResponse({"id": trace}, status_code=201, headers={"Location": f"/api/traces/{trace}"})


async def _body(request: Request, cap: int) -> bytes:
    """The request's body, read as it comes: a 413 as soon as it is over `cap` bytes (a body
    sent without a Content-Length, chunked, is never held whole when it is too large)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise HTTPProblem(413, "too-large", f"The request is over {_size(cap)}, the limit of an upload.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _has_body(request: Request) -> bool:
    async for chunk in request.stream():
        if chunk:
            return True
    return False


def _token_of(db: object, trace: int) -> str:
    store = TraceStore(db, pooled=True)  # type: ignore[arg-type]
    try:
        return store.trace(trace).token
    finally:
        store.close()


async def in_writer[T](request: Request, action: Callable[..., T], *args: object) -> T:
    """Run a write (`action` takes the one writer's lock) on a thread of the writes' own:
    writes waiting for the writer queue here, on the event loop, and never hold the threads
    of the pool that serves the reads (a burst of uploads once took all of them)."""
    state = request.app.state
    if getattr(state, "write_threads", None) is None:  # made in the event loop: no race
        state.write_threads = anyio.CapacityLimiter(1)
    return await anyio.to_thread.run_sync(action, *args, limiter=state.write_threads)


async def _uploaded_file(request: Request, limit: int) -> tuple[str, str]:
    body = await _body(request, limit + 65_536)

    async def replay() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=4)
    except Exception as exc:  # noqa: BLE001 - starlette raises several kinds for bad bodies
        raise HTTPProblem(400, "bad-upload", f"The upload could not be read: {exc}") from exc
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise HTTPProblem(400, "bad-upload", "The upload has no file: send it in the form field 'file'.")
    data = await upload.read(limit + 1)
    return _checked_name(upload.filename or ""), _text(upload.filename or "the file", data, limit)


async def _json_program(request: Request, limit: int) -> tuple[str, str]:
    body = await _body(request, 4 * limit + 65_536)  # (JSON escapes make a source longer)
    if not body.strip():
        raise HTTPProblem(400, "empty", f"The request body is empty: there is no program to run. {_HOW}")
    try:
        data = json.loads(body)
    except RecursionError as exc:  # arrays or objects nested thousands deep, wherever they are
        raise HTTPProblem(400, "bad-json", "The request body is nested too deeply to be read.") from exc
    except ValueError as exc:
        raise HTTPProblem(400, "bad-json", f"The request body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise HTTPProblem(400, "bad-json", 'Send {"name", "source"} or {"sample"}.')
    if "sample" in data and "source" in data:
        raise HTTPProblem(400, "bad-json", 'Send {"name", "source"} or {"sample"}, not both.')
    if "sample" in data:
        sample = data["sample"]
        path = request.app.state.settings.samples / f"{sample}.py" if isinstance(sample, str) else None
        if path is None or not _SAMPLE.match(sample) or not path.is_file():
            raise HTTPProblem(404, "unknown-sample", f"There is no sample {str(sample)[:80]!r}.")
        return path.name, path.read_text(encoding="utf-8")
    name, source = data.get("name", "program.py"), data.get("source")
    if not isinstance(source, str) or not isinstance(name, str):
        raise HTTPProblem(400, "bad-json", 'Send {"name": "prog.py", "source": "..."}: both strings.')
    if "\x00" in source:
        raise HTTPProblem(400, "binary", f"{name[:80]} holds NUL characters: it is not Python source.")
    return _checked_name(name), _text(name, source.encode("utf-8", "surrogatepass"), limit)


def _checked_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base.endswith(".py"):
        raise HTTPProblem(400, "bad-name", f"Upload a Python file (a name ending in .py), not {base[:80]!r}.")
    return safe_name(base)


def _text(name: str, data: bytes, limit: int) -> str:
    """The program's text, or a clear 4xx: empty, too large, binary, not UTF-8."""
    shown = name.replace("\\", "/").rsplit("/", 1)[-1][:80] or "the file"
    if len(data) > limit:
        raise HTTPProblem(413, "too-large", f"{shown} is over {_size(limit)}, the limit of an upload.")
    if not data.strip():
        raise HTTPProblem(400, "empty", f"{shown} is empty: there is no program to run.")
    if b"\x00" in data:
        raise HTTPProblem(400, "binary",
                          f"{shown} looks like a binary file (it holds NUL bytes), not Python source.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPProblem(400, "not-utf8", f"{shown} is not UTF-8 text: byte 0x{data[exc.start]:02x} "
                                           f"at offset {exc.start} cannot be decoded.") from exc


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} KB"


@router.get("/traces/{trace}", summary="TraceInfo", responses=OF_A_TRACE)
def get_trace(request: Request, trace: TraceId, store: Store) -> JSONResponse:
    info = trace_of(store, trace)
    return JSONResponse(viewmodels.trace_info(info, viewmodels.readable_steps(store, info),
                                              access(request).ref(info)))


@router.delete("/traces/{trace}", status_code=204,
               summary="Delete a trace (a running one is stopped first; with --public: its creator only)",
               responses=OF_A_TRACE)
def delete_trace(trace: TraceId, request: Request, store: Store) -> Response:
    access(request).check_delete(trace_of(store, trace))
    with found():
        request.app.state.jobs.delete(trace)
    return Response(status_code=204)


@router.get("/traces/{trace}/progress", summary="Server-sent events of a run's progress, until it ends",
            response_class=StreamingResponse,
            responses={200: _progress_events(), **OF_A_TRACE})
async def progress(trace: TraceId, request: Request) -> StreamingResponse:
    jobs, db = request.app.state.jobs, request.app.state.settings.db
    await run_in_threadpool(_stored_progress, db, trace)  # 404 before the stream starts

    async def events() -> AsyncIterator[str]:
        last = None
        while True:
            try:
                data = jobs.progress(trace) or await run_in_threadpool(_stored_progress, db, trace)
            except HTTPProblem:  # deleted meanwhile: say so, and end
                data = {"status": "failed", "steps": 0, "elapsed": None, "message": "the trace was deleted"}
            if data != last:
                yield f"data: {json.dumps(data)}\n\n"
                last = data
            if data["status"] in FINAL or await request.is_disconnected():
                return
            await asyncio.sleep(0.25)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _stored_progress(db: object, trace: int) -> dict:
    store = TraceStore(db, pooled=True)  # type: ignore[arg-type]
    try:
        info = trace_of(store, trace)
        with found():
            steps = viewmodels.readable_steps(store, info)
        return {"status": info.status, "steps": steps, "elapsed": None, "message": info.message}
    finally:
        store.close()


# --- one trace's data ---

@router.get("/traces/{trace}/source", summary="The program's files (paths relative)",
            responses=OF_A_TRACE)
def source(trace: TraceId, store: Store) -> JSONResponse:
    trace_of(store, trace)
    return JSONResponse(viewmodels.source_view(store, trace))


@router.get("/traces/{trace}/steps", summary="Steps (file number, line, event), without their graphs",
            responses=OF_A_TRACE)
def steps(trace: TraceId, store: Store, first: Annotated[int, Query(ge=0, le=2**40)] = 0,
          count: Annotated[int, Query(ge=0, le=1_000_000)] = 1000) -> JSONResponse:
    trace_of(store, trace)
    with found():
        return JSONResponse(viewmodels.steps_view(store, trace, first, count))


@router.get("/traces/{trace}/steps/{n}", summary="StepView: one step, its graph, frames, output",
            responses=OF_A_TRACE)
def step(trace: TraceId, n: StepIndex, store: Store) -> JSONResponse:
    total = step_of(store, trace, n)
    with found():
        return StepResponse(viewmodels.step_view(store, trace, n, total))


class StepResponse(JSONResponse):
    """A step's JSON, written by `json_out` (it holds the model's objects, 70,000 of them
    at 20,000 nodes)."""

    def render(self, content: object) -> bytes:
        return json_bytes(content)


#: `?open=12,40`: groups (`group=1`) drawn one by one all the same, by the N of their ids gpN
OpenGroups = Annotated[str, Query(alias="open", max_length=4000, pattern=r"^[0-9]{1,15}(,[0-9]{1,15})*$",
                                  description="groups drawn one by one: the N of their ids gpN")]


@router.get("/traces/{trace}/steps/{n}/mermaid", response_class=Response,  # (errors are JSON)
            summary="The step's diagram as mermaid text",
            responses={200: text("mermaid text", "text/plain"), **OF_A_TRACE})
def mermaid(trace: TraceId, n: StepIndex, store: Store, frozen: Flag = True, cowns: Flag = True,
            structure: Flag = False, unreachable: Flag = False, collapse: Flag = False,
            changes: Flag = True, group: Flag = False,
            opened: OpenGroups = "") -> PlainTextResponse:
    step_of(store, trace, n)
    with found():
        hidden = slides.hidden_names(store, trace)
    options = ViewOptions(show_frozen=frozen, show_cowns=cowns, show_structure=structure,
                          show_unreachable=unreachable, collapse_regions=collapse, hidden_names=hidden,
                          group_over=GROUP_OVER if group else 0,
                          open_groups=frozenset(int(x) for x in opened.split(",") if x))
    with found():
        return PlainTextResponse(viewmodels.mermaid_text(store, trace, n, options, changes))


@router.get("/traces/{trace}/slides", summary="Presentation mode: slides, captions, hidden names",
            responses=OF_A_TRACE)
def presentation(trace: TraceId, store: Store) -> JSONResponse:
    trace_of(store, trace)
    with found():
        return JSONResponse(slides.presentation_view(store, trace))


@router.get("/traces/{trace}/steps/{n}/sccs", summary="SCCs of the frozen subgraph and their condensation",
            responses=OF_A_TRACE)
def sccs(trace: TraceId, n: StepIndex, store: Store) -> JSONResponse:
    step_of(store, trace, n)
    with found():
        return JSONResponse(viewmodels.sccs_view(store.step(trace, n)))


@router.get("/traces/{trace}/sccs/history", summary="Each frozen SCC's outside count over time",
            responses=OF_A_TRACE)
def scc_history(trace: TraceId, store: Store) -> JSONResponse:
    total = viewmodels.readable_steps(store, trace_of(store, trace))
    with found():
        return JSONResponse(viewmodels.scc_history_view(store, trace, total))


@router.get("/traces/{trace}/steps/{n}/analysis", summary="Invariants, garbage, suggestions, the violation",
            responses=OF_A_TRACE)
def analysis(trace: TraceId, n: StepIndex, store: Store) -> JSONResponse:
    step_of(store, trace, n)
    with found():
        return JSONResponse(viewmodels.analysis_view(store.step(trace, n)))


@router.get("/traces/{trace}/timeline", summary="One lane per region over the steps, and the events",
            responses=OF_A_TRACE)
def timeline(trace: TraceId, store: Store) -> JSONResponse:
    info = trace_of(store, trace)
    with found():
        return JSONResponse(viewmodels.timeline_view(store, trace, viewmodels.readable_steps(store, info)))


@router.get("/traces/{trace}/behaviours", summary="Behaviours: lanes per cown and per thread, happens-before",
            responses=OF_A_TRACE)
def behaviours(trace: TraceId, store: Store) -> JSONResponse:
    info = trace_of(store, trace)
    with found():
        total = viewmodels.readable_steps(store, info)
        return JSONResponse(behaviours_view.behaviours_view(store, trace, total))


@router.get("/traces/{trace}/steps/{n}/behaviours",
            summary="The behaviour running at a step, each cown's state and queue", responses=OF_A_TRACE)
def step_behaviours(trace: TraceId, n: StepIndex, store: Store) -> JSONResponse:
    total = step_of(store, trace, n)
    with found():
        return JSONResponse(behaviours_view.behaviours_step_view(store, trace, n, total))


@router.get("/traces/{trace}/events", summary="The trace's events, of some kinds only if asked",
            responses=OF_A_TRACE)
def events(trace: TraceId, store: Store,
           kinds: Annotated[str, Query(max_length=1000, description="comma-separated event kinds",
                                       json_schema_extra={"pattern": _KINDS})] = "") -> JSONResponse:
    trace_of(store, trace)
    wanted = tuple(kinds.split(",")) if kinds else ()
    bad = [k for k in wanted if not _KIND.match(k)]
    if bad or len(wanted) > MAX_KINDS:
        raise HTTPProblem(422, "invalid-request", f"kinds: {bad[0]!r} is not an event kind" if bad
                          else f"kinds: at most {MAX_KINDS} kinds")
    return JSONResponse(viewmodels.events_view(store, trace, wanted))


@router.get("/traces/{trace}/export", summary="A download: md, json, mermaid (one step) or html (offline)",
            response_class=Response,
            responses={200: {"description": "A download (`Content-Disposition: attachment`) in the format",
                             "content": {"text/markdown": {"schema": {"type": "string"}},
                                         "application/json": {"schema": {"type": "object"}},
                                         "text/plain": {"schema": {"type": "string"}},
                                         "text/html": {"schema": {"type": "string"}}}},
                       **OF_A_TRACE})
def export(request: Request, trace: TraceId, store: Store,
           format: Literal["md", "json", "mermaid", "html"] = "md",  # noqa: A002 - the contract's name
           step: Annotated[int | None, Query(description="only this step (mermaid: the last if not given)")]
           = None,
           first: Annotated[int, Query(ge=0)] = 0,
           count: Annotated[int, Query(ge=1, le=MAX_EXPORT_STEPS)] = MAX_EXPORT_STEPS) -> Response:
    info = trace_of(store, trace)
    total = viewmodels.readable_steps(store, info)
    if total == 0:
        raise HTTPProblem(404, "no-steps", f"Trace {trace} has no steps to export.")
    if step is not None:
        step_of(store, trace, step)
        first, count = step, 1
    wanted = range(min(first, total), min(first + count, total))
    note = "" if len(wanted) == total else (
        f"Steps {wanted.start} to {wanted.stop - 1} of {total:,} (at most {MAX_EXPORT_STEPS:,} at once: "
        f"ask for more with first= and count=).")
    out = io.StringIO()
    with found():
        if format == "mermaid":
            exports.write_mermaid(store, trace, step, out)
        elif format == "md":
            exports.write_markdown(store, trace, wanted, out, note)
        elif format == "json":
            exports.write_json(store, trace, wanted, out)
        else:
            exports.write_html(store, trace, out, step or 0)
    kind, ext = {"md": ("text/markdown", "md"), "json": ("application/json", "json"),
                 "mermaid": ("text/plain", "mmd"), "html": ("text/html", "html")}[format]
    return Response(out.getvalue(), media_type=f"{kind}; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="trace-{request.path_params["trace"]}.{ext}"'})
