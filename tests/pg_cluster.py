"""A throwaway PostgreSQL for tests and benchmarks: Debian's server binaries, a fresh
cluster in a temporary folder on a free port, run as an unprivileged user (initdb
refuses root: as root, the `postgres` user runs it), removed at the end.

`PYRONA_TEST_POSTGRES` (a `postgresql://` URL) names a server to use instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

ENV_URL = "PYRONA_TEST_POSTGRES"


class ClusterError(RuntimeError):
    """No PostgreSQL could be started (binaries missing, initdb or pg_ctl failed)."""


def server_bin() -> Path | None:
    """The folder of the newest PostgreSQL server binaries installed, if any."""
    def version(initdb: str) -> int:
        name = Path(initdb).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A running throwaway cluster: `url(name)` makes a database and gives its URL."""

    def __init__(self) -> None:
        bindir = server_bin()
        if bindir is None:
            raise ClusterError("PostgreSQL's server binaries are not installed "
                               "(Debian: apt-get install postgresql)")
        self.bindir = bindir
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pyrona-pg-"))
        self.data = self.folder / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: the cluster is the postgres user's
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterError("running as root, and no 'postgres' user to run PostgreSQL") from exc
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        try:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                      "-E", "UTF8")
            options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c max_connections=200 -c full_page_writes=off")
            self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
                      "-w", "start")
        except BaseException:
            self.stop()
            raise

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self._as, str(self.bindir / tool), *args], capture_output=True, text=True,
                              cwd=self.folder, timeout=120)
        if done.returncode:
            said = done.stderr.strip() or done.stdout.strip()
            raise ClusterError(f"{tool} failed ({done.returncode}): {said}")

    def url(self, name: str | None = None) -> str:
        """A new, empty database of the cluster."""
        return Given(f"postgresql://postgres@127.0.0.1:{self.port}/postgres").url(name)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except ClusterError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


class Given:
    """A server named by PYRONA_TEST_POSTGRES: each `url` is a new database on it."""

    def __init__(self, url: str) -> None:
        self.base = url

    def url(self, name: str | None = None) -> str:
        import psycopg

        name = name or f"pyrona_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.base, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        head, _, _ = self.base.rpartition("/")
        query = self.base.partition("?")[2]
        return f"{head}/{name}" + (f"?{query}" if query else "")

    def stop(self) -> None:
        pass


def start() -> Cluster | Given:
    """The PostgreSQL tests use: PYRONA_TEST_POSTGRES's server, or a throwaway cluster."""
    url = os.environ.get(ENV_URL)
    return Given(url) if url else Cluster()
