"""Where pyrona keeps things by default (overridable by flags and environment)."""

from __future__ import annotations

import os
from pathlib import Path


def default_db_path() -> Path:
    """The trace store used when no --db is given: $PYRONA_DB, else the user's data folder."""
    explicit = os.environ.get("PYRONA_DB")
    if explicit:
        return Path(explicit)
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data) / "pyrona" / "traces.db"
