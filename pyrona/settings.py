"""Where pyrona keeps things by default (overridable by flags and environment)."""

from __future__ import annotations

import os
from pathlib import Path


def default_db_path() -> Path | str:
    """The trace store used when no --db is given: $PYRONA_DB (a path, or a `postgresql://`
    URL), else the user's data folder."""
    explicit = os.environ.get("PYRONA_DB")
    if explicit:
        return explicit if explicit.startswith(("postgresql://", "postgres://")) else Path(explicit)
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data) / "pyrona" / "traces.db"
