"""Shared fixtures: every test starts with a fresh region runtime; a PostgreSQL for the
store's tests (`postgres`: PYRONA_TEST_POSTGRES's server, or a throwaway cluster)."""

from __future__ import annotations

import os

import pytest

from pyrona.runtime.state import RUNTIME


@pytest.fixture(autouse=True)
def fresh_runtime():
    RUNTIME.reset()
    yield RUNTIME
    RUNTIME.reset()


@pytest.fixture(scope="session")
def postgres():
    """The PostgreSQL server of this test session (started at its first use); `.url()` makes
    a new database on it. In CI a PostgreSQL that cannot be had fails the tests, never skips."""
    import pg_cluster

    try:
        server = pg_cluster.start()
    except pg_cluster.ClusterError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"no PostgreSQL for the tests: {exc}")
        pytest.skip(f"no PostgreSQL (set {pg_cluster.ENV_URL} or install postgresql): {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres) -> str:
    """A new, empty PostgreSQL database."""
    return postgres.url()


#: the store backends the store's tests run against
BACKENDS = ("sqlite", "postgresql")


def store_location(backend: str, folder, request) -> str:
    """Where a new store of `backend` lives: a SQLite file in `folder`, or a new database."""
    if backend == "sqlite":
        return str(folder / "traces.db")
    return request.getfixturevalue("postgres").url()


#: the two LINE callbacks: the C accelerator's ("c") and the pure-Python reference
LINE_PATHS = ("c", "python")


@pytest.fixture(params=LINE_PATHS)
def line_path(request, monkeypatch) -> str:
    """Runs a test under both LINE callbacks (tracer/line.py): monitors made during it use
    that one. The C one missing fails in CI (it is built at install) and skips elsewhere."""
    from pyrona.tracer import line

    if request.param == "c":
        if line.LineFast is None:
            if os.environ.get("CI"):
                pytest.fail(line.SPEEDUPS_MISSING)
            pytest.skip(line.SPEEDUPS_MISSING)
        monkeypatch.delenv(line.PURE_PYTHON_VAR, raising=False)
    else:
        monkeypatch.setenv(line.PURE_PYTHON_VAR, "1")
    return request.param
