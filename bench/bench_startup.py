"""Start-up of `pyrona trace` and `pyrona run` against plain Python, side by side in one run.

Alternates, --runs times: plain `python empty.py`, `pyrona trace empty.py` (into one
store, as the default store is used; and into a new store each time), `pyrona run
empty.py`, then the store-heavy program plainly (pyrona's import replaced by a stand-in
class) and under `pyrona run`. Prints medians of wall and CPU time (the child's own user +
system, which a loaded machine inflates less than wall time) and the ratios to plain:
the targets are `pyrona trace` <= 2x plain on the empty program and `pyrona run` <= 3x
plain on the store-heavy one. "python" is the venv's, as the targets were set; the base
interpreter (no venv: no editable install's path finder at site time, which imports
pathlib and re in every process of the venv) is printed beside it. One untimed round
first writes bytecode and pyrona's code cache, as a user's second run finds them.

    .venv/bin/python bench/bench_startup.py [--runs 21] [--no-heavy]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYRONA = str(Path(sys.executable).with_name("pyrona"))
TRACE_TARGET, RUN_TARGET = 2.0, 3.0


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `cmd`, its output discarded; it must succeed."""
    start = time.perf_counter()
    pid = os.posix_spawn(cmd[0], cmd, env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime


def plain_version(program: Path, folder: Path) -> Path:
    """The program with pyrona's import replaced by a stand-in class: plain Python."""
    source = program.read_text().replace("from pyrona import Region", "class Region:\n    pass")
    plain = folder / f"{program.stem}_plain.py"
    plain.write_text(source)
    return plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (median)")
    parser.add_argument("--no-heavy", action="store_true", help="the empty program only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pyrona-bench-startup-"))
    # (bytecode as a user's machine has it: written by the first run, then read)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("XDG_CACHE_HOME", str(folder / "cache"))
    empty, heavy = HERE / "programs" / "empty.py", HERE / "programs" / "store_heavy.py"
    python = sys.executable
    cases = {
        "plain": lambda run: [python, str(empty)],
        "base": lambda run: [sys._base_executable, str(empty)],
        "trace": lambda run: [PYRONA, "trace", str(empty), "--db", str(folder / "traces.db")],
        "trace new": lambda run: [PYRONA, "trace", str(empty), "--db", str(folder / f"{run}.db")],
        "run": lambda run: [PYRONA, "run", str(empty)],
    }
    if not args.no_heavy:
        heavy_plain = plain_version(heavy, folder)
        cases["heavy plain"] = lambda run: [python, str(heavy_plain)]
        cases["heavy run"] = lambda run: [PYRONA, "run", str(heavy)]
    for make in cases.values():
        timed(make("warm"), env)
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for run in range(args.runs):
        for name, make in cases.items():
            wall, cpu = timed(make(run), env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    shutil.rmtree(folder)
    wall = {name: statistics.median(times) for name, times in walls.items()}
    cpu = {name: statistics.median(times) for name, times in cpus.items()}
    print(f"medians of {args.runs} runs, alternating; ms (ratio to plain); ! marks a ratio above its target")
    print(f"{'':28} {'wall':>8} {'ratio':>7} {'CPU':>8} {'ratio':>7}")

    def row(label: str, name: str, base: str, target: float | None) -> None:
        rw, rc = wall[name] / wall[base], cpu[name] / cpu[base]
        mark = (lambda r: "!" if target is not None and r > target else " ")
        print(f"{label:28} {wall[name] * 1e3:8.1f} {rw:6.2f}{mark(rw)} "
              f"{cpu[name] * 1e3:8.1f} {rc:6.2f}{mark(rc)}")

    row("empty: python", "plain", "plain", None)
    row("  (base python: no venv)", "base", "plain", None)
    row(f"empty: pyrona trace (<={TRACE_TARGET:g}x)", "trace", "plain", TRACE_TARGET)
    row("  (into a new store each)", "trace new", "plain", None)
    row("empty: pyrona run", "run", "plain", None)
    print(f"against the base python (no editable install's finder at site time): pyrona trace "
          f"{wall['trace'] / wall['base']:.2f}x wall, {cpu['trace'] / cpu['base']:.2f}x CPU; "
          f"pyrona run {wall['run'] / wall['base']:.2f}x wall, {cpu['run'] / cpu['base']:.2f}x CPU")
    if not args.no_heavy:
        row("store-heavy: python", "heavy plain", "heavy plain", None)
        row(f"store-heavy: pyrona run (<={RUN_TARGET:g}x)", "heavy run", "heavy plain", RUN_TARGET)


if __name__ == "__main__":
    main()
