"""What a server runs with: where traces live, the samples, and the limits of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def _asset(name: str) -> Path:
    from pyrona import assets  # (lazily: the sandboxed worker imports this module too)

    return assets.folder(name)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run of an uploaded program."""

    cpu_seconds: int = 20
    memory_mb: int = 1024
    wall_seconds: int = 60
    processes: int = 64
    file_size_mb: int = 64  # any file the run writes (its trace store included)
    output_bytes: int = 1_000_000  # stdout+stderr kept; more is cut (and the run stopped)
    max_steps: int = 200_000
    max_objects: int = 50_000


@dataclass(frozen=True)
class ServerSettings:
    #: the trace store: a SQLite file, or a PostgreSQL database's `postgresql://` URL
    db: Path | str
    # found through the installed package, or the checkout of an editable install (`assets`)
    samples: Path = field(default_factory=lambda: _asset("samples"))
    templates: Path = field(default_factory=lambda: _asset("templates"))
    frontend: Path = field(default_factory=lambda: _asset("frontend"))
    #: the folder of mermaid.min.js, the browser library installed by npm (at set-up, or
    #: when the wheel was built)
    mermaid: Path = field(default_factory=lambda: _asset("mermaid"))
    #: the folder of Swagger UI's script and style (npm's swagger-ui-dist), for /api/docs
    swagger: Path = field(default_factory=lambda: _asset("swagger"))
    limits: Limits = field(default_factory=Limits)
    #: "auto" (bubblewrap when present), "bwrap" (required) or "rlimits" (resource limits only)
    sandbox: str = "auto"
    max_upload_bytes: int = 1_000_000
    workers: int = 2
    #: exposed to others (`pyrona serve --public`): traces addressed by tokens, lists and
    #: deletes per browser session (`server/access.py`)
    public: bool = False
    #: with `public`: every visitor's lists show every trace (deleting stays the creator's)
    shared: bool = False
