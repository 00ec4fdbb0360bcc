"""Whole lines from behaviours on several threads: `print("a", x)` writes its pieces
one by one, so two behaviours printing at once would mix their lines. While the pool
of threads runs, the program's stdout and stderr go through `LineAtomic`, which keeps
each thread's unfinished line and writes only whole lines (as bocpy's output comes)."""

from __future__ import annotations

import sys
import threading

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any, TextIO


class LineAtomic:
    """A text stream that writes whole lines of each thread, one thread at a time."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._local = threading.local()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        pending = getattr(self._local, "pending", "") + text
        if "\n" not in pending:
            self._local.pending = pending
            return len(text)
        whole, _, self._local.pending = pending.rpartition("\n")
        with self._lock:
            self._stream.write(whole + "\n")
        return len(text)

    def end_line(self) -> None:
        """Write out this thread's unfinished line (a behaviour ended)."""
        pending = getattr(self._local, "pending", "")
        if pending:
            self._local.pending = ""
            with self._lock:
                self._stream.write(pending)

    def flush(self) -> None:
        self.end_line()
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def whole_lines() -> None:
    """From now on the program's stdout and stderr write whole lines (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, LineAtomic):
            setattr(sys, name, LineAtomic(stream))


def end_lines() -> None:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, LineAtomic):
            stream.end_line()
