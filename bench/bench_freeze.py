"""freeze of a large graph under `pyrona run`, side by side with a pickle round trip on plain Python.

The argument for freezing data before sharing it is that freezing is cheaper than
copying it (what sending by copy costs: a pickle round trip). The data: RECORDS
records, each a dict holding an int, a list and an instance of a user class (whose
`__dict__` holds a list of its own): five objects per record. Each figure is the
median of RUNS fresh processes (a graph is frozen once, so every run builds its own),
timed inside the program around the operation only. Freeze is timed twice: with the
walk's C loops (pyrona/runtime/_freezewalk.c, built by the install) and with their
pure-Python twins (what a machine without a C compiler runs).

    .venv/bin/python bench/bench_freeze.py [--records N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROGRAM = '''
import gc, json, pickle, sys, time

class Point:
    def __init__(self, i):
        self.x = i
        self.y = -i
        self.history = [i, i + 1]

def build(n):
    return [{"id": i, "tags": [i, "t"], "point": Point(i)} for i in range(n)]

mode, n = sys.argv[1], int(sys.argv[2])
data = build(n)
gc.collect()
gc.disable()  # (both sides alike: the collector's pauses are noise here)
start = time.perf_counter()
if mode.startswith("freeze"):
    from immutable import freeze, is_frozen
    if mode == "freeze-python":  # (the pure-Python twins of the C loops: a machine without them)
        from pyrona.runtime import freezing
        freezing.take_plain, freezing.children = freezing._take_plain_py, freezing._children_py
    freeze(data)
    assert is_frozen(data[-1]["point"].history)
else:
    copy = pickle.loads(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy[-1]["point"].history == data[-1]["point"].history
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed}))
'''


def one_run(python: list[str], mode: str, records: int, program: Path) -> float:
    out = subprocess.run([*python, str(program), mode, str(records)], capture_output=True, text=True,
                         check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "records.py"
        program.write_text(PROGRAM, encoding="utf-8")
        pyrona = [sys.executable, "-m", "pyrona", "run"]
        plain = [sys.executable]
        freeze_times, pure_times, pickle_times = [], [], []
        for _ in range(args.runs):  # interleaved, so a busy moment hits all sides
            freeze_times.append(one_run(pyrona, "freeze", args.records, program))
            pure_times.append(one_run(pyrona, "freeze-python", args.records, program))
            pickle_times.append(one_run(plain, "pickle", args.records, program))
    objects = 5 * args.records + 1
    f, pure, p = (statistics.median(t) for t in (freeze_times, pure_times, pickle_times))
    print(f"{args.records:,} records, {objects:,} objects, Python {sys.version.split()[0]}, "
          f"median of {args.runs} runs each, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  freeze under pyrona run              {f:7.3f} s  ({f / objects * 1e9:5.0f} ns per object)")
    print(f"  the same, pure-Python loops          {pure:7.3f} s  "
          f"({pure / objects * 1e9:5.0f} ns per object)")
    print(f"  pickle round trip (python)           {p:7.3f} s  ({p / objects * 1e9:5.0f} ns per object)")
    print(f"  freeze / pickle                      {f / p:7.2f}   (pure-Python loops: {pure / p:.2f})")


if __name__ == "__main__":
    main()
