"""`pyrona trace`, `show` and `export` as a script uses them: ids on stdout, progress and
errors on stderr, clear messages for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_programs" / "job_queue.py"


def pyrona(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyrona", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "t.db"
    proc = pyrona("trace", str(SAMPLE), db=db)
    assert proc.returncode == 0, proc.stderr
    return db, int(proc.stdout.strip().splitlines()[-1]), proc


def test_trace_prints_the_id_last_and_a_summary_on_stderr(traced):
    _db, trace_id, proc = traced
    assert trace_id == 1
    assert "refused: region-violation" in proc.stdout  # the program's own output passes through
    assert "traced job_queue.py:" in proc.stderr and "steps" in proc.stderr and "done" in proc.stderr


def test_show_prints_a_step(traced):
    db, trace_id, _ = traced
    proc = pyrona("show", str(trace_id), "--step", "-1", db=db)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("step ") and "frames:" in proc.stdout and "regions:" in proc.stdout


def test_export_formats(traced, tmp_path):
    db, trace_id, _ = traced
    mermaid = pyrona("export", str(trace_id), "--format", "mermaid", "--step", "5", db=db)
    assert mermaid.returncode == 0 and "graph TD" in mermaid.stdout
    out = tmp_path / "t.md"
    md = pyrona("export", str(trace_id), "--format", "md", "-o", str(out), db=db)
    assert md.returncode == 0
    text = out.read_text()
    assert text.count("```mermaid") == text.count("## Step ") > 10
    page = tmp_path / "t.html"
    assert pyrona("export", str(trace_id), "--format", "html", "-o", str(page), db=db).returncode == 0
    assert "const STEPS = " in page.read_text() and "mermaid" in page.read_text()
    data = json.loads(pyrona("export", str(trace_id), "--format", "json", "--step", "3", db=db).stdout)
    assert data["trace"]["id"] == trace_id and len(data["steps"]) == 1
    assert {"nodes", "edges", "fields", "regions", "events"} <= set(data["steps"][0]["graph"])


@pytest.mark.parametrize("args, message", [
    (("show", "99"), "no trace 99"),
    (("show", "1", "--step", "100000"), "out of range"),
    (("export", "1", "--step", "100000"), "out of range"),
])
def test_bad_ids_and_steps_get_a_clear_error(traced, args, message):
    db, _, _ = traced
    proc = pyrona(*args, db=db)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_trace_of_a_missing_file(tmp_path):
    proc = pyrona("trace", str(tmp_path / "nope.py"), db=tmp_path / "t.db")
    assert proc.returncode == 2 and "can't open file" in proc.stderr


@pytest.mark.parametrize("command", ["trace", "show", "export"])
def test_help_reads_well(command):
    proc = subprocess.run([sys.executable, "-m", "pyrona", command, "--help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "--db" in proc.stdout and "usage: pyrona " + command in proc.stdout


def test_tracing_stays_clear_of_heavy_imports(tmp_path):
    """Start-up is part of every trace's time: the model's dataclasses (and `inspect` with
    them) and the web stack are not imported to trace a program."""
    program = tmp_path / "tiny.py"
    program.write_text("x = [1]\n")
    check = ("import sys\nfrom pyrona.cli import main\n"
             f"main(['trace', {str(program)!r}, '--db', {str(tmp_path / 't.db')!r}])\n"
             "print(sorted(m for m in ('dataclasses', 'inspect', 'typing', 'fastapi', 'networkx') "
             "if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"
