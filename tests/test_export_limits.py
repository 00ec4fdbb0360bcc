"""An export is drawn in a child process under limits (`server/export_process.py`): past its
memory or its wall time the whole tree (Python, Playwright's driver, Chromium) is killed and
the export fails with a message that names the limit; within them it gives its file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from browser import need_chromium

from pyrona.server import export_process
from pyrona.server.export_process import ExportFailed, ExportLimits, draw

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def traced(tmp_path_factory) -> tuple[str, int]:
    need_chromium()
    db = tmp_path_factory.mktemp("limits") / "t.db"
    program = ROOT / "sample_programs" / "job_queue.py"
    done = subprocess.run([sys.executable, "-m", "pyrona", "trace", str(program), "--db", str(db)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return str(db), int(done.stdout.split()[-1])


@pytest.fixture
def seen(monkeypatch) -> set[int]:
    """Every process of an export's tree the parent saw while it watched."""
    pids: set[int] = set()
    tree = export_process._tree

    def spy(pid: int) -> list[int]:
        found = tree(pid)
        pids.update(found)
        return found

    monkeypatch.setattr(export_process, "_tree", spy)
    return pids


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def left(pids: set[int]) -> list[str]:
    """The command lines of `pids` still running a few seconds on (SIGKILL takes a moment)."""
    deadline = time.monotonic() + 10
    while (alive := [pid for pid in pids if running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [Path(f"/proc/{pid}/cmdline").read_bytes()[:200].decode(errors="replace") for pid in alive]


def test_an_export_past_its_memory_is_killed_whole_and_says_so(traced, seen):
    db, trace = traced
    with pytest.raises(ExportFailed, match=r"stopped: the export used more than 400 MB of memory"):
        draw(db, trace, str(trace), "png", None, None, (1280, 720), ExportLimits(memory_mb=400), 1 << 26)
    assert len(seen) > 3  # (Chromium had started)
    assert left(seen) == []


def test_an_export_past_its_wall_time_is_killed_whole_and_says_so(traced, seen):
    db, trace = traced
    with pytest.raises(ExportFailed, match=r"stopped: the export took longer than 1.5 s"):
        draw(db, trace, str(trace), "gif", None, [0, 5, 10], (1280, 720), ExportLimits(wall_seconds=1.5),
             1 << 26)
    assert seen and left(seen) == []


def test_an_export_within_its_limits_gives_its_file_and_a_too_large_one_is_refused(traced):
    db, trace = traced
    drawn = draw(db, trace, "tok", "png", 3, [3, 6], (640, 360), ExportLimits(memory_mb=4096), 1 << 26)
    assert (drawn.kind, drawn.files, drawn.filename) == ("zip", 2, "trace-tok-slides-png.zip")
    assert drawn.data[:2] == b"PK"
    with pytest.raises(ExportFailed, match=r"the export is \d+\.\d MB, more than the 0.001 MB kept"):
        draw(db, trace, "tok", "html", 0, None, (640, 360), ExportLimits(), 1000)
