"""The HTML pages: home, trace viewer, region timeline, SCC view, behaviours.

Each page renders a logic-free template with a small dict (the trace's name, status and
step count, the step asked for); the heavy data comes from the JSON API, fetched by the
page's script. The viewer also carries the legend diagram, drawn here by `legend()`, and
its help text (`pyrona.views.legend`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from pyrona.tracer.store import StoreError, TraceStore
from pyrona.views import legend as legend_text
from pyrona.views.mermaid import legend

from .access import Access, access
from .problems import HTTPProblem
from .viewmodels import readable_steps, trace_info

router = APIRouter(include_in_schema=False)


def trace_page_info(db: object, trace: str, rules: Access) -> dict:
    """The trace's TraceInfo (as the API gives it), for a trace page's header and script:
    its `id` is what URLs name it by."""
    store = TraceStore(db, pooled=True)
    try:
        try:
            info = rules.find(store, trace)
        except HTTPProblem as err:  # (no id at all, 0, past SQLite's integers: a page of no trace)
            raise HTTPProblem(404, "not-found", f"There is no trace {trace[:40]}.") from err
        try:
            return trace_info(info, readable_steps(store, info), rules.ref(info))
        except StoreError as err:  # deleted meanwhile
            raise HTTPProblem(404, "not-found", f"There is no trace {trace[:40]}.") from err
    finally:
        store.close()


async def load_trace(request: Request, trace: str) -> dict:
    return await run_in_threadpool(trace_page_info, request.app.state.settings.db, trace, access(request))


def clamp_step(step: int | None, total: int, default: int = 0) -> int:
    """The step to open: `step` (negative counts from the end) within the trace, else `default`."""
    if total <= 0:
        return 0
    if step is None:
        step = default
    if step < 0:
        step += total
    return max(0, min(total - 1, step))


def render(request: Request, template: str, context: dict) -> Response:
    return request.app.state.templates.TemplateResponse(request, template, context)


@router.get("/")
async def home(request: Request) -> Response:
    return render(request, "home.html", {"nav": "home", "page": {}})


@router.get("/traces/{trace}")
async def viewer(request: Request, trace: str, step: int | None = None) -> Response:
    info = await load_trace(request, trace)
    page = {"trace": info["id"], "name": info["name"], "status": info["status"], "total": info["steps"],
            "message": info["message"] or info["truncated"], "step": clamp_step(step, info["steps"])}
    return render(request, "trace.html", {"nav": "viewer", "trace": info, "page": page, "legend": legend(),
                                          "legend_notes": legend_text.NOTES,
                                          "legend_differences": legend_text.DIFFERENCES})


@router.get("/traces/{trace}/timeline")
async def timeline(request: Request, trace: str, step: int | None = None) -> Response:
    info = await load_trace(request, trace)
    page = {"trace": info["id"], "name": info["name"], "total": info["steps"],
            "step": None if step is None else clamp_step(step, info["steps"])}
    return render(request, "timeline.html", {"nav": "timeline", "trace": info, "page": page})


@router.get("/traces/{trace}/sccs")
async def sccs(request: Request, trace: str, step: int | None = None) -> Response:
    info = await load_trace(request, trace)
    page = {"trace": info["id"], "name": info["name"], "total": info["steps"],
            "step": clamp_step(step, info["steps"], default=-1)}
    return render(request, "sccs.html", {"nav": "sccs", "trace": info, "page": page})


@router.get("/traces/{trace}/behaviours")
async def behaviours(request: Request, trace: str, step: int | None = None) -> Response:
    info = await load_trace(request, trace)
    page = {"trace": info["id"], "name": info["name"], "total": info["steps"],
            # (None: the page opens at the first step a behaviour runs)
            "step": None if step is None else clamp_step(step, info["steps"])}
    return render(request, "behaviours.html", {"nav": "behaviours", "trace": info, "page": page})
