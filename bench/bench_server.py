"""The server under a burst of uploads: are reads still quick, do the runs drain fairly?

A real `pyrona serve` (free port of 127.0.0.1, temporary store, the samples traced
first) gets --uploads concurrent uploads (multipart, each a copy of a sample program
under its own name) while --browsers simulated visitors keep browsing: the home page,
the trace list and samples (API), a trace page, its steps and one step (API). The
bench then waits for every run to end (at most --deadline seconds) and prints:

- failed requests (anything but the expected status, or no answer): must be 0;
- throughput: uploads accepted per second, runs done per second;
- latency p50/p95/p99 of GET / and of the API reads, idle (before), during the
  burst of uploads, and while the queue drains (runs writing their traces);
- the queue: the most runs seen running at once (at most the server's workers), and
  how far runs ended out of upload order (0: strictly in order);
- the server's peak RSS (VmHWM of its process; the sandboxed runs are processes of
  their own, not counted).

Bounded and self-stopping; it talks to 127.0.0.1 only.

    .venv/bin/python bench/bench_server.py [--uploads 50] [--browsers 4] [--deadline 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from pyrona.server.launch import ServeError, ServerProcess
from pyrona.server.settings import Limits, ServerSettings

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "sample_programs" / "linked_list.py"
HEAVY = ROOT / "bench" / "programs" / "store_heavy.py"
FINAL = {"done", "failed", "truncated"}


class Recorder:
    """Latencies by (phase, kind) and the requests that failed."""

    def __init__(self) -> None:
        self.phase = "idle"
        self.times: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.failed: list[str] = []

    async def get(self, client: httpx.AsyncClient, kind: str, url: str,
                  expect: int = 200) -> httpx.Response | None:
        phase, start = self.phase, time.perf_counter()
        try:
            answer = await client.get(url)
        except httpx.HTTPError as exc:
            self.failed.append(f"GET {url}: {type(exc).__name__} {exc}")
            return None
        self.times[phase, kind].append(time.perf_counter() - start)
        if answer.status_code != expect:
            self.failed.append(f"GET {url}: {answer.status_code}")
            return None
        return answer


async def browse(client: httpx.AsyncClient, rec: Recorder, traces: list[int], stop: asyncio.Event,
                 seed: int) -> None:
    """One visitor: the home page and its API calls, then a trace page and its steps, again and again."""
    turn = seed
    while not stop.is_set():
        await rec.get(client, "GET /", "/")
        await rec.get(client, "API list", "/api/traces")
        await rec.get(client, "API list", "/api/samples")
        trace = traces[turn % len(traces)]
        await rec.get(client, "trace page", f"/traces/{trace}")
        answer = await rec.get(client, "API steps", f"/api/traces/{trace}/steps?first=0&count=200")
        if answer is not None and (total := answer.json()["total"]):
            await rec.get(client, "API steps", f"/api/traces/{trace}/steps/{(turn * 7) % total}")
        turn += 1
        await asyncio.sleep(0.02)  # a visitor's think time (short: this is a load test)


async def upload(client: httpx.AsyncClient, rec: Recorder, n: int, source: bytes) -> int | None:
    start = time.perf_counter()
    try:
        files = {"file": (f"upload_{n:03d}.py", source, "text/x-python")}
        answer = await client.post("/api/traces", files=files)
    except httpx.HTTPError as exc:
        rec.failed.append(f"POST upload {n}: {type(exc).__name__} {exc}")
        return None
    rec.times["burst", "POST upload"].append(time.perf_counter() - start)
    if answer.status_code != 201:
        rec.failed.append(f"POST upload {n}: {answer.status_code} {answer.text[:200]}")
        return None
    return answer.json()["id"]


async def watch_runs(client: httpx.AsyncClient, rec: Recorder, ids: list[int], deadline: float,
                     ended: dict[int, float]) -> int:
    """Poll the trace list until every run ended (or the deadline); the most seen running at once."""
    most = 0
    wanted = set(ids)
    while time.monotonic() < deadline:
        answer = await rec.get(client, "API list", "/api/traces")
        if answer is not None:
            statuses = {t["id"]: t["status"] for t in answer.json()["traces"]}
            most = max(most, sum(1 for s in statuses.values() if s == "running"))
            now = time.monotonic()
            for trace in wanted - ended.keys():
                if statuses.get(trace) in FINAL:
                    ended[trace] = now
            if ended.keys() >= wanted:
                break
        await asyncio.sleep(0.1)
    return most


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def quantiles_ms(values: list[float]) -> list[float]:
    """The 1st to 99th percentiles, in ms."""
    ms = sorted(v * 1000 for v in values)
    return statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    q = quantiles_ms(values)
    return f"{q[49]:7.1f} {q[94]:7.1f} {q[98]:7.1f} {max(values) * 1000:7.1f}   n={len(values)}"


def out_of_order(ids: list[int], ended: dict[int, float]) -> int:
    """The largest distance between a run's place in upload order and its place in end order."""
    order = sorted((t for t in ids if t in ended), key=lambda t: (ended[t], t))
    place = {t: i for i, t in enumerate(sorted(order))}
    return max((abs(place[t] - i) for i, t in enumerate(order)), default=0)


async def bench(base: str, pid: int, program: Path, uploads: int, heavy: int, browsers: int,
                deadline_s: float) -> int:
    rec = Recorder()
    source = program.read_bytes()
    limits = httpx.Limits(max_connections=uploads + browsers + 8)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        listed = (await client.get("/api/traces")).json()["traces"]
        traces = [t["id"] for t in listed if t["status"] == "done"]
        if not traces:
            print("error: no finished trace to browse (the samples did not run?)", file=sys.stderr)
            return 1
        stop = asyncio.Event()
        visitors = [asyncio.create_task(browse(client, rec, traces, stop, i)) for i in range(browsers)]
        await asyncio.sleep(3)  # idle figures first

        t0 = time.monotonic()
        rec.phase = "burst"
        heavy_ids = [await upload(client, rec, 1000 + n, HEAVY.read_bytes()) for n in range(heavy)]
        await asyncio.sleep(3 if heavy else 0)  # the heavy runs are under way, copying their traces
        ids = [i for i in await asyncio.gather(*(upload(client, rec, n, source) for n in range(uploads)))
               if i is not None]
        ids = [i for i in heavy_ids if i is not None] + ids
        t_uploaded = time.monotonic()

        rec.phase = "draining"
        ended: dict[int, float] = {}
        most_running = await watch_runs(client, rec, ids, t0 + deadline_s, ended)
        t_end = time.monotonic()
        stop.set()
        await asyncio.gather(*visitors)
        statuses = {t["id"]: t["status"] for t in (await client.get("/api/traces")).json()["traces"]}

    upload_s, drain_s = t_uploaded - t0, t_end - t0
    done = sum(1 for t in ids if statuses.get(t) == "done")
    print(f"uploads: {heavy} x {HEAVY.relative_to(ROOT)} first (big traces, running meanwhile), then "
          f"{uploads} x {program.name} ({len(source)} bytes) at once; {browsers} visitors browsing "
          f"{len(traces)} traces")
    print(f"server: workers={ServerSettings(db=Path()).workers}, limits {Limits()}")
    print()
    print(f"failed requests: {len(rec.failed)}")
    for line in rec.failed[:10]:
        print("   ", line)
    print(f"uploads: {len(ids)} accepted in {upload_s:.2f} s = {len(ids) / upload_s:.1f} uploads/s")
    print(f"runs: {len(ended)}/{len(ids)} ended ({done} done, statuses "
          f"{dict(sorted(_count(statuses.get(t, '?') for t in ids).items()))}) in {drain_s:.1f} s "
          f"= {len(ended) / drain_s:.2f} runs/s")
    print(f"queue: at most {most_running} running at once; largest end-order displacement "
          f"{out_of_order(ids, ended)} (0 = strictly in upload order)")
    print(f"server peak RSS: {peak_rss_mb(pid):.0f} MB")
    print()
    print(f"{'latency (ms)':28} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for phase in ("idle", "burst", "draining"):
        for kind in ("GET /", "API list", "trace page", "API steps", "POST upload"):
            if (phase, kind) in rec.times:
                print(f"  {phase:9} {kind:17} {percentiles(rec.times[phase, kind])}")
    burst_home = rec.times.get(("burst", "GET /"), [])
    if burst_home:
        p99 = quantiles_ms(burst_home)[98]
        print(f"\nGET / p99 during the burst: {p99:.0f} ms (target < 300 ms)")
    missing = len(ids) - len(ended)
    if rec.failed or missing or len(ids) < uploads + heavy:
        print(f"error: {len(rec.failed)} failed requests, {missing} runs did not end", file=sys.stderr)
        return 1
    return 0


def _count(items: object) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for item in items:  # type: ignore[attr-defined]
        counts[item] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--browsers", type=int, default=4)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds to wait for the runs")
    parser.add_argument("--program", type=Path, default=PROGRAM, help="the program uploaded")
    parser.add_argument("--heavy", type=int, default=2,
                        help="uploads of bench/programs/store_heavy.py sent first, so the burst "
                             "meets runs that write big traces")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pyrona-bench-server-") as tmp:
        folder = Path(tmp)
        try:
            started = time.monotonic()
            with ServerProcess(folder / "traces.db", folder / "serve.log", samples=True,
                               timeout=180) as server:
                print(f"server up (samples traced) in {time.monotonic() - started:.1f} s")
                status = asyncio.run(bench(server.base, server.pid, args.program, args.uploads, args.heavy,
                                           args.browsers, args.deadline))
        except ServeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
