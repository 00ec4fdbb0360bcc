"""The FastAPI application, built by a factory (never at import time)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from pyrona.tracer.backends import close_pools

from .problems import HTTPProblem
from .settings import ServerSettings

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.responses import Response


class CachedStaticFiles(StaticFiles):
    """Static files browsers may keep for a day: mermaid's 3.5 MB bundle is then fetched once."""

    async def get_response(self, path: str, scope: dict) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def create_app(settings: ServerSettings) -> FastAPI:
    from . import api, export_api, pages
    from .export_jobs import Exports
    from .jobs import JobManager

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.jobs.recover()  # what a server that died left behind, before anyone asks
        yield
        app.state.jobs.shutdown()  # stop running workers with the server
        app.state.exports.shutdown()
        close_pools()

    app = FastAPI(title="Pyrona Studio", version="0.1.0",
                  description="Region-based ownership for Python: traces, steps, regions, diagrams.",
                  docs_url=None, openapi_url="/api/openapi.json", redoc_url=None,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(settings.templates))
    app.state.jobs = JobManager(settings)
    app.state.exports = Exports(settings, app.state.jobs)  # (queued on the same threads)
    app.mount("/static", StaticFiles(directory=str(settings.frontend)), name="static")
    if settings.mermaid.is_dir():
        app.mount("/vendor/mermaid", CachedStaticFiles(directory=str(settings.mermaid)), name="mermaid")
    if settings.swagger.is_dir():
        app.mount("/vendor/swagger-ui", CachedStaticFiles(directory=str(settings.swagger)), name="swagger-ui")
    app.add_api_route("/api/docs", api_docs, methods=["GET"], include_in_schema=False)
    app.include_router(api.router)
    app.include_router(export_api.router)
    app.include_router(pages.router)
    if settings.public:
        from .access import SessionMiddleware

        app.add_middleware(SessionMiddleware)

    @app.exception_handler(HTTPProblem)
    async def problem(request: Request, exc: HTTPProblem) -> Response:
        return error_response(request, exc.status, exc.kind, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # unknown routes and methods get the contract's error shape too
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and "Allow" in headers:
            headers["Allow"] = allowed_methods(request) or headers["Allow"]
        return error_response(request, exc.status_code, kind, str(exc.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors())
        return error_response(request, 422, "invalid-request", detail or "invalid request")

    return app


async def api_docs(request: Request) -> Response:
    """FastAPI's Swagger UI page, its script, style and icon served by us (from npm) rather
    than a CDN: the docs work offline, like every other page."""
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} - API",
                               swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
                               swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
                               swagger_favicon_url="/vendor/swagger-ui/favicon-32x32.png",
                               # no badge that asks swagger.io to validate the schema
                               swagger_ui_parameters={"validatorUrl": None})


def error_response(request: Request, status: int, kind: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    # a message may quote what was sent (a file name...): lone surrogates cannot be encoded
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"kind": kind, "message": message}}, status_code=status,
                            headers=headers)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html",
                                      {"status": status, "kind": kind, "message": message},
                                      status_code=status, headers=headers)


def allowed_methods(request: Request) -> str:
    """The `Allow` of a 405: every method some route of this path takes (Starlette names the
    methods of the first route that matched the path only: `GET` where `DELETE` is allowed too)."""
    from starlette.routing import Match, Mount

    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    return ", ".join(method for method in _METHODS if any(
        route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
