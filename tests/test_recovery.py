"""A server that dies mid-run, and runs that end early: nothing is lost that was there.

A real `pyrona serve` killed with SIGKILL and started again finishes what it left
(interrupted runs failed with their copied steps, queued runs run, its scratch
folders gone, no one else's); runs of under 4,096 steps report progress as they go;
every way a run can end early keeps its trace, with a message that says what is
known (run for real through the job manager, in each sandbox mode that works here).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from pyrona.server import recovery, worker
from pyrona.server.jobs import INTERRUPTED, JobManager
from pyrona.server.launch import ServerProcess
from pyrona.server.settings import Limits, ServerSettings
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import StoreError, TraceStore

from test_sandbox import LOOP, MODES, RUNNER, require_mode
from api_client import get, post, wait_for

TAG = uuid.uuid4().hex[:10]  # this session's programs, told apart from any other's in /proc
SLOW = "import time\nfor i in range(100_000):\n    time.sleep(0.01)\n"  # ~200 steps a second




def scratch_folders(owner: str) -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob(f"{recovery.RUN_PREFIX}{owner}-*"))


# --- a real server killed with SIGKILL, and started again ---

def test_a_server_killed_mid_run_finishes_its_runs_at_restart(tmp_path):
    db, tmp = tmp_path / "traces.db", Path(tempfile.gettempdir())
    # someone else's: a live owner (its lock held here), and a folder of no owner at all
    alive = recovery.Owner()
    others = [alive.scratch(1), tmp / f"{recovery.RUN_PREFIX}{TAG}"]
    others[1].mkdir()
    try:
        with ServerProcess(db, tmp_path / "first.log") as first:
            running = [post(first.base, f"slow{i}.py", SLOW) for i in range(2)]  # 2 workers: both run
            queued = post(first.base, "quick.py", "x = [1]\ny = 2\n")
            copied = wait_for(lambda: get(first.base, f"/api/traces/{running[0]}")["steps"], 60,
                              "no steps copied while it ran")
            assert get(first.base, f"/api/traces/{queued}")["status"] == "queued"
            owner = TraceStore(db).trace(running[0]).settings["server"]
            assert len(scratch_folders(owner)) == 2 and (tmp / f"pyrona-server-{owner}.lock").exists()
            first.kill()
        # (its workers stop with it: bwrap dies with its parent, a worker sees its control pipe close)
        with ServerProcess(db, tmp_path / "second.log") as second:
            for trace in running:
                info = get(second.base, f"/api/traces/{trace}")
                assert (info["status"], info["message"]) == ("failed", INTERRUPTED)
                assert info["steps"] >= (copied if trace == running[0] else 0)
                if info["steps"]:
                    last = get(second.base, f"/api/traces/{trace}/steps/{info['steps'] - 1}")
                    assert last["line"] in (2, 3)
                # the progress stream of an ended run ends at once
                started = time.monotonic()
                with urllib.request.urlopen(f"{second.base}/api/traces/{trace}/progress", timeout=30) as sse:
                    events = [json.loads(line[5:]) for line in sse.read().decode().splitlines()
                              if line.startswith("data:")]
                assert time.monotonic() - started < 10 and events[-1]["status"] == "failed", events
            wait_for(lambda: get(second.base, f"/api/traces/{queued}")["status"] == "done", 60,
                     "the queued run was not run again")
            assert get(second.base, f"/api/traces/{queued}")["steps"] == 2
            assert scratch_folders(owner) == [] and not (tmp / f"pyrona-server-{owner}.lock").exists()
            assert all(folder.is_dir() for folder in others)
    finally:
        for folder in others:
            with contextlib.suppress(OSError):
                folder.rmdir()
        alive.release()


# --- owners, unit by unit ---

def test_only_dead_owners_are_claimed_and_only_their_folders_removed(tmp_path):
    me, live, dead = (recovery.Owner(tmp_path) for _ in range(3))
    mine, lives, died = me.scratch(1), live.scratch(2), dead.scratch(3)
    os.close(dead._fd)  # as its process's death would: the lock is free, the file stays
    dead._fd = None
    gone = "0123456789abcdef"  # an owner whose lock file is gone (the machine restarted)
    stray = tmp_path / f"{recovery.RUN_PREFIX}{gone}-4-abcdefgh"
    stray.mkdir()
    odd = tmp_path / "pyrona-run-x"  # an older server's name, or anyone's: no owner to prove it
    odd.mkdir()
    (tmp_path / f"{recovery.RUN_PREFIX}{dead.id}-6-link").symlink_to(lives)
    claims = recovery.Claims(me)
    assert [claims.dead(o) for o in (me.id, live.id, dead.id, gone, "not-an-id")] == \
        [False, False, True, True, False]
    assert claims.remove_scratch() == [died]
    claims.release()
    assert mine.is_dir() and lives.is_dir() and stray.is_dir() and odd.is_dir()
    assert not died.exists() and not (tmp_path / f"pyrona-server-{dead.id}.lock").exists()
    assert (tmp_path / f"{recovery.RUN_PREFIX}{dead.id}-6-link").is_symlink()
    # a lock held by another open file is a live owner, even in this process
    fd = os.open(tmp_path / f"pyrona-server-{me.id}.lock", os.O_RDWR)
    with pytest.raises(BlockingIOError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)
    for owner in (me, live):
        owner.release()
    assert not list(tmp_path.glob("pyrona-server-*"))


def test_an_interrupted_trace_keeps_its_copied_steps_and_matches_a_full_run(tmp_path):
    # as test_sandbox's killed run, but the server died: only the live copies were made
    import subprocess

    program = tmp_path / "loop.py"
    program.write_text(LOOP)
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(program), str(tmp_path / "run.db"),
                             str(10**9)], stderr=subprocess.DEVNULL)
    main = TraceStore(tmp_path / "main.db")
    into = main.create_trace("loop.py", {}, {"sandbox": "auto", "server": "0" * 16})
    main.set_status(into, "running")
    copied, why, deadline = 0, "no scratch store yet", time.monotonic() + 60
    try:
        while copied == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            with contextlib.suppress(StoreError):
                if (tmp_path / "run.db").exists():
                    copied = main.import_trace(tmp_path / "run.db", into, final=False,
                                               folder=str(tmp_path)).steps
    finally:
        proc.kill()
        proc.wait()
    assert copied >= 4095, why
    assert main.unfinished() == [(into, "running", {"sandbox": "auto", "server": "0" * 16})]
    assert main.end_interrupted(into, "failed", INTERRUPTED) == copied
    info = main.trace(into)
    assert (info.status, info.steps, info.message) == ("failed", copied, INTERRUPTED)
    assert info.summary["nodes"] > 0 and main.unfinished() == []
    reference = TraceStore(tmp_path / "reference.db")
    trace_program(program, reference, max_steps=copied + 10, stop_when_truncated=True)
    for index in sorted({0, 1, copied // 2, copied - 2, copied - 1, *range(0, copied, copied // 40)}):
        assert main.step(into, index) == reference.step(1, index), index
    assert main.db.execute("SELECT COUNT(*) FROM open_nodes").fetchone()[0] == 0


def test_recovery_leaves_traces_it_cannot_prove_dead_alone(tmp_path):
    settings = ServerSettings(db=tmp_path / "t.db", sandbox="rlimits", workers=1)
    live = recovery.Owner()
    store = TraceStore(settings.db)
    cli = store.create_trace("cli.py", {}, {"max_steps": 10})  # `pyrona trace` into the store: its own
    store.set_status(cli, "running")
    other = store.create_trace("other.py", {"other.py": "x = 1\n"}, {"sandbox": "auto", "server": live.id})
    store.set_status(other, "running")
    old = store.create_trace("old.py", {"old.py": "x = 1\n"}, {"sandbox": "auto"})  # an older server's
    store.set_status(old, "running")
    jobs = JobManager(settings)
    try:
        done = jobs.recover()
        assert done["failed"] == [old] and done["queued"] == [] and jobs.recover()["failed"] == []
        assert [store.trace(t).status for t in (cli, other, old)] == ["running", "running", "failed"]
    finally:
        jobs.shutdown()
        live.release()
        store.close()


# --- progress and partial traces of runs through the job manager ---

def test_progress_is_reported_by_time_whatever_the_step_count(tmp_path):
    program = tmp_path / "slow.py"
    program.write_text("import time\nfor i in range(40):\n    time.sleep(0.05)\n")  # 82 steps, ~2 s
    store = TraceStore(tmp_path / "t.db")
    reports, checkpoints = [], []

    def ticker(monitor) -> None:
        def tick() -> None:
            while not stop.wait(0.1):
                monitor.tick()
        threading.Thread(target=tick, daemon=True).start()

    def progress(steps: int, _nodes: int, _seconds: float) -> None:
        reports.append(steps)
        checkpoints.append(store.db.execute("SELECT checkpoint FROM traces").fetchone()[0])

    stop = threading.Event()
    try:
        outcome = trace_program(program, store, progress=progress, ticker=ticker, stop_when_truncated=True)
    finally:
        stop.set()
    assert outcome.status == "done" and outcome.steps == 82
    assert len(reports) >= 5 and 0 < reports[0] < reports[-1] <= 82  # (far under PERIOD = 4096)
    assert max(checkpoints) > 0  # a checkpoint too: a run killed now keeps steps


LIMITS = Limits(cpu_seconds=60, memory_mb=512, wall_seconds=90, processes=16, file_size_mb=8,
                output_bytes=100_000, max_steps=1_000_000, max_objects=50_000)
#: name -> (the program, what the test does to it once it has steps copied)
PROGRAMS = {
    "slow": (f"# {TAG}\nimport time\nfor i in range(300):\n    time.sleep(0.03)\n", None),
    # (a write to a pipe that a signal interrupts returns what it wrote so far: the worker's
    # alarm does, every 0.5 s, so one os.write may write less than the limit and end "done")
    "raw_output": ("import os\nx = 1\ny = 2\ndata = memoryview(b'x' * 200_000_000)\nwhile data:\n"
                   "    data = data[os.write(1, data):]\n", None),
    "big_file": ("x = 1\nwith open('big', 'wb') as f:\n    for i in range(100):\n"
                 "        f.write(b'x' * 1_000_000)\n", None),
    "disk": ("import time\nfor i in range(100):\n    open(f'f{i}', 'wb').write(b'x' * 6_000_000)\n"
             "    time.sleep(0.2)\n", None),
    # (a crash keeps the steps up to the last checkpoint: the first comes at the first tick)
    "segfault": ("import faulthandler, time\nfor i in range(40):\n    time.sleep(0.05)\n"
                 "faulthandler._sigsegv()\n", None),
    "killed": (f"# {TAG}\n" + SLOW, signal.SIGKILL),
    "terminated": (f"# {TAG}\n" + SLOW, signal.SIGTERM),
    "cancelled": (SLOW, "cancel"),
}


def worker_pids(name: str) -> list[int]:
    """The worker process of this session's run of `name` (from /proc: bwrap's are not it)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # the worker: `python -m pyrona.server.worker`, or, inside bwrap, a Python at a
        # neutral path started with `-c`; never bwrap itself, whose arguments hold the same
        if not os.path.basename(args[0]).startswith(b"bwrap") and b"--progress-fd" in args \
                and any(a.endswith(f"/{name}_{TAG}.py".encode()) for a in args):
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module", params=MODES, ids=lambda mode: f"sandbox={mode}")
def ended(request, tmp_path_factory):
    """Every program of PROGRAMS run at once; name -> (its TraceInfo, the progress seen while it ran)."""
    require_mode(request.param)
    settings = ServerSettings(db=tmp_path_factory.mktemp("ends") / "t.db", limits=LIMITS,
                              sandbox=request.param, workers=len(PROGRAMS))
    jobs = JobManager(settings)
    try:
        traces = {name: jobs.submit(f"{name}_{TAG}.py", source) for name, (source, _) in PROGRAMS.items()}
        seen: dict[str, list] = {name: [] for name in PROGRAMS}
        copied: dict[str, int] = {}
        acted: set[str] = set()
        deadline = time.monotonic() + 120
        while not all(jobs.wait(trace, 0) for trace in traces.values()):
            assert time.monotonic() < deadline, "runs did not end"
            for name, trace in traces.items():
                progress = jobs.progress(trace)
                if progress["status"] == "running":
                    seen[name].append(progress["steps"])
                    copied[name] = jobs.write(lambda store, t=trace: store.step_count(t))
                action = PROGRAMS[name][1]
                if action is not None and name not in acted and copied.get(name, 0) > 0:
                    acted.add(name)
                    if action == "cancel":
                        jobs.cancel(trace)
                    else:
                        for pid in worker_pids(name):
                            os.kill(pid, action)
            time.sleep(0.1)
        assert acted == {n for n, (_s, action) in PROGRAMS.items() if action is not None}
        yield {name: (jobs.write(lambda store, t=trace: store.trace(t)), seen[name], copied.get(name, 0))
               for name, trace in traces.items()}
    finally:
        jobs.shutdown()


def test_a_run_of_a_few_hundred_steps_shows_progress_while_it_runs(ended):
    info, seen, copied = ended["slow"]
    assert (info.status, info.steps) == ("done", 602)
    assert any(0 < steps < 602 for steps in seen), seen  # the stream's steps, as it ran
    # the API's steps: copied while it ran (on a loaded machine the last copy seen while
    # "running" may already hold every step)
    assert 0 < copied <= 602


def test_raw_output_past_the_limit_keeps_the_steps(ended):
    info, _seen, _copied = ended["raw_output"]
    assert (info.status, info.message) == ("truncated", "stopped: output limit (100 KB) reached")
    assert info.steps >= 3


def test_a_file_past_the_file_size_limit_keeps_the_steps(ended):
    info, _seen, _copied = ended["big_file"]
    assert (info.status, info.message) == ("truncated", "stopped: file size limit (8 MB) reached")
    assert info.steps >= 4


def test_a_run_past_the_scratch_space_limit_keeps_the_steps(ended):
    info, _seen, _copied = ended["disk"]
    assert (info.status, info.message) == ("truncated", "stopped: scratch space limit (16 MB) reached")
    assert info.steps >= 4


def test_a_crash_names_its_signal_and_keeps_the_steps(ended):
    info, _seen, _copied = ended["segfault"]
    assert (info.status, info.message) == ("failed", "stopped: the run crashed (SIGSEGV: segmentation fault)")
    assert "memory" not in info.message and info.steps > 0


def test_a_worker_killed_from_outside_says_so_and_keeps_its_copied_steps(ended):
    info, _seen, copied = ended["killed"]
    assert (info.status, info.message) == ("failed", "stopped: the run was killed from outside the server "
                                                     "(SIGKILL)")
    assert info.steps >= copied > 0


def test_a_worker_terminated_from_outside_finishes_its_trace(ended):
    info, _seen, copied = ended["terminated"]
    assert (info.status, info.message) == ("failed", "stopped: the run was stopped from outside the server "
                                                     "(SIGTERM)")
    assert info.steps > copied > 0  # finished: more than the last copy


def test_a_cancelled_run_finishes_its_trace(ended):
    info, _seen, copied = ended["cancelled"]
    assert (info.status, info.message) == ("failed", "stopped: cancelled")
    assert info.steps > copied > 0


def test_the_worker_exit_statuses_are_distinct():
    codes = [worker.EXIT_DONE, worker.EXIT_FAILED, worker.EXIT_USAGE, *worker.LIMIT_REASONS,
             worker.EXIT_NETWORK, worker.EXIT_INTERNAL, worker.EXIT_ASKED, worker.EXIT_TERMINATED]
    assert len(codes) == len(set(codes))
