"""HTTP problems: the errors routes raise, rendered by the app as JSON under /api, HTML elsewhere.

A module of its own (no FastAPI), so the routes and the app both import it without a cycle.
"""

from __future__ import annotations

from pyrona.errors import PyronaError


class HTTPProblem(PyronaError):
    """An error with an HTTP status, a `kind` and a message: JSON under /api, HTML elsewhere.

    The class's kind is `http`; each problem carries its own, more precise one
    (`not-found`, `too-large`, ...), which the response reports."""

    kind = "http"

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
