"""Real programs nobody here wrote: pyperformance's benchmark programs, made runnable alone.

pyperformance (PyPI) ships each benchmark as a plain file,
`pyperformance/data-files/benchmarks/bm_NAME/run_benchmark.py`. The wheel is
fetched at run time into a cache outside the repository (never committed);
each program is written out as one file with `import pyperf` replaced by a
stand-in whose Runner does nothing, its `__main__` block left to that stand-in,
and one call of its benchmark function at a small size appended.

    python bench/real_programs.py [--size bench|test|million|verify] [DIR]   (writes the programs)
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

VERSION = "1.14.0"
WHEEL = f"pyperformance-{VERSION}-py3-none-any.whl"

#: richards has no size but its idle task's count (10,000: 2 M steps)
_RICHARDS = """\
_IdleTaskRec = IdleTaskRec


class IdleTaskRec(_IdleTaskRec):
    def __init__(self):
        _IdleTaskRec.__init__(self)
        self.count = {count}


"""

#: name -> (call at the bench's size, call at the tests' size). The bench sizes give
#: 0.1-0.5 M steps each; the test sizes a few thousand (verify mode walks the heap per step).
CALLS = {
    "richards": (_RICHARDS.format(count=1000) + "Richards().run(1)",
                 _RICHARDS.format(count=10) + "Richards().run(1)"),
    "deltablue": ("delta_blue(150)", "delta_blue(5)"),
    "nqueens": ("bench_n_queens(7)", "bench_n_queens(4)"),
    "generators": ("for _ in tree(range(10000)):\n    pass", "for _ in tree(range(60)):\n    pass"),
    "float": ("benchmark(10000)", "benchmark(40)"),
    "nbody": ("bench_nbody(1, 'sun', 1200)", "bench_nbody(1, 'sun', 20)"),
    "spectral_norm": ("DEFAULT_N = 40\nbench_spectral_norm(1)", "DEFAULT_N = 3\nbench_spectral_norm(1)"),
    "hexiom": ("main(1, 25)", "main(1, 2)"),
    "fannkuch": ("fannkuch(7)", "fannkuch(4)"),
}

#: More of the suite, for the tests' verify mode only (not timed): name -> a small call,
#: after what the program's own main block would have set up. Each found a change the
#: tracer missed (a class body's prepared namespace, a library filling an object's list,
#: a with block closing a file) or a value it could not show (pidigits' huge ints).
VERIFIED = {
    "comprehensions": "bench_comprehensions(1)",
    "logging": ("stream = io.StringIO()\nhandler = logging.StreamHandler(stream=stream)\n"
                "logger = logging.getLogger('benchlogger')\nlogger.propagate = False\n"
                "logger.addHandler(handler)\nlogger.setLevel(logging.WARNING)\n"
                "bench_simple_output(1, logger, stream)"),
    "pidigits": "calc_ndigits(40)",
    "deepcopy": "benchmark(1)",
    "coroutines": "bench_coroutines(1)",
    "raytrace": "bench_raytrace(1, 4, 4, None)",
    "unpack_sequence": "bench_all(1)",
    "go": "versus_cpu()",
}

#: name -> a call that runs past 1,000,000 steps (the tracer's own memory at the 1M cap:
#: bench_real_programs.py --memory)
MILLION = {
    "richards": _RICHARDS.format(count=4000) + "Richards().run(1)",
    "deltablue": "delta_blue(600)",
    "nqueens": "bench_n_queens(8)",
    "generators": "for _ in tree(range(35000)):\n    pass",
    "float": "benchmark(50000)",
    "nbody": "bench_nbody(1, 'sun', 6000)",
    "spectral_norm": "DEFAULT_N = 90\nbench_spectral_norm(1)",
    "hexiom": "main(4, 25)",
    "fannkuch": "fannkuch(8)",
}

#: What `import pyperf` becomes: a Runner whose methods do nothing, and the clock.
STAND_IN = '''\
class pyperf:  # a stand-in for pyperf: its Runner does nothing
    from time import perf_counter

    class Runner:
        def __init__(self, *args, **kwargs):
            self.metadata = {}
            self.argparser = self

        def add_argument(self, *args, **kwargs):
            return None

        def parse_args(self):
            return None

        def bench_func(self, *args, **kwargs):
            return None

        bench_time_func = bench_func
'''


def cache_dir() -> Path:
    """Where the wheel is kept: the user's cache (PYRONA_CACHE overrides), never the repository."""
    base = os.environ.get("PYRONA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyrona")
    return Path(base) / "pyperformance"


def wheel() -> Path:
    """The pyperformance wheel, downloaded from PyPI once."""
    target = cache_dir()
    path = target / WHEEL
    if not path.exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", f"pyperformance=={VERSION}", "-d", str(target)],
                       check=True)
    return path


def source(name: str, size: str = "bench") -> str:
    """The program `name`, runnable alone, calling its benchmark once at `size`."""
    with zipfile.ZipFile(wheel()) as archive:
        text = archive.read(f"pyperformance/data-files/benchmarks/bm_{name}/run_benchmark.py").decode()
    if "import pyperf\n" not in text:
        raise ValueError(f"bm_{name}: no 'import pyperf' line to replace")
    if size == "verify":
        call = VERIFIED[name]
    else:
        call = MILLION[name] if size == "million" else CALLS[name][0 if size == "bench" else 1]
    # (a main block reading parsed options would fail on the stand-in's: it does not run)
    for guard in ('if __name__ == "__main__":', "if __name__ == '__main__':"):
        text = text.replace(guard, "if False:  # (pyperf's runner: not used)")
    return text.replace("import pyperf\n", STAND_IN, 1) + f"\n\n{call}\n"


def write_programs(directory: Path, size: str = "bench", names: list[str] | None = None) -> dict[str, Path]:
    """Each program (all of CALLS, or of VERIFIED at size "verify", unless `names`) written
    as DIRECTORY/NAME.py (VERIFIED's as bm_NAME.py: a `logging.py` would import itself)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in names or list(VERIFIED if size == "verify" else CALLS):
        path = directory / (f"bm_{name}.py" if size == "verify" else f"{name}.py")
        path.write_text(source(name, size))
        paths[name] = path
    return paths


if __name__ == "__main__":
    args = sys.argv[1:]
    size = "bench"
    if args[:1] == ["--size"]:
        size, args = args[1], args[2:]
    out = Path(args[0]) if args else cache_dir() / f"programs-{size}"
    for program in write_programs(out, size).values():
        print(program)
