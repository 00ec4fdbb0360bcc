"""The wider pyperformance suite under the tracer: µs per step of each program, and
(with --verify) whether verify mode agrees with a full heap walk for its first steps.

Each program of `real_programs.SUITE` is traced as `pyrona trace --max-steps CAP` does
(100,000 by default), but the process ends at the cap, as the floor's does (TRACE_RUN:
`pyrona trace` lets the program run on untraced past the cap, which timed the program's
own work after it, not the tracer's): CPU seconds (user + system) of the whole process
divided by the steps recorded, less the CPU the program took to unwind, untraced, after
the tracer stopped it at the cap (its `finally` blocks; asyncio.run cancelling the tasks
still pending: the `unwound` column, see TRACE_RUN). `--run-on` times `pyrona trace` itself instead (the
program's untraced rest included). Beside it, the floor: the same program under a no-op LINE callback on
its own code that ends the process at the same count of lines (FLOOR_RUN), CPU seconds
per line. It says how much of a step's cost is the program's own work (big-int
arithmetic, a library's parser, Fractions), which no tracer can take away. (A step is
a line run, or a return or raise that is not on the last step's line: the floor counts
lines alone, so its count is a little under the trace's.)
`--runs N` runs each N times, alternating programs, and prints medians.

    .venv/bin/python bench/bench_suite.py [--runs N] [--cap STEPS] [--only NAME,...]
        [--verify] [--verify-steps N] [--before PYRONA] [--run-on]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pyrona.tracer.store import TraceStore

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from real_programs import SUITE, write_programs  # noqa: E402

PYRONA = str(Path(sys.executable).with_name("pyrona"))

#: a program traced in verify mode for its first N steps: python -c VERIFY_RUN PROGRAM DB N
VERIFY_RUN = """
import sys
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
trace_program(sys.argv[1], TraceStore(sys.argv[2]), verify=True, max_steps=int(sys.argv[3]),
              stop_when_truncated=True)
"""


#: a traced run that ends at the cap: python -c TRACE_RUN PROGRAM DB CAP (the tracer's
#: own run, as `pyrona trace` makes it, with its code cache). At the cap the tracer stops
#: the program with an exception, and the program unwinds, untraced, before the trace is
#: finished: its `finally` blocks, or asyncio.run cancelling every task still pending
#: (async_tree: 0.4-0.5 s of its own work, as much as tracing its 100,000 steps, and as
#: much untraced). The floor ends at its cap without that, so the CPU seconds of that
#: unwinding (from the cut to `Monitor.finish`) are printed as `UNWOUND s` and left out.
TRACE_RUN = """
import sys, time
from pyrona.instrument.cache import cli_cache
from pyrona.tracer.monitor import Monitor
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
cut, over = [], []
truncate, finish = Monitor._truncate, Monitor.finish
def _truncate(self, reason):
    cut.append(time.process_time())
    truncate(self, reason)
def _finish(self):
    over.append(time.process_time())
    return finish(self)
Monitor._truncate, Monitor.finish = _truncate, _finish
trace_program(sys.argv[1], TraceStore(sys.argv[2]), max_steps=int(sys.argv[3]),
              stop_when_truncated=True, code_cache=cli_cache())
print("UNWOUND", over[0] - cut[0] if cut and over else 0.0)
"""


#: the floor: python -c FLOOR_RUN PROGRAM CAP (a no-op LINE callback on the program's own
#: code, as bench/noop_tracer.py, that ends the process at the CAP-th line)
FLOOR_RUN = """
import os, runpy, sys
program, cap = os.path.abspath(sys.argv[1]), int(sys.argv[2])
E = sys.monitoring.events
seen = [0]
def start(code, offset):
    if code.co_filename == program:
        sys.monitoring.set_local_events(4, code, E.LINE)
    return sys.monitoring.DISABLE
def line(code, number):
    seen[0] += 1
    if seen[0] >= cap:
        sys.stdout.flush()
        os._exit(0)
sys.monitoring.use_tool_id(4, "floor")
sys.monitoring.register_callback(4, E.PY_START, start)
sys.monitoring.register_callback(4, E.LINE, line)
sys.monitoring.set_events(4, E.PY_START)
sys.argv = sys.argv[1:]
runpy.run_path(program, run_name="__main__")
"""


def cpu(cmd: list[str], cwd: Path, timeout: float = 900) -> float:
    """CPU seconds (user + system) of one process (its output dropped)."""
    return cpu_and_output(cmd, cwd, timeout)[0]


def cpu_and_output(cmd: list[str], cwd: Path, timeout: float = 900) -> tuple[float, str]:
    """CPU seconds (user + system) of one process, and what it wrote to stdout."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd)
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            raise
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{cmd} failed ({os.waitstatus_to_exitcode(status)})")
        out.seek(0)
        return usage.ru_utime + usage.ru_stime, out.read().decode(errors="replace")


def unwound(output: str) -> float:
    """The CPU seconds TRACE_RUN says the program took to unwind after the cut (0: none)."""
    found = [line.split()[1] for line in output.splitlines() if line.startswith("UNWOUND ")]
    return float(found[-1]) if found else 0.0


def traced(pyrona: str, program: Path, cap: int, work: Path, run_on: bool = False
           ) -> tuple[float, int, bool, float]:
    """(CPU seconds, steps, whether the cap cut it, CPU seconds of the program's unwinding
    after the cut, left out of the first) of one traced run."""
    db = work / "t.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    if run_on:
        command = [pyrona, "trace", "--max-steps", str(cap), "--db", str(db), str(program)]
    else:
        python = str(Path(pyrona).with_name("python"))  # (that checkout's own)
        command = [python, "-c", TRACE_RUN, str(program), str(db), str(cap)]
    seconds, output = cpu_and_output(command, program.parent)
    unwinding = 0.0 if run_on else unwound(output)
    info = TraceStore(db).traces()[-1]
    return seconds - unwinding, info.steps, info.status == "truncated", unwinding


def verified(program: Path, steps: int, work: Path) -> str:
    """'ok', or the first problem verify mode found in the program's first `steps` steps."""
    db = work / "v.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", VERIFY_RUN, str(program), str(db), str(steps)],
                          cwd=program.parent, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        return f"failed: {proc.stderr.strip().splitlines()[-1:]}"
    info = TraceStore(db).traces()[-1]
    problems = info.summary.get("verify_problems", []) + info.summary.get("readback_problems", [])
    if info.status not in ("done", "truncated"):
        return f"{info.status}: {info.message}"
    return "ok" if not problems else f"{len(problems)} problems, first: {str(problems[0])[:150]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--cap", type=int, default=100_000)
    parser.add_argument("--only", default="")
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--verify-steps", type=int, default=1500)
    parser.add_argument("--before", help="another checkout's pyrona, timed alternating with this one")
    parser.add_argument("--run-on", action="store_true",
                        help="time `pyrona trace`, which lets the program run on past the cap")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SUITE)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        programs = write_programs(work / "programs", "suite", names)
        tools = {"now": PYRONA, **({"before": args.before} if args.before else {})}
        times: dict[tuple[str, str], list[float]] = {}
        steps: dict[str, int] = {}
        capped: dict[str, bool] = {}
        floor: dict[str, list[float]] = {}
        unwinding: dict[str, list[float]] = {}
        for _ in range(args.runs):
            for name in names:
                for tool, pyrona in tools.items():
                    seconds, count, cut, spent = traced(pyrona, programs[name], args.cap, work, args.run_on)
                    times.setdefault((name, tool), []).append(seconds / count * 1e6)
                    if tool == "now":
                        unwinding.setdefault(name, []).append(spent)
                    steps[name], capped[name] = count, cut
                floor.setdefault(name, []).append(
                    cpu([sys.executable, "-c", FLOOR_RUN, str(programs[name]), str(steps[name])],
                        programs[name].parent) / steps[name] * 1e6)
        head = f"{'program':26} {'steps':>8} {'µs/step':>8}"
        head += f" {'before':>8} {'ratio':>6}" if args.before else ""
        head += f" {'floor':>7} {'floor %':>7} {'unwound':>8}" + ("  verify" if args.verify else "")
        print(f"median of {args.runs} run(s), CPU seconds of the whole process / steps "
              f"(* capped at {args.cap:,}; " + ("`pyrona trace`: the program ran on past the cap)"
                                                 if args.run_on else "the process ended at the cap; "
                                                 "`unwound`: seconds the program took to unwind "
                                                 "after the cut, untraced, left out)"))
        print(head)
        nows = []
        for name in names:
            now = statistics.median(times[(name, "now")])
            nows.append(now)
            line = f"{name:26} {steps[name]:>8,}{'*' if capped[name] else ' '} {now:>7.2f}"
            if args.before:
                before = statistics.median(times[(name, "before")])
                line += f" {before:>8.2f} {now / before:>6.2f}"
            low = statistics.median(floor[name])
            line += f" {low:>7.2f} {100 * low / now:>6.0f}% {statistics.median(unwinding[name]):>7.2f}s"
            if args.verify:
                line += "  " + verified(programs[name], args.verify_steps, work)
            print(line, flush=True)
        worst = names[nows.index(max(nows))]
        print(f"median µs/step {statistics.median(nows):.2f}, max {max(nows):.2f} ({worst})")


if __name__ == "__main__":
    main()
