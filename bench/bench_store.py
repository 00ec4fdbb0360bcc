"""The cost of writing a 1,000,000-step trace into each store backend, side by side.

A sandboxed run writes its trace into a scratch SQLite store; the worker then copies
it into the main store in bulk (`TraceStore.import_trace`): that copy is what a
worker pays per trace. For a loop-heavy program (few rows beside the packed steps)
and a churning one (~700,000 interval rows), each traced once into a scratch store,
the copy into SQLite, into PostgreSQL with COPY (what the store uses) and into
PostgreSQL with batched inserts (psycopg's pipelined executemany), medians of --runs,
alternating; reading and checking the untrusted scratch store, the same for every
backend, is timed apart. With --direct, also `trace_program` straight into each backend (what
`pyrona trace --db URL` does). PostgreSQL: PYRONA_TEST_POSTGRES, or a throwaway cluster.

    .venv/bin/python bench/bench_store.py [--runs N] [--direct]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore, read_run

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import pg_cluster  # noqa: E402  (the tests' throwaway PostgreSQL)

PROGRAMS = {"loop-heavy": HERE / "programs" / "loop_heavy.py",
            "churn-heavy": HERE / "programs" / "churn_heavy.py"}
TABLES = ("nodes", "slots", "regions", "events", "outputs", "step_chunks")


def scratch_trace(program: Path, folder: Path) -> tuple[Path, int, int]:
    """The program traced into a scratch store as the sandbox does: (store, steps, rows)."""
    scratch = folder / f"{program.stem}.db"
    store = TraceStore(scratch)
    trace = store.create_trace(program.name, {}, {})
    with redirect_stdout(io.StringIO()):  # (the program's output: in the store)
        outcome = trace_program(program, store, trace=trace, max_steps=1_100_000)
    rows = sum(store.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES)
    store.close()
    return scratch, outcome.steps, rows


def copy_once(where: str, scratch: Path, program: Path, bulk: str) -> tuple[float, float]:
    """(seconds reading and checking the scratch store, seconds writing it into `where`):
    the two parts of `import_trace`; the first is the same whatever the backend."""
    store = TraceStore(where)
    store.bulk = bulk
    into = store.create_trace(program.name, {program.name: ""}, {})
    start = time.perf_counter()
    done, used = store.import_position(into)
    run, rows = read_run(scratch, done, final=True, folder=str(program.parent), max_steps=1 << 40,
                         output_left=1 << 40, seconds=600)
    read = time.perf_counter()
    run = store.import_rows(into, run, rows)
    written = time.perf_counter()
    assert run.status == "done" and store.step_count(into) == run.steps
    store.delete_trace(into)
    store.close()
    return read - start, written - read


def trace_once(where: str, program: Path) -> float:
    store = TraceStore(where)
    start = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        outcome = trace_program(program, store, max_steps=1_100_000)
    elapsed = time.perf_counter() - start
    store.delete_trace(outcome.trace)
    store.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--direct", action="store_true", help="also trace straight into each backend")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pyrona-bench-store-"))
    server = pg_cluster.start()
    try:
        targets = {"sqlite": (str(folder / "main.db"), "copy"), "pg COPY": (server.url(), "copy"),
                   "pg inserts": (server.url(), "insert")}
        print(f"copy of a run's trace into the main store: medians of {args.runs} runs, seconds; 'check' "
              "reads and checks the scratch store (any backend), the others write what it read")
        print(f"{'program':12} {'steps':>9} {'rows':>8} {'check':>7} " + " ".join(f"{n:>10}" for n in targets)
              + f" {'pg/sqlite':>9} {'ins/COPY':>9}")
        for name, program in PROGRAMS.items():
            scratch, steps, rows = scratch_trace(program, folder)
            times: dict[str, list[float]] = {n: [] for n in targets}
            checks: list[float] = []
            for _ in range(args.runs):
                for label, (where, bulk) in targets.items():
                    check, write = copy_once(where, scratch, program, bulk)
                    times[label].append(write)
                    checks.append(check)
            med = {n: statistics.median(t) for n, t in times.items()}
            print(f"{name:12} {steps:>9,} {rows:>8,} {statistics.median(checks):>7.2f} "
                  + " ".join(f"{med[n]:>10.2f}" for n in targets)
                  + f" {med['pg COPY'] / med['sqlite']:>9.2f} {med['pg inserts'] / med['pg COPY']:>9.2f}",
                  flush=True)
        if args.direct:
            print(f"\ntracing straight into the store (pyrona trace --db): medians of {args.runs} runs, "
                  "seconds")
            print(f"{'program':12} {'sqlite':>10} {'pg COPY':>10} {'pg/sqlite':>9}")
            for name, program in PROGRAMS.items():
                direct: dict[str, list[float]] = {"sqlite": [], "pg COPY": []}
                for _ in range(args.runs):
                    for label in direct:
                        direct[label].append(trace_once(targets[label][0], program))
                med = {n: statistics.median(t) for n, t in direct.items()}
                print(f"{name:12} {med['sqlite']:>10.2f} {med['pg COPY']:>10.2f} "
                      f"{med['pg COPY'] / med['sqlite']:>9.2f}", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
