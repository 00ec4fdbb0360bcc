"""`pyrona trace`, `show` and `export` as a script uses them: ids on stdout, progress and
errors on stderr, clear messages for bad input."""

from __future__ import annotations

import json
import os
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
    text = page.read_text()
    assert 'id="offline-data"' in text and "mermaid.initialize" in text and 'id="stage"' in text
    data = json.loads(pyrona("export", str(trace_id), "--format", "json", "--step", "3", db=db).stdout)
    assert data["trace"]["id"] == trace_id and len(data["steps"]) == 1
    assert {"nodes", "edges", "fields", "regions", "events"} <= set(data["steps"][0]["graph"])


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The usage error a command printed: exit status 2, one line on stderr, nothing on stdout."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith("pyrona: error: ")
    return line


def steps_of(db: Path, trace: int) -> int:
    from pyrona.tracer.store import TraceStore

    store = TraceStore(db, readonly=True)
    try:
        return store.step_count(trace)
    finally:
        store.close()


# --- pyrona trace: 0 ran to its end or truncated, 1 the program failed, 2 usage error ---

@pytest.mark.parametrize("name, source, status, message", [
    ("bad.py", "x = (\n", "failed", "SyntaxError: '(' was never closed"),
    ("notes.txt", "Shopping list: eggs, milk\n", "failed", "SyntaxError: invalid syntax"),
    ("raises.py", "x = [1]\nraise ValueError('boom')\n", "failed", "ValueError: boom (line 2)"),
    ("exits.py", "import sys\nsys.exit(3)\n", "failed", "SystemExit: 3"),
    ("ends.py", "x = [1]\nprint(x)\n", "done", ""),
])
def test_trace_exits_1_when_the_program_fails_and_still_stores_it(tmp_path, name, source, status, message):
    program = tmp_path / name
    program.write_text(source)
    db = tmp_path / "t.db"
    proc = pyrona("trace", str(program), db=db)
    assert proc.returncode == (1 if status == "failed" else 0), proc.stderr
    assert proc.stdout.splitlines()[-1] == "1"  # the id, last, in either case
    assert f"; {status}" in proc.stderr and message in proc.stderr
    from pyrona.tracer.store import TraceStore

    info = TraceStore(db, readonly=True).trace(1)
    assert (info.status, info.name) == (status, name) and message in info.message


def test_trace_cut_by_a_cap_exits_0(tmp_path):
    db = tmp_path / "t.db"
    proc = pyrona("trace", str(SAMPLE), "--max-steps", "5", db=db)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "1" and "truncated: step cap (5) reached" in proc.stderr
    assert steps_of(db, 1) == 5


@pytest.mark.parametrize("what", ["missing", "folder"])
def test_trace_of_a_missing_file_or_a_folder_is_a_usage_error(tmp_path, what):
    target = tmp_path / "nope.py" if what == "missing" else tmp_path
    db = tmp_path / "t.db"
    line = one_error_line(pyrona("trace", str(target), db=db))
    why = "no such file" if what == "missing" else "it is a directory"
    assert line == f"pyrona: error: can't open file {str(target)!r}: {why}"
    assert not db.exists()  # nothing traced, no store made


def test_trace_with_bad_arguments_is_a_usage_error(tmp_path):
    proc = pyrona("trace", str(SAMPLE), "--max-steps", "0", db=tmp_path / "t.db")
    assert proc.returncode == 2 and "--max-steps: must be a positive number, not 0" in proc.stderr
    assert not (tmp_path / "t.db").exists()


# --- show and export: 0, or 2 for a missing store, trace or step, an unwritable output ---

@pytest.mark.parametrize("command", ["show", "export"])
def test_a_missing_store_is_an_error_and_is_not_created(tmp_path, command):
    db = tmp_path / "missing.db"
    line = one_error_line(pyrona(command, "1", db=db))
    assert line == f"pyrona: error: there is no trace store {db}"
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_store_is_an_error_and_stays_as_it_was(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (notes, empty):
        line = one_error_line(pyrona("show", "1", db=path))
        assert line.startswith(f"pyrona: error: {path} is not a pyrona trace store")
    assert notes.read_text() == "not a database\n" and empty.stat().st_size == 0


def test_show_and_export_do_not_change_the_store(traced, tmp_path):
    db, trace_id, _ = traced
    before = db.read_bytes()
    assert pyrona("show", str(trace_id), db=db).returncode == 0
    assert pyrona("export", str(trace_id), "--format", "json", db=db).returncode == 0
    assert one_error_line(pyrona("show", "99", db=db))
    assert db.read_bytes() == before


@pytest.mark.parametrize("command", ["show", "export"])
def test_a_missing_trace_is_an_error_naming_the_traces_there_are(traced, command):
    db, _, _ = traced
    line = one_error_line(pyrona(command, "99", db=db))
    assert line == f"pyrona: error: there is no trace 99 in {db} (its traces are 1 to 1)"


@pytest.mark.parametrize("args", [("show", "1"), ("export", "1"), ("export", "1", "--format", "md")])
@pytest.mark.parametrize("step", ["100000", "-999"])
def test_a_step_out_of_range_is_an_error_naming_the_valid_range(traced, args, step):
    db, _, _ = traced
    count = steps_of(db, 1)
    line = one_error_line(pyrona(*args, "--step", step, db=db))
    assert line == (f"pyrona: error: step {step} is out of range: trace 1 has {count} steps: "
                    f"0 to {count - 1}, or -{count} to -1 from the end")


def test_a_negative_step_counts_from_the_end(traced):
    db, _, _ = traced
    count = steps_of(db, 1)
    first, also_first = (pyrona("show", "1", "--step", step, db=db) for step in ("0", str(-count)))
    assert first.returncode == 0 and first.stdout == also_first.stdout and first.stdout.startswith("step 0: ")
    last, default = pyrona("show", "1", "--step", "-1", db=db), pyrona("show", "1", db=db)
    assert last.stdout == default.stdout and last.stdout.startswith(f"step {count - 1}: ")


def test_a_trace_without_steps_says_why(tmp_path):
    program = tmp_path / "bad.py"
    program.write_text("x = (\n")
    db = tmp_path / "t.db"
    assert pyrona("trace", str(program), db=db).returncode == 1
    line = one_error_line(pyrona("show", "1", db=db))
    assert line == "pyrona: error: trace 1 has no steps (failed: SyntaxError: '(' was never closed (line 1))"


def test_export_to_a_file_it_cannot_write_is_an_error(traced, tmp_path):
    db, _, _ = traced
    out = tmp_path / "no" / "such" / "dir" / "t.md"
    line = one_error_line(pyrona("export", "1", "--format", "md", "-o", str(out), db=db))
    assert line == f"pyrona: error: cannot write {str(out)!r}: No such file or directory"
    line = one_error_line(pyrona("export", "1", "-o", str(tmp_path), db=db))
    assert line == f"pyrona: error: cannot write {str(tmp_path)!r}: Is a directory"
    assert not (tmp_path / "no").exists()


def test_export_of_a_bad_step_creates_no_output_file(traced, tmp_path):
    db, _, _ = traced
    out = tmp_path / "t.md"
    one_error_line(pyrona("export", "1", "--format", "md", "--step", "100000", "-o", str(out), db=db))
    one_error_line(pyrona("export", "99", "-o", str(out), db=db))
    assert not out.exists()


@pytest.mark.parametrize("command", ["trace", "show", "export"])
def test_help_reads_well(command):
    proc = subprocess.run([sys.executable, "-m", "pyrona", command, "--help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "--db" in proc.stdout and "usage: pyrona " + command in proc.stdout
    assert "exit status:" in proc.stdout and "  2  usage error" in proc.stdout
    assert max(map(len, proc.stdout.splitlines())) <= 80  # the descriptions are wrapped


def test_main_help_gives_the_exit_statuses():
    proc = subprocess.run([sys.executable, "-m", "pyrona", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "exit status:" in proc.stdout
    assert "trace   0 if the program ran to its end or a cap cut its trace, 1 if it failed" in proc.stdout


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


def test_a_thread_of_the_program_runs_past_the_tracers_flush(tmp_path):
    """The tracer writes from whichever of the program's threads reaches a flush (every
    65,536 steps): the store must accept it (it once failed SQLite's same-thread check
    inside the thread, which died silently, and the trace said done)."""
    program = tmp_path / "threads.py"
    program.write_text("import threading\n\ndef work():\n    n = 0\n    for i in range(40_000):\n"
                       "        n += i\n    print('thread done', n)\n\n"
                       "t = threading.Thread(target=work)\nt.start()\nt.join()\nprint('main done')\n")
    db = tmp_path / "t.db"
    proc = pyrona("trace", str(program), db=db)
    assert proc.returncode == 0, proc.stderr
    assert "thread done 799980000" in proc.stdout and "main done" in proc.stdout
    assert "Exception in thread" not in proc.stderr
    assert steps_of(db, int(proc.stdout.splitlines()[-1])) > 80_000  # the thread's steps were recorded


def test_trace_start_up_leaves_out_what_it_does_not_use(tmp_path):
    # Start-up is measured in bench/bench_step_load.py; this keeps out the modules whose
    # imports were cut from it: tempfile (with shutil, random, bz2, lzma), base64.
    (tmp_path / "empty.py").write_text("")
    probe = ("import sys\nfrom pyrona.cli import main\n"
             f"status = main(['trace', {str(tmp_path / 'empty.py')!r}, '--db', {str(tmp_path / 't.db')!r}])\n"
             "print(status, sorted({'tempfile', 'shutil', 'random', 'lzma', 'bz2', 'base64'}"
             " & set(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.stdout.splitlines()[-1] == "0 []", proc.stderr


def test_help_fits_the_width_columns_asks():
    proc = subprocess.run([sys.executable, "-m", "pyrona", "trace", "--help"], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "COLUMNS": "50"})
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert any(line.startswith("  --max-steps N") for line in lines)
    # the usage and options wrap at 50; descriptions and epilogs keep their own breaks
    usage = lines[:lines.index("")]
    assert len(usage) > 1 and all(len(line) <= 50 for line in usage)


@pytest.mark.parametrize("command", ["trace", "run"])
def test_start_up_leaves_out_the_parser_the_rewriter_and_error_printing(tmp_path, command):
    """Cut from start-up (bench/bench_startup.py): argparse with gettext and locale (a plain
    `run`/`trace` command line is read without it), the rewriter with ast and copy (the
    instrumented code comes from the cache), traceback (only to print an error), and for
    `run`, json (only for --result)."""
    (tmp_path / "empty.py").write_text("")
    args = [command, str(tmp_path / "empty.py")]
    args += ["--db", str(tmp_path / "t.db")] if command == "trace" else []
    cut = {"argparse", "gettext", "locale", "ast", "copy", "pyrona.instrument.rewrite", "pyrona.cli_parser",
           "traceback"} | ({"json"} if command == "run" else set())
    probe = ("import sys\nfrom pyrona.cli import main\n"
             f"status = main({args!r})\n"
             f"print(status, sorted(set({sorted(cut)!r}) & set(sys.modules)))\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for run in ("first", "cached"):
        proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                              env=env)
        assert proc.returncode == 0, proc.stderr
        if run == "cached":
            assert proc.stdout.splitlines()[-1] == "0 []", proc.stderr


ARGVS = [
    ["prog.py"], ["--db", "t.db", "prog.py"], ["prog.py", "--db", "t.db"], ["--db=t.db", "prog.py", "a"],
    ["--max-steps", "5", "--name", "n", "prog.py", "--max-objects=7", "--", "-x"],
    ["--max-steps", "0", "prog.py"], ["--max-steps", "x", "prog.py"], ["--max-steps", "05", "prog.py"],
    ["--max-steps", "-5", "prog.py"], ["--db", "", "prog.py"], ["--help"], ["-h", "prog.py"],
    ["--max-s", "5", "prog.py"], ["--unknown", "prog.py"], [], ["--db"], ["--", "-weird.py"],
    ["--result", "r.json", "prog.py"], ["prog.py", "--result=r.json"], ["--name", "--db", "prog.py"],
]


@pytest.mark.parametrize("command", ["run", "trace"])
@pytest.mark.parametrize("argv", ARGVS, ids=" ".join)
def test_a_command_line_read_without_argparse_reads_as_argparse_reads_it(command, argv, capsys):
    from pyrona.cli import _plain_options, _split_run_args, build_parser

    ours, program_args = _split_run_args(argv)
    quick = _plain_options(command, ours)
    try:
        expected = vars(build_parser().parse_args([command, *ours]))
    except SystemExit:
        expected = None
    capsys.readouterr()
    if quick is not None:  # (None: argparse reads it, and reports what is wrong)
        assert vars(quick) == expected


def test_plain_run_and_trace_lines_need_no_argparse():
    from pyrona.cli import _plain_options, _split_run_args

    for command in ("run", "trace"):
        for argv in (["prog.py"], ["prog.py", "a", "-b"], ["--", "-weird.py"]):
            assert _plain_options(command, _split_run_args(argv)[0]) is not None
    trace = _split_run_args(["--db", "t.db", "--max-steps", "9", "p.py"])[0]
    assert _plain_options("trace", trace) is not None
    assert _plain_options("run", _split_run_args(["--result", "r.json", "p.py"])[0]) is not None


def test_only_pyronas_own_process_freezes_the_heap_before_the_program(tmp_path):
    """The `pyrona` script's process moves what exists before the program starts out of the
    collector's sight (it lives until the exit); a caller's process (main() called with
    arguments, as here in a test) keeps its garbage collectable."""
    import gc

    from pyrona.cli import main

    program = tmp_path / "p.py"
    program.write_text("import gc\nprint('frozen', gc.get_freeze_count() > 0)\n")
    for command in (["run", str(program)], ["trace", str(program), "--db", str(tmp_path / "t.db")]):
        proc = subprocess.run([sys.executable, "-m", "pyrona", *command], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0 and "frozen True" in proc.stdout, proc.stderr
        before = gc.get_freeze_count()
        assert main(command) == 0
        assert gc.get_freeze_count() == before


def test_run_start_up_imports_no_pathlib_enum_datetime_or_re(tmp_path):
    """`pyrona run` of an empty program, in an interpreter without site (the editable
    install's finder imports pathlib, re and enum at site time): pyrona itself imports none
    of these (its folders are plain paths; enums and dates are recognised without them)."""
    (tmp_path / "empty.py").write_text("")
    probe = (f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom pyrona.cli import main\n"
             f"status = main(['run', {str(tmp_path / 'empty.py')!r}])\n"
             "cut = {'pathlib', 'enum', 'datetime', 're', 'json', 'argparse', 'ast', 'traceback'}\n"
             "print(status, sorted(cut & set(sys.modules)))\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for _ in range(2):  # (the second run: the code from the cache)
        proc = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True,
                              timeout=120, env=env)
    assert proc.stdout.splitlines()[-1] == "0 []", proc.stderr
