"""Shared fixtures: every test starts with a fresh region runtime."""

from __future__ import annotations

import pytest

from pyrona.runtime.state import RUNTIME


@pytest.fixture(autouse=True)
def fresh_runtime():
    RUNTIME.reset()
    yield RUNTIME
    RUNTIME.reset()
