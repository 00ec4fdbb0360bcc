"""The tracer on real programs and at scale, side by side in one run (medians).

1. pyperformance's programs (bench/real_programs.py fetches them from PyPI into a
   cache): plain Python, the no-op floor (bench/noop_tracer.py) and `pyrona trace`;
   µs per step, the ratio to the floor, bytes stored per step, peak RSS, and the
   tracer's own memory (peak RSS traced minus plain).
2. A cursor walking a linked list of 100 ... 100,000 nodes: µs per step of the walk
   alone (a traced run with the walk minus one without, per step of the difference).
3. The 1M-line loop against the floor, with the step cap shown (a capped run would
   measure less than it says).
4. Start-up of `pyrona trace` on an empty program against plain Python, and
   `pyrona run` against plain on the store-heavy program.

    .venv/bin/python bench/bench_real_programs.py [--runs N] [--only NAME,...] [--skip-walk]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyrona.tracer.store import TraceStore

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from real_programs import CALLS, write_programs  # noqa: E402

PYRONA = str(Path(sys.executable).with_name("pyrona"))
NOOP = str(HERE / "noop_tracer.py")
#: above any program here, so no run is cut by the cap (and a run that is says so)
MAX_STEPS = 3_000_000
WALK_SIZES = (100, 1_000, 10_000, 100_000)
#: steps of cursor movement per walk measurement (the list walked again and again)
WALK_STEPS = 100_000

WALK = """\
class Node:
    def __init__(self, value, next):
        self.value = value
        self.next = next


head = None
for i in range({size}):
    head = Node(i, head)
for _ in range({repeats}):
    cursor = head
    while cursor is not None:
        cursor = cursor.next
"""


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss


def traced(program: Path, db: Path) -> tuple[float, int, int, str, int]:
    """Seconds, peak RSS, steps, truncation reason and store bytes of one `pyrona trace`."""
    for old in db.parent.glob(db.name + "*"):
        old.unlink()
    seconds, rss = run([PYRONA, "trace", str(program), "--db", str(db), "--max-steps", str(MAX_STEPS)])
    store = TraceStore(db)
    info = store.traces()[-1]
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return seconds, rss, info.steps, info.truncated or "", size


def real_programs(tmp: Path, runs: int, names: list[str]) -> None:
    programs = write_programs(tmp / "programs", "bench", names)
    print(f"== pyperformance {', '.join(names)} (bench sizes: bench/real_programs.py)")
    print(f"{'program':14} {'steps':>9} {'plain s':>8} {'floor s':>8} {'trace s':>8} {'/floor':>7} "
          f"{'µs/step':>8} {'B/step':>7} {'RSS MB':>7} {'own MB':>7} {'own/1M':>7}  cap")
    per_step, per_byte = [], []
    for name, program in programs.items():
        plain, floor, trace, rss_plain, rss_trace = [], [], [], [], []
        for _ in range(runs):
            seconds, rss = run([sys.executable, str(program)])
            plain.append(seconds)
            rss_plain.append(rss)
            floor.append(run([sys.executable, NOOP, str(program)])[0])
            seconds, rss, steps, cut, size = traced(program, tmp / f"{name}.db")
            trace.append(seconds)
            rss_trace.append(rss)
        t, f = statistics.median(trace), statistics.median(floor)
        own = (statistics.median(rss_trace) - statistics.median(rss_plain)) / 1024
        us = t / steps * 1e6
        per_step.append(us)
        per_byte.append(size / steps)
        spread = f"(own RSS {min(rss_trace) / 1024:.0f}-{max(rss_trace) / 1024:.0f})"
        print(f"{name:14} {steps:>9,} {statistics.median(plain):8.3f} {f:8.3f} {t:8.3f} {t / f:6.1f}x "
              f"{us:8.2f} {size / steps:7.1f} {statistics.median(rss_trace) / 1024:7.0f} {own:7.0f} "
              f"{own * 1e6 / steps:7.0f}  {cut or 'none'} {spread}")
    print(f"median {statistics.median(per_step):.2f} µs/step (target ≤ 5), max {max(per_step):.2f} (≤ 12); "
          f"median {statistics.median(per_byte):.1f} B/step (≤ 64), max {max(per_byte):.1f} (≤ 120)")


def list_walk(tmp: Path, runs: int) -> None:
    print("\n== a cursor walking a linked list: µs per step of the walk alone "
          f"(~{WALK_STEPS:,} walk steps each; traced with walk minus traced without)")
    for size in WALK_SIZES:
        repeats = max(1, WALK_STEPS // (2 * size))
        walk, build = tmp / f"walk{size}.py", tmp / f"build{size}.py"
        walk.write_text(WALK.format(size=size, repeats=repeats))
        build.write_text(WALK.format(size=size, repeats=0))
        with_walk, without = [], []
        steps = (0, 0)
        for _ in range(runs):
            a = traced(walk, tmp / "walk.db")
            b = traced(build, tmp / "build.db")
            with_walk.append(a[0])
            without.append(b[0])
            steps = (a[2], b[2])
            if a[3] or b[3]:
                print(f"  {size}: cut by a cap: {a[3] or b[3]}")
        extra = steps[0] - steps[1]
        us = (statistics.median(with_walk) - statistics.median(without)) / extra * 1e6
        print(f"  {size:>7,} nodes: {us:7.2f} µs/step  ({extra:,} walk steps, {steps[1]:,} to build)")


def loop(tmp: Path, runs: int) -> None:
    program = HERE / "programs" / "loop_heavy.py"
    floor, trace = [], []
    for _ in range(runs):
        floor.append(run([sys.executable, NOOP, str(program)])[0])
        seconds, _rss, steps, cut, size = traced(program, tmp / "loop.db")
        trace.append(seconds)
    t, f = statistics.median(trace), statistics.median(floor)
    print(f"\n== the 1M-line loop: {steps:,} steps (cap {MAX_STEPS:,}: {cut or 'not reached'}), "
          f"floor {f:.3f} s, trace {t:.3f} s = {t / f:.1f}x the floor (target ≤ 6x), "
          f"{t / steps * 1e6:.2f} µs/step, {size / steps:.1f} B/step")


def startup(tmp: Path, runs: int) -> None:
    empty = HERE / "programs" / "empty.py"
    plain = statistics.median(run([sys.executable, str(empty)])[0] for _ in range(max(runs, 5)))
    traces = []
    for _ in range(max(runs, 5)):
        traces.append(traced(empty, tmp / "empty.db")[0])
    t = statistics.median(traces)
    print(f"\n== start-up on an empty program: plain {plain * 1000:.0f} ms, pyrona trace {t * 1000:.0f} ms "
          f"= {t / plain:.1f}x (target ≤ 2x)")
    store_heavy = HERE / "programs" / "store_heavy.py"
    plains, runs_ = [], []
    for _ in range(runs):
        plains.append(run([sys.executable, str(store_heavy)])[0])
        runs_.append(run([PYRONA, "run", str(store_heavy)])[0])
    p, r = statistics.median(plains), statistics.median(runs_)
    print(f"== pyrona run on the store-heavy program: plain {p:.3f} s, pyrona run {r:.3f} s "
          f"= {r / p:.1f}x (target ≤ 3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--only", help="comma-separated program names (default: all)")
    parser.add_argument("--skip-walk", action="store_true", help="leave out the list walk")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(CALLS)
    tmp = Path(tempfile.mkdtemp(prefix="pyrona-bench-"))
    try:
        print(f"medians of {args.runs} runs, whole process, alternating")
        real_programs(tmp, args.runs, names)
        if not args.skip_walk:
            list_walk(tmp, args.runs)
        loop(tmp, args.runs)
        startup(tmp, args.runs)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
