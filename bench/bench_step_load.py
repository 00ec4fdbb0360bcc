"""Loading one step of a big or long trace, on both store backends, and pyrona's start-up.

Three programs are traced into a SQLite store and into PostgreSQL (PYRONA_TEST_POSTGRES,
or a throwaway cluster): a big graph kept for a long run (graph_long.py: 20,003 objects,
~1,060,000 steps), the 1M-line loop (loop_heavy.py) and the 20,000-object graph
(object_heavy.py). For a step near the start, in the middle and at the end of each:

- `TraceStore.step`: the first read in a process (`cold`: nothing decoded yet), then
  --reads more (median, p95): the target is < 50 ms;
- the step API (`GET /api/traces/{id}/steps/{n}`) and the mermaid API (`.../mermaid`,
  which reads two steps) of a real `pyrona serve` on that store, --reads each after a
  first one (median, p95; `first` apart): the target is < 100 ms.

Then the start-up: plain Python and `pyrona trace` on an empty program, medians of --runs,
alternating (target: at most 2x). Every trace's steps are printed with its cap, so a run
cut short is seen.

    .venv/bin/python bench/bench_step_load.py [--reads 15] [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from pyrona.server.launch import ServerProcess
from pyrona.tracer.decoded import DECODED_ROWS
from pyrona.tracer.store import TraceStore

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import pg_cluster  # noqa: E402  (the tests' throwaway PostgreSQL)

PROGRAMS = {"graph_long": HERE / "programs" / "graph_long.py",
            "loop_heavy": HERE / "programs" / "loop_heavy.py",
            "object_heavy": HERE / "programs" / "object_heavy.py"}
PYRONA = str(Path(sys.executable).with_name("pyrona"))
MAX_STEPS = 3_000_000  # above every program's steps: a trace cut short says so
STEP_TARGET, API_TARGET, STARTUP_TARGET = 50.0, 100.0, 2.0


def trace(program: Path, where: str) -> int:
    out = subprocess.run([PYRONA, "trace", str(program), "--db", where, "--max-steps", str(MAX_STEPS)],
                         check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1])  # (`pyrona trace` ends with the trace's id)


def ms(times: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p95 * 1e3


def flag(value: float, target: float) -> str:
    return "" if value < target else " !"


def positions(total: int) -> dict[str, int]:
    return {"start": min(total - 1, max(total // 100, 1)), "middle": total // 2, "end": total - 1}


def store_reads(where: str, traces: dict[str, int], reads: int) -> list[tuple]:
    rows = []
    for name, tid in traces.items():
        for place, index in positions(TraceStore(where, readonly=True).step_count(tid)).items():
            DECODED_ROWS.clear()
            store = TraceStore(where, readonly=True)
            start = time.perf_counter()
            graph = store.step(tid, index)
            cold = time.perf_counter() - start
            times = []
            for _ in range(reads):
                start = time.perf_counter()
                store.step(tid, index)
                times.append(time.perf_counter() - start)
            store.close()
            rows.append((name, place, index, len(graph.nodes), cold * 1e3, *ms(times)))
    return rows


def api_reads(base: str, traces: dict[str, int], totals: dict[str, int], reads: int) -> list[tuple]:
    rows = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for name, tid in traces.items():
            for place, index in positions(totals[name]).items():
                found = {}
                for kind, url in (("step", f"/api/traces/{tid}/steps/{index}"),
                                  ("mermaid", f"/api/traces/{tid}/steps/{index}/mermaid")):
                    times = []
                    for _ in range(reads + 1):
                        start = time.perf_counter()
                        client.get(url).raise_for_status()
                        times.append(time.perf_counter() - start)
                    found[kind] = (times[0] * 1e3, *ms(times[1:]))
                rows.append((name, place, index, *found["step"], *found["mermaid"]))
    return rows


def startup(runs: int) -> tuple[float, float]:
    empty = HERE / "programs" / "empty.py"
    folder = Path(tempfile.mkdtemp(prefix="pyrona-bench-startup-"))
    plain, traced = [], []
    # (as a user's machine runs it: bytecode written by the first run, then read)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PYRONA, "trace", str(empty), "--db", str(folder / "warm.db")], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for run in range(runs):
        for times, cmd in ((plain, [sys.executable, str(empty)]),
                           (traced, [PYRONA, "trace", str(empty), "--db", str(folder / f"{run}.db")])):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
    return statistics.median(plain), statistics.median(traced)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=15, help="reads per measurement after the first")
    parser.add_argument("--runs", type=int, default=11, help="start-up runs (median)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pyrona-bench-step-load-"))
    server = pg_cluster.start()
    try:
        for backend, where in (("sqlite", str(folder / "traces.db")), ("postgresql", server.url())):
            traces = {name: trace(program, where) for name, program in PROGRAMS.items()}
            store = TraceStore(where, readonly=True)
            totals = {name: store.step_count(tid) for name, tid in traces.items()}
            cut = {name: ", CUT" if store.trace(tid).truncated else "" for name, tid in traces.items()}
            said = [f"{name} {totals[name]:,} steps (cap {MAX_STEPS:,}{cut[name]})" for name in traces]
            print(f"\n== {backend}: " + ", ".join(said))
            store.close()
            print(f"TraceStore.step, ms (target < {STEP_TARGET:g}; cold: the first read in a process; "
                  f"then {args.reads} reads)")
            print(f"{'trace':13} {'where':7} {'step':>9} {'objects':>7} {'cold':>7} {'median':>7} {'p95':>7}")
            for name, place, index, objects, cold, median, p95 in store_reads(where, traces, args.reads):
                print(f"{name:13} {place:7} {index:>9,} {objects:>7,} {cold:7.1f} "
                      f"{median:7.1f}{flag(median, STEP_TARGET):2} {p95:7.1f}{flag(p95, STEP_TARGET)}",
                      flush=True)
            log = folder / f"serve-{backend}.log"
            web_only = ("--workers", "0") if backend == "postgresql" else ()
            with ServerProcess(where, log, options=web_only) as web:
                print(f"API over HTTP, ms (target < {API_TARGET:g}; first request, then median and p95 of "
                      f"{args.reads})")
                print(f"{'trace':13} {'where':7} {'step':>9} {'step API':>8} {'median':>7} {'p95':>7} "
                      f"{'mermaid':>8} {'median':>7} {'p95':>7}")
                for name, place, index, *t in api_reads(web.base, traces, totals, args.reads):
                    cells = [f"{t[0]:8.1f}", f"{t[1]:7.1f}{flag(t[1], API_TARGET):2}",
                             f"{t[2]:5.1f}{flag(t[2], API_TARGET):2}", f"{t[3]:7.1f}",
                             f"{t[4]:7.1f}{flag(t[4], API_TARGET):2}", f"{t[5]:5.1f}{flag(t[5], API_TARGET)}"]
                    print(f"{name:13} {place:7} {index:>9,} " + " ".join(cells), flush=True)
    finally:
        server.stop()
    plain, traced = startup(args.runs)
    print(f"\nstart-up on an empty program, medians of {args.runs}: plain {plain * 1e3:.0f} ms, pyrona trace "
          f"{traced * 1e3:.0f} ms: {traced / plain:.2f}x (target <= {STARTUP_TARGET:g}x)")
    print("(! marks a figure above its target)")


if __name__ == "__main__":
    main()
