"""Throughput of a PostgreSQL deployment: traces per minute with 1, 2 and 4 worker processes.

One web process (`pyrona serve --db URL --workers 0`: web only) and N `pyrona worker`
processes (each --concurrency 1, so N runs at once), all on this machine against one
PostgreSQL (PYRONA_TEST_POSTGRES, or a throwaway cluster). --uploads copies of a sample
program are uploaded at once (JSON), then the bench waits for every run to end; the
time from the first upload to the last run's end gives traces per minute. Each N is
measured --runs times, alternating, on a fresh database; medians. On a machine of C
cores, more than C runs at once only share the cores: the figure says what one more
worker process buys here, not on a machine of its own.

    .venv/bin/python bench/bench_queue.py [--uploads 24] [--runs 3] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from pyrona.server.launch import ServerProcess

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import pg_cluster  # noqa: E402  (the tests' throwaway PostgreSQL)

PROGRAM = HERE.parent / "sample_programs" / "linked_list.py"
FINAL = ("done", "failed", "truncated")


def post(base: str, name: str, source: str) -> int:
    request = urllib.request.Request(base + "/api/traces", data=json.dumps({"name": name, "source": source})
                                     .encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)["id"]


def statuses(base: str) -> list[str]:
    with urllib.request.urlopen(base + "/api/traces", timeout=60) as answer:
        return [t["status"] for t in json.load(answer)["traces"]]


def one_round(url: str, workers: int, uploads: int, folder: Path) -> float:
    """Seconds from the first upload to the last run's end, with `workers` worker processes."""
    source = PROGRAM.read_text()
    with ServerProcess(url, folder / f"web-{workers}.log", options=("--workers", "0")) as web:
        logs = [open(folder / f"worker-{workers}-{i}.log", "wb") for i in range(workers)]  # noqa: SIM115
        command = [sys.executable, "-m", "pyrona", "worker", "--db", url, "--concurrency", "1"]
        procs = [subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT) for log in logs]
        try:
            time.sleep(3)  # the workers connect (not timed: a deployment's workers are up already)
            start = time.perf_counter()
            for i in range(uploads):
                post(web.base, f"p{i}.py", source)
            while True:
                seen = statuses(web.base)
                if len(seen) == uploads and all(s in FINAL for s in seen):
                    elapsed = time.perf_counter() - start
                    break
                if time.perf_counter() - start > 900:
                    raise SystemExit("the runs did not end in 900 s")
                time.sleep(0.1)
            if any(s != "done" for s in seen):
                raise SystemExit(f"runs that did not end done: {[s for s in seen if s != 'done']}")
            return elapsed
        finally:
            for proc in procs:
                proc.terminate()
            for proc, log in zip(procs, logs, strict=True):
                proc.wait(timeout=60)
                log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3, help="rounds per worker count (median)")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts (comma-separated)")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="pyrona-bench-queue-"))
    server = pg_cluster.start()
    print(f"{args.uploads} uploads of {PROGRAM.name}, {os.cpu_count()} cores; medians of {args.runs} rounds")
    times: dict[int, list[float]] = {n: [] for n in counts}
    try:
        for _ in range(args.runs):
            for n in counts:
                times[n].append(one_round(server.url(), n, args.uploads, folder))
    finally:
        server.stop()
    base = statistics.median(times[counts[0]])
    print(f"{'workers':>7} {'seconds':>8} {'traces/min':>10} {'speed-up':>8}")
    for n in counts:
        med = statistics.median(times[n])
        print(f"{n:>7} {med:>8.1f} {args.uploads / med * 60:>10.1f} {base / med:>8.2f}")


if __name__ == "__main__":
    main()
