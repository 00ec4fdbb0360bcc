"""Hostile programs, run for real through the job manager with small limits, in each sandbox mode
that works here (the mode is in each test's id): every one is stopped with a clear message naming
the limit, its partial trace stays readable, nothing escapes the scratch directory or reaches the
network, and the server keeps serving. Then the import of an untrusted scratch store: a crafted
one is rejected with a clear message and the main store is left as it was."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import pyrona
from pyrona.server import sandbox
from pyrona.server.app import create_app
from pyrona.server.jobs import JobManager
from pyrona.server.settings import Limits, ServerSettings
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import StoreError, TraceStore

#: Both modes are always tested. bwrap needs bubblewrap and namespaces: where it cannot run,
#: its tests fail in CI (CI=true: a sandbox mode must never go untested silently) and are
#: skipped elsewhere, with the reason.
MODES = ["bwrap", "rlimits"]
WALL_SECONDS = 8
#: Each group of runs has limits under which the limit its tests expect comes first by
#: construction or by a wide margin, never by a race a loaded 2-core machine can lose:
#: - "wall": the CPU limit is above the wall time limit, and a run (one thread) cannot use
#:   more CPU time than the time it lives: the wall time limit always comes first;
#: - "cpu": a busy loop needs 2 s of CPU time; the wall time limit is 30 times that;
#: - "other": each program meets its own limit (memory, processes, file size, output) or
#:   ends in well under a second of CPU time; the CPU and wall time limits are far above.
COMMON = dict(memory_mb=256, processes=16, file_size_mb=16, output_bytes=1_000_000,
              max_steps=50_000_000, max_objects=50_000)
GROUPS = {
    "wall": Limits(cpu_seconds=WALL_SECONDS + 60, wall_seconds=WALL_SECONDS, **COMMON),
    "cpu": Limits(cpu_seconds=2, wall_seconds=60, **COMMON),
    "other": Limits(cpu_seconds=60, wall_seconds=120, **COMMON),
    # the step cap, far below what the CPU time allows
    "steps": Limits(cpu_seconds=60, wall_seconds=120, **{**COMMON, "max_steps": 20_000}),
}
LIMITS = GROUPS["other"]
ESCAPE = f"sandbox-escape-{uuid.uuid4().hex}.txt"
PROJECT_FILE = Path(pyrona.__file__).parent / ESCAPE  # inside the project's folder
HOST_TMP_FILE = Path(tempfile.gettempdir()) / ESCAPE  # the host's /tmp
#: the fork bomb's program name, unique: another test session's workers are not this one's
FORK = f"fork_{uuid.uuid4().hex[:12]}"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@functools.cache
def bwrap_problem() -> str:
    """'' when bubblewrap can run its sandbox here, else why not."""
    return sandbox.bwrap_probe()


def require_mode(mode: str) -> None:
    """Fail (in CI) or skip (elsewhere) a test of a sandbox mode that cannot run here."""
    why = bwrap_problem() if mode == "bwrap" else ""
    if why:
        message = f"sandbox mode 'bwrap' cannot be tested here: {why}"
        if in_ci():
            pytest.fail(f"{message} (CI=true: bubblewrap must be installed and able to create its "
                        "namespaces, or the kernel sandbox goes untested)", pytrace=False)
        pytest.skip(message)


#: The group of a program's run (see GROUPS), "other" if not here.
GROUP_OF = {"sleep": "wall", "blocked": "wall", "behaviour": "wall", "thread_nap": "wall", "loop": "cpu",
            "thread_loop": "cpu", "thread_hostile": "cpu", "steps": "steps", "thread_steps": "steps"}


def programs(port: int) -> dict[str, str]:
    # the slow ones first: they start at once, the others as workers free up
    return {
        "sleep": "import time\nn = 0\nwhile True:\n    n += 1\n    time.sleep(0.0005)\n",
        "blocked": "print('before the wait')\nimport time\ntime.sleep(1000)\n",
        # a behaviour that never ends while the main thread waits for it in wait()
        "behaviour": ("import time\nfrom pyrona import Cown, when, wait\nc = Cown(0)\n"
                      "@when(c)\ndef forever(x):\n    while True:\n        x.value += 1\n"
                      "        time.sleep(0.001)\nwait()\n"),
        "loop": "x = 0\nwhile True:\n    pass\n",
        # a thread of the program's own that never ends, the main thread waiting for it: the
        # limits hold for the whole process, whatever thread runs (pool threads included)
        "thread_loop": ("import threading\n\ndef spin():\n    while True:\n        sum(range(3_000_000))\n\n"
                        "t = threading.Thread(target=spin)\nt.start()\nt.join()\n"),
        # the same, swallowing whatever is raised in it (the stop parks it: nothing is raised)
        "thread_hostile": ("import threading\n\ndef spin():\n    while True:\n        try:\n"
                           "            sum(range(3_000_000))\n        except BaseException:\n"
                           "            pass\n\nt = threading.Thread(target=spin)\nt.start()\nt.join()\n"),
        "thread_nap": ("import threading, time\n\ndef nap():\n    while True:\n        time.sleep(0.01)\n\n"
                       "t = threading.Thread(target=nap)\nt.start()\nt.join()\n"),
        # ~60 bytes of new values a step: its store reaches the file size limit first
        "bigstore": "i = 0\nwhile True:\n    i += 1\n    text = f'{i:058d}'\n",
        "ok": "from pyrona import Region\nr = Region()\nr.items = [1, 2]\nprint('fine')\n",
        "memory": "hog = []\nwhile True:\n    hog.append(bytearray(10_000_000))\n",
        FORK: "import os\nwhile True:\n    os.fork()\n",
        "net_local": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)\n",
        "net_outside": ("import socket\n"
                        "for where in [('1.1.1.1', 80), ('example.com', 80)]:\n"
                        "    try:\n"
                        "        socket.create_connection(where, timeout=3)\n"
                        "        print('connected', where)\n"
                        "    except OSError as err:\n"
                        "        print('no connection', where, err)\n"),
        "write": (f"try:\n    open({str(HOST_TMP_FILE)!r}, 'w').write('x')\n    print('tmp: wrote')\n"
                  "except OSError as err:\n    print('tmp: refused', err)\n"
                  "open('inside.txt', 'w').write('scratch is writable')\nprint('inside: wrote')\n"
                  f"open({str(PROJECT_FILE)!r}, 'w').write('x')\n"),
        "print": "for i in range(100_000):\n    print('x' * 1000)\n",
        "tamper": ("import os, sqlite3\n"
                   "here = os.path.exists('trace.db')\n"
                   "db = sqlite3.connect('trace.db' if here else '/pyrona/run/trace.db')\n"
                   "db.execute(\"INSERT INTO nodes VALUES \"\n"
                   "           \"(1, 0, 0, 'soon', 1, 'obj', 'T', 'local', 'x', '')\")\n"
                   "db.commit()\nx = 1\n"),
        "untrace": ("import sys\nx = 0\nfor i in range(10):\n    x += i\n"
                    "sys.monitoring.free_tool_id(3)\nfor i in range(2000):\n    x += i\n"
                    "print('untraced', x)\n"),
        "untrace_swallowed": ("import sys\ntry:\n    sys.settrace(print)\n"
                              "except BaseException:\n    pass\nx = 0\n"
                              "for i in range(100_000):\n    x += i\nprint('untraced', x)\n"),
        "spawn": ("import os, subprocess, threading\n"
                       "t = threading.Thread(target=print, args=('thread ran',))\nt.start()\nt.join()\n"
                       "try:\n    os.system('id')\nexcept PermissionError as err:\n"
                       "    print('system refused:', err)\n"
                       "try:\n    import ctypes\n"
                       "    libc = ctypes.CDLL(None, use_errno=True)\n"
                       "    argv = (ctypes.c_char_p * 2)(b'/bin/sh', None)\n"
                       "    print('execv', libc.execv(b'/bin/sh', argv), ctypes.get_errno())\n"
                       "except OSError as err:\n    print('no ctypes', err)\n"
                       "subprocess.run(['sh', '-c', 'id; ls /'])\n"),
        "paths": ("import os, sys\n"
                  "for p in ['/proc/1/cmdline', '/proc/self/cmdline', '/proc/self/mountinfo',\n"
                  "          '/proc/self/environ']:\n"
                  "    try:\n"
                  "        print(p, open(p, 'rb').read().replace(b'\\0', b' ').decode())\n"
                  "    except OSError as err:\n"
                  "        print(p, 'unreadable', err)\n"
                  "print(os.getcwd(), sys.path, sys.executable, __file__, os.environ)\n"
                  "for top in ['/', '/pyrona', '/pyrona/run']:\n"
                  "    print(top, sorted(os.listdir(top)) if os.path.isdir(top) else '-')\n"),
        "disk": ("i = 0\nwhile True:\n    with open(f'part{i}', 'wb') as f:\n"
                 "        f.write(b'x' * 1_000_000)\n    i += 1\n"),
        "steps": "x = 0\nwhile True:\n    x += 1\n",
        # a thread meets the step cap (and is stopped there) while the main thread naps on
        "thread_steps": ("import threading, time\n\ndef count():\n    x = 0\n    while True:\n"
                         "        x += 1\n\nthreading.Thread(target=count, daemon=True).start()\n"
                         "while True:\n    time.sleep(0.01)\n"),
        "objects": "keep = []\nwhile True:\n    keep.append([])\n",
        "recursion": "def down(n):\n    return down(n + 1)\n\nprint('going down')\ndown(0)\n",
        "dns": ("import socket\ntry:\n    print('resolved', socket.getaddrinfo('example.com', 80))\n"
                "except OSError as err:\n    print('no name service', type(err).__name__)\n"),
        "stdout": ("import io, os, sys\nprint('before')\nsys.stdout = io.StringIO()\nprint('hidden')\n"
                   "sys.stdout = sys.__stdout__\nos.close(1)\nx = 0\nfor i in range(3):\n    x += i\n"
                   "print('after', x)\n"),
        "patch": ("import pyrona.tracer.recorder as recorder\n"
                  "recorder.Recorder.set_slot = None\n"
                  "x = [1]\ny = [x]\nprint('patched', y)\n"),
        "patch_runtime": ("import pyrona.runtime.barrier as barrier\n"
                          "from pyrona import Region, RegionError\n"
                          "barrier.plan_store = lambda *args: None\n"
                          "r, other = Region(), Region()\nother.x = []\n"
                          "try:\n    r.y = other.x\n    print('not refused')\n"
                          "except RegionError as err:\n    print('refused', err.kind)\n"),
        "memory_poke": "import ctypes\nprint('poking')\nctypes.memset(16, 0, 64)\nprint('survived')\n",
    }


@pytest.fixture(scope="module")
def listener():
    """A server on the host's loopback: a run must not reach it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        yield sock


@pytest.fixture(scope="module", params=MODES, ids=lambda mode: f"sandbox={mode}")
def runs(request, tmp_path_factory, listener):
    """Every program run through a server of its group (all at once); name -> (client, trace)."""
    require_mode(request.param)
    with contextlib.ExitStack() as stack:
        clients = {}
        for group, limits in GROUPS.items():
            settings = ServerSettings(db=tmp_path_factory.mktemp(f"sandbox-{group}") / "traces.db",
                                      limits=limits, sandbox=request.param, workers=4)
            clients[group] = stack.enter_context(TestClient(create_app(settings)))
        started = {}
        every = programs(listener.getsockname()[1])
        # the fork bomb last, alone: runs share the sandbox's user, whose process count it
        # fills up to its limit, so a run started before it could not start a thread then
        for batch in ([name for name in every if name != FORK], [FORK]):
            for name in batch:
                group = GROUP_OF.get(name, "other")
                upload = {"name": f"{name}.py", "source": every[name]}
                response = clients[group].post("/api/traces", json=upload)
                assert response.status_code == 201, response.text
                started[name] = (clients[group], response.json()["id"], GROUPS[group])
            for name in batch:
                client, trace, limits = started[name]
                # (a stuck run shows as this, long after its wall time limit should have stopped it)
                assert client.app.state.jobs.wait(trace, limits.wall_seconds + 60), f"{name} never ended"
        for client in clients.values():
            assert client.app.state.jobs.mode() == request.param
        yield {name: (client, trace) for name, (client, trace, _limits) in started.items()}


def ended(runs, name: str) -> dict:
    """The run's TraceInfo, after checking its partial trace is readable."""
    client, trace = runs[name]
    info = client.get(f"/api/traces/{trace}").json()
    assert info["status"] in ("done", "failed", "truncated"), info
    listing = client.get(f"/api/traces/{trace}/steps?first=0&count=5")
    assert listing.status_code == 200 and listing.json()["total"] == info["steps"]
    for n in {0, info["steps"] - 1} if info["steps"] else ():
        assert client.get(f"/api/traces/{trace}/steps/{n}").status_code == 200
        assert client.get(f"/api/traces/{trace}/steps/{n}/mermaid").status_code == 200
    return info


def last_step(runs, name: str, info: dict) -> dict:
    client, trace = runs[name]
    return client.get(f"/api/traces/{trace}/steps/{info['steps'] - 1}").json()


def test_a_plain_program_runs_to_the_end(runs):
    info = ended(runs, "ok")
    assert (info["status"], info["message"]) == ("done", "")
    assert last_step(runs, "ok", info)["stdout"] == "fine\n"
    client, trace = runs["ok"]
    assert client.get(f"/api/traces/{trace}/source").json()["files"][0]["path"] == "ok.py"


CPU_MESSAGE = "stopped: CPU time limit (2 s) reached"


def test_an_infinite_loop_stops_at_the_cpu_limit(runs):
    info = ended(runs, "loop")
    assert info["status"] == "truncated", info
    assert info["message"] == CPU_MESSAGE
    assert info["steps"] >= 4095  # the first checkpoint is taken early: the loop is there to see


WALL_MESSAGE = f"stopped: wall time limit ({WALL_SECONDS} s) reached"


@pytest.mark.parametrize("name, message, line", [("thread_loop", CPU_MESSAGE, 5),
                                                 ("thread_hostile", CPU_MESSAGE, 6),
                                                 ("thread_nap", WALL_MESSAGE, 5)],
                         ids=["thread_loop", "thread_hostile", "thread_nap"])
def test_a_thread_that_never_ends_stops_at_the_limit(runs, name, message, line):
    """Limits are the process's: a thread other than the main one (as a pool thread running
    behaviours would be) is stopped too, while the main thread waits for it: the main thread
    is stopped, the other parked before the trace is finished (`tracer.halt`)."""
    info = ended(runs, name)
    assert (info["status"], info["message"]) == ("truncated", message), info
    assert line in last_step(runs, name, info)["lines_run"]  # the thread's loop was traced, until stopped


def test_a_trace_store_that_would_outgrow_the_file_size_limit_is_cut_before(runs):
    info = ended(runs, "bigstore")
    assert (info["status"], info["message"]) == ("truncated", "stopped: file size limit (16 MB) reached")
    assert info["steps"] >= 100_000  # what was written before the limit is all there to see


def test_a_program_that_waits_stops_at_the_wall_time_limit(runs):
    info = ended(runs, "sleep")
    assert (info["status"], info["message"]) == ("truncated", WALL_MESSAGE)
    assert info["steps"] > 0


def test_a_behaviour_that_never_ends_stops_at_the_wall_time_limit(runs):
    # under the tracer behaviours run on the thread that waits: the limit's signal reaches them
    info = ended(runs, "behaviour")
    assert (info["status"], info["message"]) == ("truncated", WALL_MESSAGE)
    assert info["steps"] > 100  # the behaviour's loop ran, step after step, until stopped
    # stopped inside the behaviour (or at `wait()`, where the stop comes back to the program)
    assert last_step(runs, "behaviour", info)["line"] in (6, 7, 8, 9)


def test_a_program_blocked_early_keeps_its_steps_when_stopped(runs):
    # stopped long before any checkpoint: the worker is asked to stop, and finishes its trace
    info = ended(runs, "blocked")
    assert (info["status"], info["message"]) == ("truncated", WALL_MESSAGE)
    assert info["steps"] >= 3
    last = last_step(runs, "blocked", info)
    assert last["line"] == 3 and last["stdout"] == "before the wait\n"


def test_a_memory_hog_stops_at_the_memory_limit(runs):
    info = ended(runs, "memory")
    assert (info["status"], info["message"]) == ("truncated", "stopped: memory limit (256 MB) reached")
    assert info["steps"] > 0


def test_a_fork_bomb_stops_at_the_process_limit_and_leaves_nothing_behind(runs):
    info = ended(runs, FORK)
    assert (info["status"], info["message"]) == ("truncated", "stopped: process limit (16 processes) reached")
    deadline = time.monotonic() + 10
    while _workers_left() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _workers_left()


def _workers_left() -> list[str]:
    """Processes still running this session's fork bomb (from /proc: no `ps` needed)."""
    left = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "pyrona.server.worker" in args and f"{FORK}.py" in args:
            left.append(args)
    return left


def test_a_connection_to_the_hosts_loopback_fails_inside(runs, listener):
    info = ended(runs, "net_local")
    assert info["status"] == "failed"
    assert info["message"].startswith("no network inside the sandbox: ")
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing reached the host


def test_an_outside_address_is_unreachable_and_the_trace_says_so(runs):
    info = ended(runs, "net_outside")
    assert (info["status"], info["message"]) == ("done", "no network inside the sandbox")
    stdout = last_step(runs, "net_outside", info)["stdout"]
    assert "connected" not in stdout and stdout.count("no connection") == 2


def test_writes_outside_the_scratch_directory_are_refused(runs):
    info = ended(runs, "write")
    assert info["status"] == "failed" and "Error" in info["message"]
    assert not PROJECT_FILE.exists() and not HOST_TMP_FILE.exists()
    stdout = last_step(runs, "write", info)["stdout"]
    assert "inside: wrote" in stdout  # the scratch directory itself is the program's


def test_printing_100_mb_stops_at_the_output_limit(runs):
    info = ended(runs, "print")
    assert (info["status"], info["message"]) == ("truncated", "stopped: output limit (1 MB) reached")
    assert 0 < len(last_step(runs, "print", info)["stdout"]) <= LIMITS.output_bytes


def test_a_program_that_tampers_with_its_trace_store_gets_it_rejected(runs):
    info = ended(runs, "tamper")
    assert info["status"] == "failed" and info["steps"] == 0
    assert info["message"].startswith("the run's trace store is invalid: nodes.end is 'soon'")


TAMPERED = "the program tampered with the tracer ({}): the run was stopped"


def test_a_program_cannot_switch_the_tracer_off(runs):
    info = ended(runs, "untrace")
    assert (info["status"], info["message"]) == (
        "failed", TAMPERED.format("it called sys.monitoring.free_tool_id()"))
    last = last_step(runs, "untrace", info)
    assert last["line"] == 5 and "untraced" not in last["stdout"]
    assert "tracer" not in last["stderr"]  # (no traceback of the tracer's own)


def test_a_program_that_swallows_the_refusal_is_stopped_at_the_next_check(runs):
    info = ended(runs, "untrace_swallowed")
    assert (info["status"], info["message"]) == ("failed", TAMPERED.format("it called sys.settrace()"))
    assert info["steps"] < 10_000 and "untraced" not in last_step(runs, "untrace_swallowed", info)["stdout"]


def test_no_other_program_can_be_run_inside(runs, request):
    info = ended(runs, "spawn")
    assert info["status"] == "failed"
    assert info["message"] == ("PermissionError: [Errno 1] running another program (exec) is refused "
                               "inside the sandbox: 'sh' (line 16)")
    stdout = last_step(runs, "spawn", info)["stdout"]
    assert "thread ran" in stdout and "uid=" not in stdout and "usr" not in stdout
    assert "system refused: [Errno 1] running another program (exec) is refused" in stdout
    if "sandbox=bwrap" in request.node.name:  # the kernel's refusal, under the Python one
        assert "execv -1 1\n" in stdout


def test_a_program_sees_no_host_path(runs, request):
    info = ended(runs, "paths")
    assert (info["status"], info["message"]) == ("done", "")
    stdout = last_step(runs, "paths", info)["stdout"]
    scratch_parent = tempfile.gettempdir()
    assert "/scratch" in stdout or scratch_parent in stdout
    if "sandbox=bwrap" in request.node.name:
        repository = str(Path(pyrona.__file__).resolve().parent.parent)
        for host in (repository, os.path.realpath(sys.base_prefix), sys.prefix, "pyrona-run-"):
            assert host not in stdout, host
        assert "/scratch/paths.py" in stdout and "/pyrona/lib" in stdout


def test_the_scratch_space_limit_holds_at_every_write(runs, request):
    info = ended(runs, "disk")
    limit = sandbox.disk_mb(LIMITS)
    if "sandbox=bwrap" in request.node.name:
        assert (info["status"], info["message"]) == (
            "truncated", f"stopped: scratch space limit ({limit} MB) reached")
        # one MB a file (under 6 steps each): no more files than the limit holds were written
        assert info["steps"] <= 6 * limit + 10
    else:  # rlimits: the server's check every second is all there is
        assert info["status"] == "truncated" and info["message"] in (
            f"stopped: scratch space limit ({limit} MB) reached",
            f"stopped: file size limit ({LIMITS.file_size_mb} MB) reached")


def test_a_run_past_the_step_cap_is_kept_to_the_cap(runs):
    info = ended(runs, "steps")
    assert (info["status"], info["message"], info["steps"]) == (
        "truncated", "stopped: step limit (20,000 steps) reached", 20_000)


def test_a_thread_past_the_step_cap_stops_the_whole_program(runs):
    info = ended(runs, "thread_steps")
    assert (info["status"], info["message"], info["steps"]) == (
        "truncated", "stopped: step limit (20,000 steps) reached", 20_000)


def test_a_run_past_the_object_cap_is_kept_to_the_cap(runs):
    info = ended(runs, "objects")
    assert info["status"] == "truncated"
    assert info["message"] == "stopped: object limit (50,000 objects) reached"
    assert info["steps"] > 1000


def test_deep_recursion_fails_as_python_says_and_keeps_its_steps(runs):
    info = ended(runs, "recursion")
    assert info["status"] == "failed"
    assert info["message"].startswith("RecursionError: maximum recursion depth exceeded")
    assert info["steps"] > 500 and "going down" in last_step(runs, "recursion", info)["stdout"]


def test_no_name_can_be_resolved_inside(runs):
    info = ended(runs, "dns")
    assert info["status"] == "done"
    assert "no name service" in last_step(runs, "dns", info)["stdout"]


def test_a_program_that_redirects_or_closes_its_stdout_ends_cleanly(runs):
    info = ended(runs, "stdout")
    assert info["status"] == "done" and info["steps"] >= 10
    stdout = last_step(runs, "stdout", info)["stdout"]
    assert "before" in stdout and "hidden" not in stdout


def test_a_program_that_patches_pyrona_only_breaks_its_own_run(runs):
    """Patching the tracer or the runtime is the program's own business (the region checks
    are no security boundary: the sandbox is): its run fails plainly, its trace is readable
    (`ended` reads it) and the servers keep serving."""
    tracer = ended(runs, "patch")
    assert (tracer["status"], tracer["message"]) == ("failed", "TypeError: 'NoneType' object is not callable "
                                                               "(line 4)")
    runtime = ended(runs, "patch_runtime")
    assert runtime["status"] == "failed" and runtime["steps"] > 0


def test_ctypes_writing_memory_crashes_only_its_run_and_says_so(runs):
    info = ended(runs, "memory_poke")
    assert info["status"] == "failed"
    # (the message may add the peak memory when it came near the memory limit)
    assert info["message"].startswith("stopped: the run crashed (SIGSEGV: segmentation fault)")


def test_the_servers_keep_serving(runs):
    clients = {id(client): client for client, _trace in runs.values()}
    for client in clients.values():
        listed = client.get("/api/traces").json()["traces"]
        assert {t["id"] for t in listed} == {trace for c, trace in runs.values() if c is client}
        trace = client.post("/api/traces", json={"name": "again.py", "source": "x = [1]\n"}).json()["id"]
        assert client.app.state.jobs.wait(trace, 60)
        assert client.get(f"/api/traces/{trace}").json()["status"] == "done"


# --- choosing the sandbox ---

def test_auto_falls_back_to_rlimits_with_a_warning_when_bwrap_is_missing(monkeypatch, caplog):
    monkeypatch.setattr(sandbox.shutil, "which", lambda _name: None)
    with caplog.at_level(logging.WARNING, logger="pyrona.server"):
        assert sandbox.resolve_mode("auto") == "rlimits"
    assert "bubblewrap (bwrap) is not installed" in caplog.text
    with pytest.raises(sandbox.SandboxError, match="install the Debian package bubblewrap"):
        sandbox.resolve_mode("bwrap")


def test_asking_for_bwrap_without_it_refuses_to_run(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "bwrap_probe", lambda: "bubblewrap (bwrap) is not installed")
    jobs = JobManager(ServerSettings(db=tmp_path / "t.db", sandbox="bwrap", workers=1))
    try:
        trace = jobs.submit("prog.py", "print(1)\n")
        assert jobs.wait(trace, 30)
        info = jobs.write(lambda store: store.trace(trace))
        assert info.status == "failed" and "'bwrap' was asked for, but bubblewrap (bwrap) is not installed" \
            in info.message
    finally:
        jobs.shutdown()


def test_limit_messages_name_the_limit_plainly():
    limits = Limits(cpu_seconds=20, memory_mb=1024, wall_seconds=60, output_bytes=1_000_000)
    assert sandbox.stop_message("cpu", limits) == "stopped: CPU time limit (20 s) reached"
    assert sandbox.stop_message("memory", limits) == "stopped: memory limit (1024 MB) reached"
    assert sandbox.stop_message("output", limits) == "stopped: output limit (1 MB) reached"
    assert sandbox.stop_message("wall", limits) == "stopped: wall time limit (60 s) reached"
    assert sandbox.NO_NETWORK == "no network inside the sandbox"


# --- importing an untrusted scratch store ---

PROGRAM = """from pyrona import Region
r = Region()
r.jobs = []
for i in range(3):
    r.jobs.append({"n": i})
print("done")
"""


@pytest.fixture
def stores(tmp_path):
    """A main store holding one finished trace, and a good scratch store of another run."""
    program = tmp_path / "prog.py"
    program.write_text(PROGRAM)
    main = TraceStore(tmp_path / "main.db")
    trace_program(program, main)
    scratch = TraceStore(tmp_path / "scratch.db")
    trace_program(program, scratch)
    scratch.close()
    into = main.create_trace("prog.py", {"prog.py": PROGRAM})
    return main, tmp_path / "scratch.db", into, str(tmp_path)


def _snapshot(main: TraceStore) -> tuple:
    return main.trace(1), main.step(1, 5), main.steps(1), main.files(1)


def test_a_good_scratch_store_is_copied_whole(stores):
    main, scratch, into, folder = stores
    run = main.import_trace(scratch, into, final=True, folder=folder)
    assert run.finished and run.status == "done" and run.steps == main.trace(1).steps
    main.set_status(into, run.status, steps=run.steps)
    assert [main.step(into, i) for i in range(run.steps)] == [main.step(1, i) for i in range(run.steps)]
    assert [p for p, _src in main.files(into).values()] == ["prog.py"]


#: a change to the node group row of `stores`' program (its nodes, slots and strings)
GROUP_SET, GROUP_ROW = "UPDATE nodes SET detail = json_set(detail,", "WHERE node = -1"


@pytest.mark.parametrize("tamper, why", [
    ("UPDATE nodes SET end = 'later' WHERE rowid = 1", "nodes.end is 'later'"),
    ("UPDATE nodes SET end = 99999 WHERE rowid = 1", "not an integer in [0,"),
    ("INSERT INTO nodes VALUES (1, 0, 0, 2, 7, 'list', 'list', 'r1) DROP', 'list', '')", "not a place"),
    ("UPDATE events SET nodes = '[1, \"x\"]'", "not a list of node ids"),
    # slots rows (this program's slots are all in node groups: crafted rows are added)
    ("INSERT INTO slots VALUES (1, 0, 0, 2, 1, 'x', NULL, NULL, '0\x1e\x1e')", "slots.runs"),
    ("INSERT INTO slots VALUES (1, 0, 0, 2, 1, 'x', NULL, NULL, '1*999999\x1e\x1e')", "are not lengths"),
    ("INSERT INTO slots VALUES (1, 0, 0, 2, 1, 'x', NULL, NULL, '1*3\x1e\x1e')", "do not add up to 2"),
    ("INSERT INTO slots VALUES (1, 0, 0, 2, 1, '', -1, NULL, '{\"x\": [0, \"1\"]}')",
     "a slots row is a slot group"),
    # node groups: [strings, nodes, edges, fields] in columns (store_format.INTERVAL_TABLES)
    ("UPDATE nodes SET place = 'r1) DROP' WHERE node = -1", "a node group row has a kind"),
    (f"{GROUP_SET} '$[0][#]', 'r1) DROP', '$[1][5][0]', json_array_length(detail, '$[0]')) {GROUP_ROW}",
     "not a place"),
    (f"{GROUP_SET} '$[1][0][0]', -5) {GROUP_ROW}", "nodes.node is -5"),
    (f"{GROUP_SET} '$[0][0]', 5) {GROUP_ROW}", "the strings of a node group are not a list of texts"),
    (f"{GROUP_SET} '$[1][3][0]', 999) {GROUP_ROW}", "nodes.kind is 999"),
    (f"{GROUP_SET} '$[1][1]', json('[0]')) {GROUP_ROW}", "columns of a node group differ in length"),
    (f"{GROUP_SET} '$[2]', json('[]')) {GROUP_ROW}", "the edges of a node group are not 6 columns"),
    (f"{GROUP_SET} '$[2][4][0]', 3) {GROUP_ROW}", "has no interval in its group that ends at 3"),
    (f"{GROUP_SET} '$[2][2][0]', 'x') {GROUP_ROW}", "slots.dst is 'x'"),
    (f"{GROUP_SET} '$[3][2][0]', 999) {GROUP_ROW}", "slots.value is 999"),
    (f"{GROUP_SET} '$[2][0][0]', 99) {GROUP_ROW}", "a grouped slot's node 99 has no interval"),
    (f"{GROUP_SET} '$[2][1][1]', json_extract(detail, '$[2][1][0]')) {GROUP_ROW}", "of node 1 comes twice"),
    (f"{GROUP_SET} '$[3][5]', json('[[0, 3, [2]]]')) {GROUP_ROW}", "neither a dst nor a value"),
    (f"{GROUP_SET} '$[3][5]', json('[[0, 2, 1, 1, 1]]')) {GROUP_ROW}", "run is not consecutive"),
    (f"{GROUP_SET} '$[3][5]', json('[[0, 7, 1]]')) {GROUP_ROW}", "a grouped slot's run start is 7"),
    (f"{GROUP_SET} '$[3][5]', json('[[9, 1, 1]]')) {GROUP_ROW}", "a grouped slot's run's slot is 9"),
    ("UPDATE nodes SET detail = '[[[' WHERE node = -1", "not a node group"),
    (f"{GROUP_SET} '$[1][2][0]', 12) {GROUP_ROW}", "a grouped node's end"),
    (f"{GROUP_SET} '$[1][1][0]', 11, '$[1][2][0]', 5) {GROUP_ROW}", "is reversed"),
    ("UPDATE nodes SET start = start + 1 WHERE node = -1", "a grouped node's start"),
    ("UPDATE step_chunks SET data = zeroblob(10)", "not zlib data"),
    ("UPDATE step_chunks SET data = ?", "does not hold"),  # a zip bomb
    ("UPDATE traces SET steps = -4", "traces.steps"),
    ("DROP TABLE regions; CREATE VIEW regions AS SELECT * FROM nodes", "it has no table regions"),
    ("INSERT INTO traces (name, created, status) VALUES ('two', 0, 'done')", "holds 2 traces"),
])
def test_a_crafted_scratch_store_is_rejected_and_nothing_is_copied(stores, tamper, why):
    main, scratch, into, folder = stores
    db = sqlite3.connect(scratch)
    bomb = (zlib.compress(b"\0" * 20_000_000),)
    for statement in tamper.split("; "):
        db.execute(statement, bomb if "?" in statement else ())
    db.commit()
    db.close()
    before = _snapshot(main)
    with pytest.raises(StoreError, match="the run's trace store is invalid: .*" + re.escape(why)):
        main.import_trace(scratch, into, final=True, folder=folder)
    assert _snapshot(main) == before
    assert main.step_count(into) == 0 and main.events(into) == []


def test_a_node_group_out_of_order_is_imported_in_order(stores):
    """A run's node group whose edges and fields are not in StepGraph's order (a read takes
    them as they are) is written anew in order: the steps read back as the run's."""
    main, scratch, into, folder = stores
    db = sqlite3.connect(scratch)
    (detail,) = db.execute("SELECT detail FROM nodes WHERE node = -1").fetchone()
    strings, nodes, edges, fields = json.loads(detail)
    assert len(edges[0]) > 2 and edges[5] == [] and len(fields[0]) > 1
    edges = [column[::-1] for column in edges[:5]] + [[]]
    fields = [column[::-1] for column in fields[:5]] + [[[len(fields[0]) - 1 - run[0], *run[1:]]
                                                         for run in fields[5]]]
    db.execute("UPDATE nodes SET detail = ? WHERE node = -1", (json.dumps([strings, nodes, edges, fields]),))
    db.commit()
    db.close()
    run = main.import_trace(scratch, into, final=True, folder=folder)
    main.set_status(into, run.status, steps=run.steps)
    assert [main.step(into, i) for i in range(run.steps)] == [main.step(1, i) for i in range(run.steps)]


def test_a_scratch_file_that_is_not_a_database_is_rejected(stores):
    main, scratch, into, folder = stores
    scratch.write_bytes(os.urandom(8192))
    for extra in ("-wal", "-shm"):
        Path(f"{scratch}{extra}").unlink(missing_ok=True)
    with pytest.raises(StoreError, match="the run's trace store is unreadable|cannot open the run's trace"):
        main.import_trace(scratch, into, final=True, folder=folder)


LOOP = """from pyrona import Region
items, r, i = [], Region(), 0
r.data = []
while True:
    items.append([i])
    if len(items) > 40:
        items = items[20:]
    if i % 7 == 0:
        r.data.append({"k": i})
        if len(r.data) > 5:
            r.data = []
    i += 1
"""
RUNNER = """import sys
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
trace_program(sys.argv[1], TraceStore(sys.argv[2]), max_steps=int(sys.argv[3]), stop_when_truncated=True)
"""


def test_a_killed_run_is_cut_at_its_last_checkpoint_and_matches_a_full_run(tmp_path):
    program = tmp_path / "loop.py"
    program.write_text(LOOP)
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(program), str(tmp_path / "killed.db"),
                             str(10**9)], stderr=subprocess.DEVNULL)
    main = TraceStore(tmp_path / "main.db")
    into = main.create_trace("loop.py", {})
    main.set_status(into, "running")
    copied, why = 0, "no scratch store yet"
    deadline = time.monotonic() + 60
    while copied == 0 and time.monotonic() < deadline:  # a copy while it runs
        time.sleep(0.2)
        if (tmp_path / "killed.db").exists():
            try:
                copied = main.import_trace(tmp_path / "killed.db", into, final=False,
                                           folder=str(tmp_path)).steps
            except StoreError as exc:  # created but not set up yet (its schema, its trace row)
                why = str(exc)
    assert copied >= 4095 and main.step_count(into) == copied, why
    time.sleep(2.5)  # one more checkpoint, not copied while it ran
    proc.kill()
    proc.wait()
    run = main.import_trace(tmp_path / "killed.db", into, final=True, folder=str(tmp_path))
    assert not run.finished and run.steps >= copied
    main.set_status(into, "truncated", "killed", steps=run.steps)
    reference = TraceStore(tmp_path / "reference.db")
    trace_program(program, reference, max_steps=run.steps + 10, stop_when_truncated=True)
    probes = {0, 1, copied - 1, copied, run.steps - 1, *range(0, run.steps, max(run.steps // 60, 1))}
    for index in sorted(i for i in probes if i < run.steps):
        assert main.step(into, index) == reference.step(1, index), index
    assert main.db.execute("SELECT COUNT(*) FROM open_nodes").fetchone()[0] == 0
