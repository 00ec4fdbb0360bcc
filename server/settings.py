"""What a server runs with: where traces live, the samples, and the limits of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    samples: Path = ROOT / "sample_programs"
    templates: Path = ROOT / "templates"
    frontend: Path = ROOT / "frontend"
    #: the browser libraries installed by npm at set-up (mermaid)
    node_modules: Path = ROOT / "node_modules"
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
