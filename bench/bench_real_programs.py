"""The tracer on real programs and at scale, side by side in one run (medians).

Times are CPU seconds (user + system) of the whole process: the machine is shared, and
a loaded machine stretches wall time many times over while CPU time stays put. `pyrona
trace` runs twice side by side: with the C accelerator of the LINE callback ("C", the
default when it was built) and with the pure-Python callback (PYRONA_PURE_PYTHON=1).

1. pyperformance's programs (bench/real_programs.py fetches them from PyPI into a
   cache): plain Python, the no-op floor (bench/noop_tracer.py) and `pyrona trace`;
   µs per step, the ratio to the floor, bytes stored per step, peak RSS, and the
   tracer's own memory (peak RSS traced minus plain).
1b. (--memory) The tracer's own memory at 1,000,000 steps: each program at a size that
   runs past 1M steps, traced with the 1M cap, three runs each: peak RSS of each traced
   run minus the untraced program's, and its spread across the runs.
2. A cursor walking a linked list of 100 ... 100,000 nodes: µs per step of the walk
   alone (a traced run with the walk minus one without, per step of the difference).
3. The 1M-line loop against the floor, with the step cap shown (a capped run would
   measure less than it says).
4. Start-up of `pyrona trace` on an empty program against plain Python, and
   `pyrona run` against plain on the store-heavy program.

With `--before PYRONA` (another checkout's `pyrona`, say `../main/.venv/bin/pyrona`), the
real programs are also traced by that one, alternating with this one, and the table shows
both and their ratio: before/after figures taken side by side under the same load.

    .venv/bin/python bench/bench_real_programs.py [--runs N] [--only NAME,...] [--skip-walk] [--memory]
        [--only-memory] [--only-loop] [--before PYRONA]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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


#: the environment of each way of tracing
PATHS = {"C": {**os.environ, "PYRONA_PURE_PYTHON": "0"}, "pure": {**os.environ, "PYRONA_PURE_PYTHON": "1"}}


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """CPU seconds (user + system) and peak RSS (KB) of one process."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def traced(program: Path, db: Path, path: str = "C", max_steps: int = 0,
           pyrona: str = PYRONA) -> tuple[float, int, int, str, int]:
    """CPU seconds, peak RSS, steps, truncation reason and store bytes of one `pyrona trace`."""
    for old in db.parent.glob(db.name + "*"):
        old.unlink()
    seconds, rss = run([pyrona, "trace", str(program), "--db", str(db), "--max-steps",
                        str(max_steps or MAX_STEPS)], PATHS[path])
    if pyrona != PYRONA:  # (another checkout's store may be of another schema: its time alone)
        return seconds, rss, 0, "", 0
    store = TraceStore(db)
    info = store.traces()[-1]
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return seconds, rss, info.steps, info.truncated or "", size


def real_programs(tmp: Path, runs: int, names: list[str], before: str | None = None) -> None:
    programs = write_programs(tmp / "programs", "bench", names)
    print(f"== pyperformance {', '.join(names)} (bench sizes: bench/real_programs.py); CPU seconds")
    print(f"{'program':14} {'steps':>9} {'plain s':>8} {'floor s':>8} {'C s':>7} {'pure s':>7} "
          f"{'C/floor':>8} {'C µs':>6} {'pure µs':>7} {'pure/C':>6} {'B/step':>7} {'RSS MB':>7} "
          f"{'own MB':>7}  cap")
    per_step, per_step_pure, per_byte, per_step_before = [], [], [], []
    rows_before = []
    for name, program in programs.items():
        plain, floor, trace, pure, rss_plain, rss_trace, earlier = [], [], [], [], [], [], []
        for _ in range(runs):  # (alternating: load that comes and goes hits each alike)
            seconds, rss = run([sys.executable, str(program)])
            plain.append(seconds)
            rss_plain.append(rss)
            floor.append(run([sys.executable, NOOP, str(program)])[0])
            seconds, rss, steps, cut, size = traced(program, tmp / f"{name}.db")
            trace.append(seconds)
            rss_trace.append(rss)
            pure.append(traced(program, tmp / f"{name}.db", "pure")[0])
            if before:
                earlier.append(traced(program, tmp / f"{name}.db", pyrona=before)[0])
        t, f, tp = statistics.median(trace), statistics.median(floor), statistics.median(pure)
        own = (statistics.median(rss_trace) - statistics.median(rss_plain)) / 1024
        us, us_pure = t / steps * 1e6, tp / steps * 1e6
        per_step.append(us)
        per_step_pure.append(us_pure)
        per_byte.append(size / steps)
        print(f"{name:14} {steps:>9,} {statistics.median(plain):8.3f} {f:8.3f} {t:7.3f} {tp:7.3f} "
              f"{t / f:7.1f}x {us:6.2f} {us_pure:7.2f} {tp / t:5.2f}x {size / steps:7.1f} "
              f"{statistics.median(rss_trace) / 1024:7.0f} {own:7.0f}  {cut or 'none'}")
        if before:
            tb = statistics.median(earlier)
            per_step_before.append(tb / steps * 1e6)
            rows_before.append(f"{name:14} before {tb:7.3f} s {tb / steps * 1e6:6.2f} µs/step, "
                               f"now {t:7.3f} s {us:6.2f} µs/step: now/before {t / tb:5.2f}")
    print(f"C: median {statistics.median(per_step):.2f} µs/step (target ≤ 5), "
          f"max {max(per_step):.2f} (≤ 12); pure Python: median {statistics.median(per_step_pure):.2f}, "
          f"max {max(per_step_pure):.2f}; "
          f"median {statistics.median(per_byte):.1f} B/step (≤ 64), max {max(per_byte):.1f} (≤ 120)")
    if before:
        print(f"\n== before ({before}, C) and now, alternating, CPU seconds")
        print("\n".join(rows_before))
        print(f"median µs/step: before {statistics.median(per_step_before):.2f}, "
              f"now {statistics.median(per_step):.2f}")


def memory(tmp: Path, runs: int, names: list[str]) -> None:
    """The tracer's own memory at 1M steps: peak RSS traced minus untraced, run by run."""
    cap = 1_000_000
    programs = write_programs(tmp / "million", "million", names)
    print(f"\n== the tracer's own memory at {cap:,} steps (cap {cap:,}; {runs} runs each): peak RSS of "
          "`pyrona trace` minus the untraced program's (target < 300 MB, within ±20 % across runs)")
    print(f"{'program':14} {'steps':>9} {'plain MB':>8} {'own MB per run':>22} {'median':>7} "
          f"{'spread':>14}  cap")
    worst = 0.0
    for name, program in programs.items():
        plain, owns = [], []
        steps, cut = 0, ""
        for _ in range(runs):
            plain.append(run([sys.executable, str(program)])[1])
            _seconds, rss, steps, cut, _size = traced(program, tmp / f"m-{name}.db", max_steps=cap)
            owns.append(rss)
        base = statistics.median(plain)
        owns = [(rss - base) / 1024 for rss in owns]
        middle = statistics.median(owns)
        # (in MB too: a tracer that holds 3 MB varies by a page table's worth, a third of it)
        spread_mb = max(abs(o - middle) for o in owns)
        spread = spread_mb / middle * 100 if middle > 0 else 0.0
        worst = max(worst, max(owns))
        print(f"{name:14} {steps:>9,} {base / 1024:8.0f} {' '.join(f'{o:6.0f}' for o in owns):>22} "
              f"{middle:7.0f} {spread_mb:5.0f} MB {spread:4.0f}%  {cut or 'not reached'}")
    print(f"largest own memory of any run: {worst:.0f} MB (target < 300)")


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
    floor, trace, pure = [], [], []
    for _ in range(runs):
        floor.append(run([sys.executable, NOOP, str(program)])[0])
        seconds, _rss, steps, cut, size = traced(program, tmp / "loop.db")
        trace.append(seconds)
        pure.append(traced(program, tmp / "loop.db", "pure")[0])
    t, f, tp = statistics.median(trace), statistics.median(floor), statistics.median(pure)
    print(f"\n== the 1M-line loop: {steps:,} steps (cap {MAX_STEPS:,}: {cut or 'not reached'}), CPU: "
          f"floor {f:.3f} s, C {t:.3f} s = {t / f:.1f}x the floor (target ≤ 6x), pure Python {tp:.3f} s = "
          f"{tp / f:.1f}x; C {t / steps * 1e6:.2f} µs/step, {size / steps:.1f} B/step")


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
    for _ in range(max(runs, 7)):  # (a run is 0.1-0.2 s: a median of more is cheap and steadier)
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
    parser.add_argument("--memory", action="store_true", help="the tracer's own memory at 1M steps")
    parser.add_argument("--only-memory", action="store_true", help="that alone")
    parser.add_argument("--only-loop", action="store_true", help="the 1M-line loop alone")
    parser.add_argument("--before", help="another checkout's pyrona, traced side by side (before/after)")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(CALLS)
    tmp = Path(tempfile.mkdtemp(prefix="pyrona-bench-"))
    try:
        print(f"medians of {args.runs} runs, whole process, alternating")
        if args.only_loop:
            loop(tmp, args.runs)
            return
        if args.memory or args.only_memory:
            memory(tmp, args.runs, names)
        if args.only_memory:
            return
        real_programs(tmp, args.runs, names, args.before)
        if not args.skip_walk:
            list_walk(tmp, args.runs)
        loop(tmp, args.runs)
        startup(tmp, args.runs)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
