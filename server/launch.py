"""`pyrona serve` in a child process, for what drives a real server from outside (the
browser tests, the viewer benchmark): a free port, its own store, waited for until
it answers, stopped for good afterwards."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pyrona.errors import PyronaError


class ServeError(PyronaError):
    """The server did not come up (it exited, or did not answer in time): its log says why."""

    kind = "serve"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`pyrona serve --db DB` on a free port of 127.0.0.1 (with `samples`: the sample
    programs traced first; `options`: more of serve's options), its output in `log`. Use it
    as a context manager, or call `stop()`; `base` is its URL, `pid` its process id."""

    def __init__(self, db: Path, log: Path, *, samples: bool = False, timeout: float = 60.0,
                 cwd: Path | None = None, options: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "w+b")  # noqa: SIM115 - held until stop()
        command = [sys.executable, "-m", "pyrona", "serve", "--port", str(self.port), "--db", str(db)]
        self._proc = subprocess.Popen(command + (["--samples"] if samples else []) + list(options), cwd=cwd,
                                      stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait(timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                self._log.seek(0)
                raise ServeError(f"pyrona serve exited with {self._proc.returncode}:\n"
                                 + self._log.read().decode(errors="replace"))
            try:
                with urllib.request.urlopen(f"{self.base}/api/traces", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ServeError(f"pyrona serve did not answer in {timeout:g} s")
            time.sleep(0.2)

    def stop(self) -> None:
        """Ask it to stop; after 10 s, kill it."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()

    def kill(self) -> None:
        """SIGKILL, as a crash would end it: nothing of it runs after (its log stays open)."""
        self._proc.kill()
        self._proc.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
