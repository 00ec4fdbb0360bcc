"""The HTML pages: home, trace viewer, region timeline, SCC view."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
