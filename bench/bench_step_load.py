"""Loading one step of a big or long trace, on both store backends, and pyrona's start-up.

Three programs are traced into a SQLite store and into PostgreSQL (PYRONA_TEST_POSTGRES,
or a throwaway cluster): a big graph kept for a long run (graph_long.py: 20,003 objects,
~1,060,000 steps), the 1M-line loop (loop_heavy.py) and the 20,000-object graph
(object_heavy.py). For a step near the start, in the middle and at the end of each:

- `TraceStore.step`: the first read in a process (`cold`: nothing decoded yet; the median
  of --colds processes started for it, each with pyrona's modules imported, as a server
  has them), then --reads more in one process (median, p95): the target is < 50 ms;
- the step API (`GET /api/traces/{id}/steps/{n}`) and the mermaid API (`.../mermaid`,
  which reads two steps) of a real `pyrona serve` on that store: the first request to a
  server started for it (`cold`), then --reads more (median, p95): the target is < 100 ms.

Wall times are what the targets are about; CPU times are printed beside them (the
reader's own, the server's per request), as a machine shared with other work inflates
wall times. Then the start-up: plain Python and `pyrona trace` on an empty program,
medians of --runs, alternating, wall and CPU (target: at most 2x). Every trace's steps
are printed with its cap, so a run cut short is seen.

    .venv/bin/python bench/bench_step_load.py [--reads 15] [--colds 5] [--runs 11] [--startup-only]
        [--backends sqlite,postgresql] [--no-api]
"""

from __future__ import annotations

import argparse
import os
import resource
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


def cold_read(where: str, trace_id: int, index: int) -> tuple[float, float]:
    """(wall, CPU) in ms of the first read of a step in this process (`--cold-child`; the
    modules a read uses are imported already, as in a server that has read before)."""
    store = TraceStore(where, readonly=True)
    wall, cpu = time.perf_counter(), time.process_time()
    store.step(trace_id, index)
    return (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3


def cold_reads(where: str, trace_id: int, index: int, colds: int) -> tuple[float, float]:
    """Medians of (wall, CPU) of `colds` first reads, each in a process of its own."""
    walls, cpus = [], []
    for _ in range(colds):
        out = subprocess.run([sys.executable, __file__, "--cold-child", where, str(trace_id), str(index)],
                             check=True, capture_output=True, text=True).stdout.split()
        walls.append(float(out[0]))
        cpus.append(float(out[1]))
    return statistics.median(walls), statistics.median(cpus)


def store_reads(where: str, traces: dict[str, int], reads: int, colds: int) -> list[tuple]:
    """Per trace and place: (name, place, step, objects, cold wall, cold CPU, median wall, p95
    wall, median CPU), in ms."""
    rows = []
    for name, tid in traces.items():
        for place, index in positions(TraceStore(where, readonly=True).step_count(tid)).items():
            cold = cold_reads(where, tid, index, colds)
            DECODED_ROWS.clear()
            store = TraceStore(where, readonly=True)
            graph = store.step(tid, index)
            walls, cpus = [], []
            for _ in range(reads):
                wall, cpu = time.perf_counter(), time.process_time()
                store.step(tid, index)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            store.close()
            rows.append((name, place, index, len(graph.nodes), *cold, *ms(walls), ms(cpus)[0]))
    return rows


def cpu_of(pid: int) -> float:
    """Seconds of CPU a process has used (user and system, from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def api_reads(where: str, log: Path, options: tuple[str, ...], traces: dict[str, int],
              totals: dict[str, int], reads: int) -> list[tuple]:
    """Per trace and place: (name, place, step, then for the step API and the mermaid API:
    cold wall (the first request to a fresh server), median wall, p95 wall, the server's
    mean CPU per request after the first), in ms. Each API's cold figure comes from a
    server of its own, started for it: nothing decoded, nothing imported on first use."""
    rows = []
    for name, tid in traces.items():
        for place, index in positions(totals[name]).items():
            found = {}
            for kind, url in (("step", f"/api/traces/{tid}/steps/{index}"),
                              ("mermaid", f"/api/traces/{tid}/steps/{index}/mermaid")):
                with ServerProcess(where, log, options=options) as web, \
                        httpx.Client(base_url=web.base, timeout=120) as client:
                    times = []
                    for read in range(reads + 1):
                        if read == 1:
                            used = cpu_of(web.pid)
                        start = time.perf_counter()
                        client.get(url).raise_for_status()
                        times.append(time.perf_counter() - start)
                    found[kind] = (times[0] * 1e3, *ms(times[1:]), (cpu_of(web.pid) - used) / reads * 1e3)
            rows.append((name, place, index, *found["step"], *found["mermaid"]))
    return rows


def startup(runs: int) -> tuple[float, float, float, float]:
    """(plain wall, traced wall, plain CPU, traced CPU): medians, seconds."""
    empty = HERE / "programs" / "empty.py"
    folder = Path(tempfile.mkdtemp(prefix="pyrona-bench-startup-"))
    walls: dict[str, list[float]] = {"plain": [], "trace": []}
    cpus: dict[str, list[float]] = {"plain": [], "trace": []}
    # (as a user's machine runs it: bytecode written by the first run, then read)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PYRONA, "trace", str(empty), "--db", str(folder / "warm.db")], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for run in range(runs):
        for kind, cmd in (("plain", [sys.executable, str(empty)]),
                          ("trace", [PYRONA, "trace", str(empty), "--db", str(folder / f"{run}.db")])):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            walls[kind].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[kind].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return (statistics.median(walls["plain"]), statistics.median(walls["trace"]),
            statistics.median(cpus["plain"]), statistics.median(cpus["trace"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=15, help="reads per measurement after the first")
    parser.add_argument("--colds", type=int, default=5, help="first reads of a step, each in a new process")
    parser.add_argument("--no-api", action="store_true", help="TraceStore.step only (no server)")
    parser.add_argument("--cold-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=11, help="start-up runs (median)")
    parser.add_argument("--startup-only", action="store_true", help="measure the start-up only")
    parser.add_argument("--backends", default="sqlite,postgresql", help="which stores (comma-separated)")
    args = parser.parse_args()
    if args.cold_child:
        where, trace_id, index = args.cold_child
        print(*(f"{t:.3f}" for t in cold_read(where, int(trace_id), int(index))))
        return
    if not args.startup_only:
        step_loads(args)
    plain, traced, plain_cpu, traced_cpu = startup(args.runs)
    print(f"\nstart-up on an empty program, medians of {args.runs}: plain {plain * 1e3:.0f} ms, pyrona trace "
          f"{traced * 1e3:.0f} ms: {traced / plain:.2f}x{flag(traced / plain, STARTUP_TARGET + 1e-9)} "
          f"(target <= {STARTUP_TARGET:g}x); CPU {plain_cpu * 1e3:.0f} ms and {traced_cpu * 1e3:.0f} ms: "
          f"{traced_cpu / plain_cpu:.2f}x")
    print("(! marks a figure above its target)")


def step_loads(args: argparse.Namespace) -> None:
    """Step loads on both backends (the start-up apart)."""
    folder = Path(tempfile.mkdtemp(prefix="pyrona-bench-step-load-"))
    wanted = args.backends.split(",")
    server = pg_cluster.start() if "postgresql" in wanted else None
    try:
        for backend, where in (("sqlite", str(folder / "traces.db")),
                               ("postgresql", server.url() if server else "")):
            if backend not in wanted:
                continue
            traces = {name: trace(program, where) for name, program in PROGRAMS.items()}
            store = TraceStore(where, readonly=True)
            totals = {name: store.step_count(tid) for name, tid in traces.items()}
            cut = {name: ", CUT" if store.trace(tid).truncated else "" for name, tid in traces.items()}
            said = [f"{name} {totals[name]:,} steps (cap {MAX_STEPS:,}{cut[name]})" for name in traces]
            print(f"\n== {backend}: " + ", ".join(said))
            store.close()
            print(f"TraceStore.step, ms (target < {STEP_TARGET:g}; cold: the first read in a process, median "
                  f"of {args.colds} processes; then {args.reads} reads; wall time, and CPU time: the machine "
                  "may be shared)")
            print(f"{'trace':13} {'where':7} {'step':>9} {'objects':>7} {'cold':>7}   {'cpu':>6}   "
                  f"{'median':>7}   {'p95':>7}   {'cpu':>6}")
            for name, place, index, objects, *t in store_reads(where, traces, args.reads, args.colds):
                print(f"{name:13} {place:7} {index:>9,} {objects:>7,} {t[0]:7.1f}{flag(t[0], STEP_TARGET):2} "
                      f"{t[1]:6.1f}{flag(t[1], STEP_TARGET):2} "
                      f"{t[2]:7.1f}{flag(t[2], STEP_TARGET):2} {t[3]:7.1f}{flag(t[3], STEP_TARGET):2} "
                      f"{t[4]:6.1f}{flag(t[4], STEP_TARGET)}", flush=True)
            if args.no_api:
                continue
            log = folder / f"serve-{backend}.log"
            web_only = ("--workers", "0") if backend == "postgresql" else ()
            print(f"API over HTTP, ms (target < {API_TARGET:g}; cold: the first request to a fresh server, "
                  f"then median and p95 of {args.reads}, and the server's mean CPU per request)")
            print(f"{'trace':13} {'where':7} {'step':>9} {'step API':>8} {'median':>7}   {'p95':>7}   "
                  f"{'cpu':>6}   {'mermaid':>8} {'median':>7}   {'p95':>7}   {'cpu':>6}")
            for name, place, index, *t in api_reads(where, log, web_only, traces, totals, args.reads):
                cells = [f"{value:{8 if k % 4 == 0 else 7}.1f}{flag(value, API_TARGET):2}"
                         for k, value in enumerate(t)]
                print(f"{name:13} {place:7} {index:>9,} " + " ".join(cells), flush=True)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
