"""Behaviours on pyrona's threads next to the same program on bocpy's sub-interpreters.

Runs bench/programs/behaviours_cpu.py (8 CPU-bound behaviours on disjoint cowns) as:
bocpy (its import changed; sub-interpreters, bocpy's default worker count), `pyrona run`
with a pool of threads, and `pyrona run` one behaviour at a time; prints the median wall
time of each and its ratio to bocpy's, measured in the same run. bocpy's wheel is taken
from the cache the tests fill (tests/test_bocpy_examples.py), downloaded if missing.

    .venv/bin/python bench/bench_behaviours.py [--runs N] [--size N] [--workers N]
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

HERE = Path(__file__).resolve().parent
PROGRAM = HERE / "programs" / "behaviours_cpu.py"
BOCPY = "bocpy==0.14.0"


def bocpy_site() -> Path:
    base = os.environ.get("PYRONA_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyrona-tests")
    cache = Path(base) / BOCPY.replace("==", "-")
    site = cache / "site"
    if not (site / "bocpy").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--target", str(site), BOCPY], check=True)
    return site


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, proc.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=20_000, help="numbers per behaviour")
    parser.add_argument("--workers", type=int, default=2, help="worker threads / interpreters")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        as_bocpy = Path(tmp) / "behaviours_cpu.py"
        source = PROGRAM.read_text(encoding="utf-8")
        as_bocpy.write_text(source.replace("from pyrona import", "from bocpy import"), encoding="utf-8")
        plain = dict(os.environ)
        plain.pop("PYRONA_BOC_SEED", None)
        size, workers = str(args.size), str(args.workers)
        pyrona = [sys.executable, "-m", "pyrona", "run", str(PROGRAM), size, workers]
        variants = {
            "bocpy (sub-interpreters)": ([sys.executable, str(as_bocpy), size, workers],
                                         {**plain, "PYTHONPATH": str(bocpy_site())}),
            "pyrona run (threads)": (pyrona, plain),
            "pyrona run (one at a time)": (pyrona, {**plain, "PYRONA_BOC_SEED": "0"}),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        outputs: dict[str, set[str]] = {name: set() for name in variants}
        for _ in range(args.runs):  # interleaved, so a busy moment weighs on all alike
            for name, (command, env) in variants.items():
                seconds, out = timed(command, env)
                times[name].append(seconds)
                outputs[name].add(out)
    assert len({frozenset(o) for o in outputs.values()}) == 1, outputs
    base = statistics.median(times["bocpy (sub-interpreters)"])
    print(f"{os.cpu_count()} cores, {args.workers} workers, 8 behaviours x {args.size} numbers, "
          f"median of {args.runs} runs")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:28} {median:7.2f} s   x{median / base:5.2f} of bocpy")


if __name__ == "__main__":
    main()
