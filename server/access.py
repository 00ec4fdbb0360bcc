"""Who may list, read and delete which trace: integer ids locally; tokens and browser sessions in public mode.

Locally (the default) traces are addressed by their integer ids and everyone sees and
deletes everything, as a single user expects. With `pyrona serve --public`:

- a trace is addressed by its token (`TraceStore.new_token`, 128 random bits) in every URL
  and JSON answer: knowing the token is what lets one read a trace (a link can be
  shared); integer ids stay internal and answer 404;
- each browser gets a random session cookie (HttpOnly, SameSite=Lax); the store keeps
  a hash of it as the owner of the traces that browser creates;
- lists (the home page's, `GET /api/traces`) show the samples (the server's own traces)
  and the session's own traces only, unless the server runs with `--shared`;
- only the session that created a trace may delete it (the samples: nobody).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from pyrona.tracer.store import StoreError, TraceInfo, TraceStore

from .problems import HTTPProblem

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "pyrona_session"
_SESSION = re.compile(r"[A-Za-z0-9_-]{43}\Z")  # secrets.token_urlsafe(32)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}\Z")  # secrets.token_urlsafe(16)
#: What a URL may name a trace by (the schema's pattern): an id (up to 17 digits: within
#: SQLite's integers) or a token. Anything else is a 422; anything of this form that names
#: no trace (in this mode) a 404.
TRACE_REF = r"^([1-9][0-9]{0,16}|[A-Za-z0-9_-]{22})$"
MAX_ID = 2**62


@dataclass(frozen=True)
class Access:
    """The rules for one request: the server's mode and the browser's owner key."""

    public: bool = False
    shared: bool = False
    owner: str = ""  # hash of the session cookie ('' when not public)

    def ref(self, info: TraceInfo) -> int | str:
        """How URLs and JSON name the trace: its token in public mode, else its id."""
        return info.token if self.public else info.id

    def find(self, store: TraceStore, ref: str) -> TraceInfo:
        """The trace a URL names: HTTPProblem 404 if none (422 locally for what is no id)."""
        if self.public:
            try:
                return store.trace_by_token(ref) if _TOKEN.match(ref) else _missing(ref)
            except StoreError:
                _missing(ref)
        if not ref.isascii() or not ref.isdigit() or not 1 <= int(ref) <= MAX_ID:
            _missing(ref)  # (a token, locally: the API's pattern refused anything else, 422)
        try:
            return store.trace(int(ref))
        except StoreError:
            _missing(ref)

    def listed(self, store: TraceStore, samples: set[int]) -> list[TraceInfo]:
        """The traces this request's lists show: every one locally or when shared, else the
        sample traces (`samples`: their ids) and the session's own."""
        if not self.public or self.shared:
            return store.traces()
        mine = store.traces(owners=(self.owner,))
        return sorted([i for i in store.traces(owners=("",)) if i.id in samples] + mine, key=lambda i: i.id)

    def sample_pool(self, store: TraceStore) -> list[TraceInfo]:
        """The traces the sample gallery picks from: in public mode the server's own only
        (an upload named like a sample must not stand for it before everyone)."""
        return store.traces(owners=("",)) if self.public else store.traces()

    def check_delete(self, info: TraceInfo) -> None:
        """HTTPProblem 403 unless this request may delete the trace (in public mode: its creator)."""
        if self.public and (not info.owner or info.owner != self.owner):
            raise HTTPProblem(403, "forbidden",
                              "Only the browser session that created a trace may delete it.")


def _missing(ref: str) -> TraceInfo:
    raise HTTPProblem(404, "not-found", f"There is no trace {ref[:40]}.")


def access(request: Request) -> Access:
    settings = request.app.state.settings
    if not settings.public:
        return Access()
    return Access(public=True, shared=settings.shared, owner=request.scope.get("pyrona.owner", ""))


def owner_key(session: str) -> str:
    """What the store keeps of a session: a hash (a copy of the store reveals no cookie)."""
    return hashlib.sha256(session.encode()).hexdigest()[:32]


class SessionMiddleware:
    """Gives each browser a random session (cookie `pyrona_session`, HttpOnly, SameSite=Lax;
    Secure when served over https) and puts its owner key in the request's scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        session = _cookie(scope)
        new = session is None
        if new:
            session = secrets.token_urlsafe(32)
        scope["pyrona.owner"] = owner_key(session)

        async def send_with_cookie(message: Message) -> None:
            if new and message["type"] == "http.response.start":
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                cookie = f"{COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope: Scope) -> str | None:
    """The session in the request's cookie, if it is one we could have made."""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key == COOKIE and _SESSION.match(val):
                    return val
    return None
