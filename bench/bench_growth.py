"""Per-step costs that must not grow with a structure's size: a queue consumed at its
front (deque.popleft), a set of tuples growing (a search's visited states), the values
of a dict with object keys replaced one by one. Each program runs the same number of
steps at each size; the traced run's CPU seconds minus the same program's with the
work loop cut to nothing, per step of the loop. Side by side in one run, medians.

    .venv/bin/python bench/bench_growth.py [--runs N] [--sizes 300,3000] [--before PYRONA]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PYRONA = str(Path(sys.executable).with_name("pyrona"))
#: steps of each loop (every size runs this many)
WORK = 4_000

#: name -> program, with {size} (the structure's size) and {work} (iterations of the loop)
PROGRAMS = {
    "deque.popleft (BFS queue)": """\
from collections import deque
q = deque(range({size}))
for _ in range({work}):
    q.append(q.popleft())
""",
    "set of tuples, add": """\
visited = set((i, 'x') for i in range({size}))
for i in range({work}):
    visited.add((i, 'y'))
""",
    "dict object keys, update": """\
class S:
    pass
states = [S() for _ in range({size})]
table = dict.fromkeys(states, 0)
for i in range({work}):
    table[states[i % {size}]] = i
""",
}


def cpu(cmd: list[str]) -> float:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed")
    return usage.ru_utime + usage.ru_stime


def per_step(pyrona: str, source: str, size: int, work: Path) -> float:
    """µs per step of the loop: the full run minus the run without the loop, per loop step."""
    times = []
    for loops in (WORK, 0):
        path = work / f"p{loops}.py"
        path.write_text(source.format(size=size, work=loops))
        db = work / "t.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        times.append(cpu([pyrona, "trace", "--max-steps", "10000000", "--db", str(db), str(path)]))
    return (times[0] - times[1]) / (2 * WORK) * 1e6  # (two steps per iteration: loop line, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="300,3000")
    parser.add_argument("--before", help="another checkout's pyrona, timed alternating with this one")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tools = {"now": PYRONA, **({"before": args.before} if args.before else {})}
    print(f"µs per step of the loop (median of {args.runs}), {WORK:,} iterations at each size")
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in PROGRAMS.items():
            cells = []
            for size in sizes:
                for tool, pyrona in tools.items():
                    values = [per_step(pyrona, source, size, Path(tmp)) for _ in range(args.runs)]
                    cells.append(f"{tool} {size:,}: {statistics.median(values):7.2f}")
            print(f"{name:28} " + "   ".join(cells), flush=True)


if __name__ == "__main__":
    main()
