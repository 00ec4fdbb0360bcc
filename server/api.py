"""The JSON API (every page's twin): traces, steps, diagrams, timeline, SCCs, exports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api")
