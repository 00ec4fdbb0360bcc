"""An export drawn in a child process under limits, as a run is: the process that takes an
export off the queue (a server's job thread with SQLite, a `pyrona worker` with PostgreSQL)
starts `python -m pyrona.server.export_process`, which opens the store, draws (Chromium for
pictures, network refused: `pyrona/pictures.py`) and writes one file. The parent watches the
child's whole process tree (Playwright's driver, Chromium's processes): wall time, memory
(proportional set size, as Chromium's processes share most of their pages; an address-space
limit would stop Chromium at start, it reserves tens of GB) and CPU (RLIMIT_CPU per process);
a tree past a limit is killed and the export fails with a message that names the limit.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pyrona.errors import PyronaError
from pyrona.pictures import PictureError

#: how often the parent looks at the child's tree (memory, wall time)
WATCH_EVERY = 0.25


@dataclass(frozen=True)
class ExportLimits:
    """What one export may use: its whole process tree's memory, each process's CPU, the wall time."""

    memory_mb: int = 1024
    cpu_seconds: int = 300
    wall_seconds: float = 300.0


@dataclass(frozen=True)
class Drawn:
    """An export's one file: its content, name, kind (a FORMATS key) and how many files it holds."""

    data: bytes
    filename: str
    kind: str
    files: int


class ExportFailed(PictureError):
    """The export could not be drawn (the message says why: a limit, Chromium, the trace)."""


def draw(db: str, trace: int, ref: str, fmt: str, step: int | None, slides: list[int] | None,
         size: tuple[int, int], limits: ExportLimits, max_bytes: int) -> Drawn:
    """Draw an export in a child process under `limits`; ExportFailed says why not."""
    with tempfile.TemporaryDirectory(prefix="pyrona-export-") as folder:
        out = Path(folder) / "export.bin"
        asked = {"db": db, "trace": trace, "ref": ref, "format": fmt, "step": step, "slides": slides,
                 "size": list(size), "out": str(out), "max_bytes": max_bytes,
                 "wall_seconds": limits.wall_seconds, "parent": os.getpid()}
        log = open(Path(folder) / "log", "w+b")  # noqa: SIM115 - closed below
        try:
            proc = subprocess.Popen([sys.executable, "-m", "pyrona.server.export_process", json.dumps(asked)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=folder, start_new_session=True,
                                    preexec_fn=_cpu_limit(limits.cpu_seconds))  # noqa: PLW1509
            stopped = _watch(proc, limits)
            log.seek(0)
            output = log.read().decode(errors="replace")
        finally:
            log.close()
        if stopped:
            raise ExportFailed(f"stopped: {stopped}")
        lines = [line for line in output.splitlines() if line.startswith("{")]
        answer = json.loads(lines[-1]) if lines else {}
        if proc.returncode == -9 or proc.returncode == -24:  # SIGKILL, SIGXCPU: a process past its CPU
            raise ExportFailed(f"stopped: a process of the export used its {limits.cpu_seconds} s of CPU")
        if "error" in answer:
            raise ExportFailed(answer["error"])
        if proc.returncode != 0 or "filename" not in answer:
            tail = output.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
            raise ExportFailed(f"the export could not be drawn: {tail[0][:300]}")
        return Drawn(out.read_bytes(), answer["filename"], answer["kind"], answer["files"])


def _cpu_limit(seconds: int) -> object:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _watch(proc: subprocess.Popen, limits: ExportLimits) -> str:
    """Wait for the child; kill its tree at a limit and say which ('' if none was hit)."""
    started = time.monotonic()
    reason = ""
    while proc.poll() is None:
        if time.monotonic() - started > limits.wall_seconds:
            reason = f"the export took longer than {limits.wall_seconds:g} s"
        elif tree_memory_kb(proc.pid) > limits.memory_mb * 1024:
            reason = f"the export used more than {limits.memory_mb} MB of memory"
        if reason:
            _kill_tree(proc)
            break
        time.sleep(WATCH_EVERY)
    proc.wait()
    return reason


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (now)."""
    found, stack = [], [pid]
    while stack:
        here = stack.pop()
        found.append(here)
        try:
            for task in os.listdir(f"/proc/{here}/task"):
                with open(f"/proc/{here}/task/{task}/children", "rb") as f:
                    stack.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return found


def tree_memory_kb(pid: int) -> int:
    """The proportional set size of `pid`'s process tree, in kB (its resident size where the
    kernel has no smaps_rollup)."""
    total = 0
    for member in _tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup", "rb") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith(b"Pss:"))
        except (OSError, StopIteration):
            try:
                with open(f"/proc/{member}/statm", "rb") as f:
                    total += int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
            except OSError:
                continue
    return total


def _kill_tree(proc: subprocess.Popen) -> None:
    import signal

    members = _tree(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for member in members:  # (one that left the group)
        try:
            os.kill(member, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# --- the child ---

FILE_KINDS = ("html", "svg", "png", "gif", "pdf")


def produce(db: str, trace: int, ref: str, fmt: str, step: int | None, slides: list[int] | None,
            size: tuple[int, int], deadline: float | None) -> tuple[bytes, str, str, int]:
    """The export's one file: (content, name, kind, files in it): a slide per file is zipped."""
    from pyrona import exports
    from pyrona.tracer.store import TraceStore

    store = TraceStore(db, readonly=True)
    try:
        if fmt == "html":  # (no browser, but seconds for a long trace: not in a request)
            page = io.StringIO()
            exports.write_html(store, trace, page, step or 0)
            files = [(f"trace-{trace}.html", page.getvalue().encode())]
        else:
            files = exports.draw_pictures(store, trace, fmt, step, slides, size, deadline=deadline)
    finally:
        store.close()
    name = f"trace-{ref}"
    if slides is None or fmt in ("gif", "pdf", "html"):  # one file
        return files[0][1], files[0][0].replace(f"trace-{trace}", name, 1), fmt, 1
    out = io.BytesIO()  # one picture per slide: a zip of them
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file_name, content in files:
            zipped.writestr(file_name.replace(f"trace-{trace}", name, 1), content)
    return out.getvalue(), f"{name}-slides-{fmt}.zip", "zip", len(files)


def _end_with_parent(parent: int) -> None:
    """A parent that died (a worker killed mid-export) cannot kill this tree at a limit:
    the tree (this process's group: Chromium's processes too) ends itself then."""
    import signal
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="pyrona-export-parent", daemon=True).start()


def main(argv: list[str]) -> int:
    asked = json.loads(argv[0])
    _end_with_parent(int(asked["parent"]))
    try:
        if asked["format"] not in FILE_KINDS:
            raise ExportFailed(f"unknown export format {asked['format']!r}")
        deadline = time.monotonic() + float(asked["wall_seconds"])
        data, filename, kind, count = produce(
            asked["db"], int(asked["trace"]), str(asked["ref"]), asked["format"], asked["step"],
            asked["slides"], tuple(asked["size"]), deadline)
        if len(data) > asked["max_bytes"]:
            raise ExportFailed(f"the export is {len(data) / 1e6:.1f} MB, more than the "
                               f"{asked['max_bytes'] / 1e6:.3g} MB kept: draw fewer slides or smaller ones")
        Path(asked["out"]).write_bytes(data)
    except PyronaError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 0
    print(json.dumps({"filename": filename, "kind": kind, "files": count}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
