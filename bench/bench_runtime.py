"""Cost of the region runtime's checks, as ratios to plain Python measured in the same run.

Prints, for each operation, the median time per operation of a loop compiled
plainly and the same loop compiled with pyrona's instrumentation (on a local
object and on an object inside a region), then whole-program times of a
store-heavy program under `python` and under `pyrona run`.

    .venv/bin/python bench/bench_runtime.py [--repeat N] [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyrona import Obj, Region
from pyrona.instrument.hooks import HOOKS
from pyrona.instrument.rewrite import compile_program

HERE = Path(__file__).resolve().parent
LOOPS = 200_000

SNIPPETS = {
    "attribute store (class instance)": ("target.x = i", "Plain()"),
    "attribute store (Obj)": ("target.x = i", "Obj()"),
    "item store (dict)": ("target['k'] = i", "{}"),
    "list.append": ("target.append(i)", "[]"),
    "attribute store of a new object": ("target.x = Plain()", "Plain()"),
}

TEMPLATE = """
def run(target, n):
    for i in range(n):
        {body}
"""


class Plain:
    pass


def loop_function(body: str, instrumented: bool):
    source = TEMPLATE.format(body=body)
    namespace = {"Plain": Plain, "Obj": Obj}
    if instrumented:
        namespace.update(HOOKS)
        code = compile_program(source, "<bench>")
    else:
        code = compile(source, "<bench>", "exec")
    exec(code, namespace)
    return namespace["run"]


def per_op_ns(run, make_target, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        target = make_target()
        start = time.perf_counter()
        run(target, LOOPS)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / LOOPS * 1e9


def micro(repeat: int) -> None:
    print(f"per operation, median of {repeat} loops of {LOOPS:,} (ns; ratio to plain Python)")
    print(f"{'operation':36} {'plain':>8} {'local':>8} {'ratio':>6} {'region':>8} {'ratio':>6}")
    for name, (body, make) in SNIPPETS.items():
        plain, checked = loop_function(body, False), loop_function(body, True)

        def local_target(make=make):
            return eval(make, {"Plain": Plain, "Obj": Obj})

        def region_target(make=make):
            region = Region()
            region.target = local_target()
            return region.target

        base = per_op_ns(plain, local_target, repeat)
        local = per_op_ns(checked, local_target, repeat)
        inside = per_op_ns(checked, region_target, repeat)
        print(f"{name:36} {base:8.1f} {local:8.1f} {local / base:5.1f}x {inside:8.1f} {inside / base:5.1f}x")


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def plain_version(program: Path, folder: Path) -> Path:
    """The program with pyrona's import replaced by a stand-in class: plain Python."""
    source = program.read_text().replace("from pyrona import Region", "class Region:\n    pass")
    plain = folder / f"{program.stem}_plain.py"
    plain.write_text(source)
    return plain


def whole_program(runs: int) -> None:
    python = sys.executable
    pyrona = str(Path(python).with_name("pyrona"))
    empty = HERE / "programs" / "empty.py"
    heavy = HERE / "programs" / "store_heavy.py"
    folder = Path(tempfile.mkdtemp(prefix="pyrona-bench-"))
    cases = {
        "start-up (empty program)": ([python, str(empty)], [pyrona, "run", str(empty)]),
        "store-heavy program": ([python, str(plain_version(heavy, folder))], [pyrona, "run", str(heavy)]),
    }
    print(f"\nwhole programs, median of {runs} runs, alternating (s; ratio to plain python)")
    print(f"{'program':36} {'python':>8} {'pyrona':>8} {'ratio':>6}")
    for name, (plain_cmd, pyrona_cmd) in cases.items():
        plain_times, pyrona_times = [], []
        for _ in range(runs):
            plain_times.append(wall(plain_cmd))
            pyrona_times.append(wall(pyrona_cmd))
        base, ours = statistics.median(plain_times), statistics.median(pyrona_times)
        print(f"{name:36} {base:8.3f} {ours:8.3f} {ours / base:5.1f}x")
    shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="loops per micro benchmark")
    parser.add_argument("--runs", type=int, default=7, help="runs per whole program")
    args = parser.parse_args()
    micro(args.repeat)
    whole_program(args.runs)


if __name__ == "__main__":
    main()
