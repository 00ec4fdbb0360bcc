"""Instructions executed to trace a program, counted by valgrind (callgrind): before and after.

On a machine shared with others, CPU seconds of one change that saves 2 % drift by
more than that between two runs of the same code. Instructions do not: traced
in-process with no checkpoints by time (so nothing depends on the clock) and a fixed
hash seed, two runs of the same checkout agree to about 0.1 % (ids, thus dict probes,
still vary a little with addresses). Instructions are not time (a cache miss is one
instruction), so keep what wins here *and* does not lose in bench_tracer.py.

    .venv/bin/python bench/bench_instructions.py PROGRAM [--before OTHER_CHECKOUT/.venv/bin/python]
        [--cap STEPS]

About 40 s per count (valgrind runs the tracer some 50 times as slow).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: traces argv[1] into the store argv[2] in-process, checkpoints by time off
DRIVER = """
import sys
from pyrona.tracer import monitor
monitor.CHECKPOINT_EVERY = float("inf")
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.tracer.run import TraceStopped
try:
    steps = trace_program(sys.argv[1], TraceStore(sys.argv[2]), max_steps=int(sys.argv[3]),
                          stop_when_truncated=True).steps
except TraceStopped:  # (the cap: the program is not run on untraced, which would count its own work)
    steps = int(sys.argv[3])
print("STEPS", steps)
"""


def count(python: str, program: Path, tmp: Path, cap: int = 3_000_000) -> tuple[int, int]:
    """(instructions, steps) of tracing `program` with the pyrona of `python`."""
    db, out = tmp / "count.db", tmp / "callgrind.out"
    for old in tmp.glob("count.db*"):
        old.unlink()
    proc = subprocess.run(
        # (-P, and a neutral directory: the checkout of `python` is imported, never this one)
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python, "-P", "-c", DRIVER,
         str(program.resolve()), str(db), str(cap)],
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, cwd=tmp)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    steps = re.search(r"STEPS (\d+)", proc.stdout)
    if proc.returncode != 0 or found is None or steps is None:
        raise SystemExit(f"valgrind failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return int(found.group(1)), int(steps.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program", type=Path)
    parser.add_argument("--before", help="another checkout's venv python, counted too")
    parser.add_argument("--cap", type=int, default=3_000_000, help="steps traced (the process stops there)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="pyrona-ir-") as tmp:
        now, steps = count(sys.executable, args.program, Path(tmp), args.cap)
        print(f"{args.program.name}: {steps:,} steps, now {now:,} instructions ({now / steps:,.0f} a step)")
        if args.before:
            before, _ = count(args.before, args.program, Path(tmp), args.cap)
            print(f"before ({args.before}): {before:,} ({before / steps:,.0f} a step): now/before "
                  f"{now / before:.3f}")


if __name__ == "__main__":
    main()
