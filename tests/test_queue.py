"""Runs through the job queue of a PostgreSQL deployment, for real: a web process
(`pyrona serve --db URL --workers 0`) and `pyrona worker` processes; a worker killed
mid-run has its run finished by another, and a run whose workers die twice fails with
a message that says so (nothing is left running); exports are drawn by the workers and
their files kept in the database. Heartbeats every second here
(PYRONA_HEARTBEAT), so a dead worker's runs are found within seconds."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from PIL import Image

from pyrona.server.launch import ServerProcess
from pyrona.server.queue import EXPORT_LOST, LOST
from pyrona.tracer.store import TraceStore
from api_client import get, post, wait_for

SLOW = "import time\nfor i in range(600):\n    time.sleep(0.01)\n"  # a few seconds, steps all along




class Worker:
    """`pyrona worker --db URL` in a child process."""

    def __init__(self, url: str, log: Path, concurrency: int = 2) -> None:
        self.log = open(log, "w+b")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "pyrona", "worker", "--db", url, "--concurrency", str(concurrency)]
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def worker_of(url: str, trace: int) -> int | None:
    """The process id of the worker running `trace` now (its trace's settings say)."""
    store = TraceStore(url, readonly=True)
    try:
        info = store.trace(trace)
    finally:
        store.close()
    if info.status != "running" or "worker" not in info.settings:
        return None
    return int(info.settings["worker"].rpartition(":")[2])


@pytest.fixture
def fast_heartbeats(monkeypatch):
    monkeypatch.setenv("PYRONA_HEARTBEAT", "1")


def test_two_workers_run_every_upload_and_a_killed_workers_run_is_finished_elsewhere(
        pg_url, tmp_path, fast_heartbeats):
    workers = []
    with ServerProcess(pg_url, tmp_path / "web.log", options=("--workers", "0")) as web:
        try:
            workers = [Worker(pg_url, tmp_path / f"worker{i}.log") for i in range(2)]
            slow = post(web.base, "slow.py", SLOW)
            program = "xs = []\nfor i in range({}):\n    xs.append([i])\n"
            quick = [post(web.base, f"quick{i}.py", program.format(i + 3)) for i in range(19)]
            pid = wait_for(lambda: worker_of(pg_url, slow), 120, "the slow run never started")
            wait_for(lambda: get(web.base, f"/api/traces/{slow}")["steps"] > 0, 60, "nothing copied yet")
            victim = next(w for w in workers if w.pid == pid)
            victim.kill()  # mid-run: its run is retried by the other worker
            everything = [slow, *quick]

            def all_ended() -> bool:
                return all(get(web.base, f"/api/traces/{t}")["status"] in ("done", "failed")
                           for t in everything)

            wait_for(all_ended, 240, "not every upload ended")
            ended = {t: get(web.base, f"/api/traces/{t}") for t in everything}
            assert {t: info["status"] for t, info in ended.items()} == dict.fromkeys(everything, "done")
            survivor = next(w for w in workers if w is not victim)
            assert survivor.proc.poll() is None
            # the slow run was done again, whole, elsewhere: as many steps as the program has lines run
            assert ended[slow]["steps"] >= 1200 and ended[slow]["summary"]["sandbox"] in ("bwrap", "rlimits")
            for i, trace in enumerate(quick):
                store = TraceStore(pg_url, readonly=True)
                assert store.step_count(trace) == ended[trace]["steps"] > i
                store.close()
            # the page's progress stream reads what a worker elsewhere wrote
            with urllib.request.urlopen(f"{web.base}/api/traces/{slow}/progress", timeout=30) as answer:
                events = [json.loads(line[5:]) for line in answer.read().decode().splitlines()
                          if line.startswith("data:")]
            assert events[-1]["status"] == "done" and events[-1]["steps"] == ended[slow]["steps"]
        finally:
            for worker in workers:
                worker.stop()


def test_a_run_whose_worker_dies_twice_fails_and_nothing_is_left_running(pg_url, tmp_path, fast_heartbeats):
    with ServerProcess(pg_url, tmp_path / "web.log", options=("--workers", "0")) as web:
        slow = post(web.base, "slow.py", SLOW.replace("600", "5000"))
        for attempt in range(2):
            worker = Worker(pg_url, tmp_path / f"worker{attempt}.log", concurrency=1)
            try:
                wait_for(lambda w=worker: worker_of(pg_url, slow) == w.pid, 120, f"attempt {attempt} not run")
                worker.kill()
            finally:
                worker.stop()
            # (the next worker's periodic check finds it stalled: queued again, then taken)
        checker = Worker(pg_url, tmp_path / "checker.log", concurrency=1)
        try:
            info = wait_for(lambda: (i := get(web.base, f"/api/traces/{slow}"))["status"] == "failed" and i,
                            120, "the run never failed")
        finally:
            checker.stop()
        assert info["message"] == LOST
        with psycopg.connect(pg_url) as db:
            assert db.execute("SELECT status, attempts FROM procrastinate_jobs WHERE task_name = 'pyrona.run'"
                              ).fetchall() == [("failed", 2)]  # two attempts, both lost
            assert db.execute("SELECT COUNT(*) FROM traces WHERE status IN ('queued', 'running')"
                              ).fetchone()[0] == 0


def test_serve_with_postgresql_runs_uploads_in_its_own_pool_and_cancels_through_the_store(pg_url, tmp_path):
    with ServerProcess(pg_url, tmp_path / "web.log", options=("--workers", "1")) as web:
        slow = post(web.base, "slow.py", SLOW.replace("600", "5000"))
        quick = post(web.base, "quick.py", "x = [1]\ny = [x]\n")  # waits: one run at a time
        wait_for(lambda: get(web.base, f"/api/traces/{slow}")["steps"] > 0, 60, "the slow run never ran")
        request = urllib.request.Request(f"{web.base}/api/traces/{slow}", method="DELETE")
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 204
        info = wait_for(lambda: (i := get(web.base, f"/api/traces/{quick}"))["status"] == "done" and i, 60,
                        "the queued run never ran after the slow one was deleted")
        assert info["steps"] == 2
        store = TraceStore(pg_url, readonly=True)
        assert [t.id for t in store.traces()] == [quick]
        assert store.trace(quick).settings["queue"] == "procrastinate"
        store.close()
        # an export is a task of the same queue: the server's own pool draws it
        _status, page = post_json(web.base, f"/api/traces/{quick}/exports", {"format": "html"})
        done = ended_export(web.base, page["id"])
        assert done["status"] == "done", done["message"]
        assert offline_data(download(web.base, done["download"])[1].decode())["paths"]
        with psycopg.connect(pg_url) as db:
            [(worker,)] = db.execute("SELECT worker FROM exports").fetchall()
        assert int(worker.rpartition(":")[2]) == web.pid


def post_json(base: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.load(answer)


def ended_export(base: str, export: str) -> dict:
    """The export's ExportInfo once it is done or failed."""
    return wait_for(lambda: (i := get(base, f"/api/exports/{export}"))["status"] in ("done", "failed") and i,
                    240, "the export never ended")


def download(base: str, path: str) -> tuple[dict, bytes]:
    with urllib.request.urlopen(base + path, timeout=60) as answer:
        return dict(answer.headers), answer.read()


def offline_data(page: str) -> dict:
    """The answers an exported page holds (gzipped JSON in base64, `server/offline.py`)."""
    packed = re.search(r'<script type="application/gzip" id="offline-data">([^<]+)</script>', page)
    assert packed, "the page holds no offline data"
    return json.loads(gzip.decompress(base64.b64decode(packed[1])))


def test_exports_are_drawn_by_a_worker_and_kept_in_the_database(pg_url, tmp_path, fast_heartbeats):
    with ServerProcess(pg_url, tmp_path / "web.log", options=("--workers", "0")) as web:
        program = "class Job:\n    pass\n\njobs = [Job() for i in range(3)]\nfirst = jobs[0]\n"
        worker = Worker(pg_url, tmp_path / "worker.log", concurrency=1)
        try:
            trace = post(web.base, "jobs.py", program)
            wait_for(lambda: get(web.base, f"/api/traces/{trace}")["status"] == "done", 120, "not traced")
        finally:
            worker.stop()
        # no worker now: the web process (--workers 0) draws nothing itself, the exports wait
        status, png = post_json(web.base, f"/api/traces/{trace}/exports", {"format": "png", "step": -1})
        assert status == 202 and png["status"] == "queued"
        _status, page = post_json(web.base, f"/api/traces/{trace}/exports", {"format": "html", "step": 2})
        time.sleep(3)
        assert get(web.base, f"/api/exports/{png['id']}")["status"] == "queued"
        worker = Worker(pg_url, tmp_path / "worker2.log", concurrency=2)
        try:
            for export in (png, page):
                done = ended_export(web.base, export["id"])
                assert done["status"] == "done", done["message"]
                assert done["download"] == f"/api/exports/{export['id']}/file"
            with psycopg.connect(pg_url) as db:
                rows = dict(db.execute("SELECT id, worker FROM exports").fetchall())
            assert {int(w.rpartition(":")[2]) for w in rows.values()} == {worker.pid}  # drawn by the worker
        finally:
            worker.stop()
        # the files come from the database, whichever web process asks
        headers, data = download(web.base, f"/api/exports/{png['id']}/file")
        assert headers["content-type"] == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n"
        assert 'filename="trace-' in headers["content-disposition"]
        assert Image.open(io.BytesIO(data)).size == (1280, 720) and len(data) > 5_000
        headers, data = download(web.base, f"/api/exports/{page['id']}/file")
        assert headers["content-type"].startswith("text/html")
        answers = offline_data(data.decode())
        steps = get(web.base, f"/api/traces/{trace}")["steps"]
        assert f"/api/traces/{trace}/steps/{steps - 1}" in answers["paths"]
        assert any("Job" in text for text in answers["texts"])
        with psycopg.connect(pg_url) as db:  # (procrastinate deletes the jobs that succeeded)
            assert db.execute("SELECT COUNT(*) FROM procrastinate_jobs WHERE task_name = 'pyrona.export'"
                              ).fetchone()[0] == 0
            assert db.execute("SELECT size > 5000 FROM exports WHERE id = %s", (png["id"],)).fetchone()[0]


def export_processes(url: str) -> list[int]:
    """The export child processes drawing from the database at `url` (their arguments name it)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pyrona.server.export_process" in command and url.encode() in command:
            found.append(int(pid))
    return found


def test_an_export_whose_worker_dies_fails_and_its_chromium_goes_too(pg_url, tmp_path, fast_heartbeats):
    program = "xs = [[i] for i in range(40)]\nys = {i: [i] for i in range(40)}\n"
    with ServerProcess(pg_url, tmp_path / "web.log", options=("--workers", "0")) as web:
        worker = Worker(pg_url, tmp_path / "worker.log", concurrency=1)
        try:
            trace = post(web.base, "many.py", program)
            wait_for(lambda: get(web.base, f"/api/traces/{trace}")["status"] == "done", 120, "not traced")
            steps = get(web.base, f"/api/traces/{trace}")["steps"]
            slides = list(range(0, steps, max(1, steps // 30)))[:30]  # (half a minute or more to draw)
            _status, gif = post_json(web.base, f"/api/traces/{trace}/exports",
                                     {"format": "gif", "bookmarks": slides})
            wait_for(lambda: get(web.base, f"/api/exports/{gif['id']}")["status"] == "running", 120,
                     "the export never started")
            wait_for(lambda: export_processes(pg_url), 30, "no export process")
            worker.kill()  # mid-export
        finally:
            worker.stop()
        wait_for(lambda: not export_processes(pg_url), 10, "the dead worker's export kept drawing")
        checker = Worker(pg_url, tmp_path / "checker.log", concurrency=1)
        try:
            info = wait_for(lambda: (i := get(web.base, f"/api/exports/{gif['id']}"))["status"] == "failed"
                            and i, 120, "the export never failed")
        finally:
            checker.stop()
        assert info["message"] == EXPORT_LOST and info["download"] is None
