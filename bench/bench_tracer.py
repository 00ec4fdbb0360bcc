"""The tracer's speed and size, measured side by side in one run.

For a loop-heavy program (~1,000,000 line events), an object-graph-heavy one
(~20,000 objects) and a small teaching program: plain Python, a no-op
sys.monitoring LINE tracer (the floor), and `pyrona trace` with the C accelerator
of its LINE callback and with the pure-Python one (PYRONA_PURE_PYTHON=1), medians
of --runs runs. Times are CPU seconds (user + system) of the whole process: on a
shared machine wall time stretches with the load, CPU time does not. Then steps/s,
bytes stored per step, peak RSS of the 1,000,000-step trace, and the time to load
a random step from the store.

    .venv/bin/python bench/bench_tracer.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyrona.tracer.store import TraceStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROGRAMS = {
    "loop-heavy": HERE / "programs" / "loop_heavy.py",
    "object-graph-heavy": HERE / "programs" / "object_heavy.py",
    "teaching (job_queue)": ROOT / "sample_programs" / "job_queue.py",
}
PYRONA = str(Path(sys.executable).with_name("pyrona"))
#: above every program's step count (the loop's is 1,002,005: the default cap of 1M
#: would cut it); a run that is cut all the same says so in the `cap` column
MAX_STEPS = 3_000_000

RSS_PROBE = """
import resource, sys
from pyrona.tracer.store import TraceStore
from pyrona.tracer.run import trace_program
out = trace_program(sys.argv[1], TraceStore(sys.argv[2]), max_steps=3_000_000)
print("RSS", out.steps, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


#: the environment of each way of tracing (tracer/line.py)
PATHS = {"C": {**os.environ, "PYRONA_PURE_PYTHON": "0"}, "pure": {**os.environ, "PYRONA_PURE_PYTHON": "1"}}


def cpu(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """CPU seconds (user + system) of one process."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return usage.ru_utime + usage.ru_stime


def db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pyrona-bench-"))
    print(f"medians of {args.runs} runs, alternating; CPU seconds")
    print(f"{'program':22} {'steps':>9} {'plain':>7} {'floor':>7} {'C':>7} {'pure':>7} {'C/floor':>8} "
          f"{'pure/fl':>8} {'/plain':>7} {'µs/step':>8} {'steps/s':>9} {'B/step':>7}  cap")
    for name, program in PROGRAMS.items():
        times: dict[str, list[float]] = {"plain": [], "floor": [], "C": [], "pure": []}
        steps = 0
        for run in range(args.runs):
            db = tmp / f"{program.stem}-{run}.db"
            times["plain"].append(cpu([sys.executable, str(program)]))
            times["floor"].append(cpu([sys.executable, str(HERE / "noop_tracer.py"), str(program)]))
            for path, env in PATHS.items():
                for old in tmp.glob(db.name + "*"):
                    old.unlink()
                times[path].append(cpu([PYRONA, "trace", str(program), "--db", str(db),
                                        "--max-steps", str(MAX_STEPS)], env))
            store = TraceStore(db)
            steps = store.step_count(1)
            cut = store.trace(1).truncated or "not reached"
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.close()
            size = db_size(db)
        plain, floor, trace, pure = (statistics.median(times[k]) for k in ("plain", "floor", "C", "pure"))
        print(f"{name:22} {steps:>9,} {plain:7.3f} {floor:7.3f} {trace:7.3f} {pure:7.3f} "
              f"{trace / floor:7.1f}x {pure / floor:7.1f}x {trace / plain:6.1f}x {trace / steps * 1e6:8.2f} "
              f"{steps / trace:9,.0f} {size / steps:7.1f}  {cut}")

    db = tmp / "rss.db"
    probe = subprocess.run([sys.executable, "-c", RSS_PROBE, str(PROGRAMS["loop-heavy"]), str(db)],
                           check=True, capture_output=True, text=True).stdout
    _tag, steps_text, rss_kb = probe.strip().splitlines()[-1].split()
    print(f"\npeak RSS tracing the loop-heavy program ({int(steps_text):,} steps, cap {MAX_STEPS:,}): "
          f"{int(rss_kb) / 1024:.0f} MB")

    store = TraceStore(db)
    total = store.step_count(1)
    rng = random.Random(1)
    loads = []
    for index in (rng.randrange(total) for _ in range(100)):
        start = time.perf_counter()
        store.step(1, index)
        loads.append(time.perf_counter() - start)
    loads.sort()
    print(f"loading a random step of it (100 steps): median {statistics.median(loads) * 1000:.2f} ms, "
          f"p95 {loads[94] * 1000:.2f} ms, max {loads[-1] * 1000:.2f} ms")
    for path in tmp.iterdir():
        os.remove(path)
    tmp.rmdir()


if __name__ == "__main__":
    main()
