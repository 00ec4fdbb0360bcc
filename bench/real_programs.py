"""Real programs nobody here wrote: pyperformance's benchmark programs, made runnable alone.

pyperformance (PyPI) ships each benchmark as a plain file,
`pyperformance/data-files/benchmarks/bm_NAME/run_benchmark.py`. The wheel is
fetched at run time into a cache outside the repository (never committed);
each program is written out as one file with `import pyperf` replaced by a
stand-in whose Runner does nothing, its `__main__` block left to that stand-in,
and one call of its benchmark function at a small size appended.

    python bench/real_programs.py [--size bench|test|million|verify|suite] [DIR]   (writes the programs)
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

#: The wider suite: name -> a call that runs past 100,000 steps (timed by
#: bench/bench_suite.py with that cap; verify mode takes its first steps alone), after
#: what the program's own main block would have set up. Programs that need a package
#: from outside the standard library, a network or minutes of set-up are left out.
SUITE = {
    **{name: bench for name, (bench, _test) in CALLS.items()},
    "async_generators": ("import asyncio\n\n\nasync def _walk():\n    async for _ in tree(range(20000)):\n"
                         "        pass\n\nasyncio.run(_walk())"),
    "async_tree": "import asyncio\nasyncio.run(MemoizationAsyncTree().run())",
    "barnes_hut": "bench_quadtree_nbody(1, 100, 10, DEFAULT_THETA)",
    "bpe_tokeniser": "bench_bpe_tokeniser(1)",
    "chaos": ("class _Args:\n    thickness, width, height, iterations = 0.25, 32, 32, 20000\n"
              "    filename, rng_seed = None, 1234\n\n\nclass _Runner:\n"
              "    metadata = {}\n\n    def bench_func(self, name, func, *args):\n        func(*args)\n\n\n"
              "main(_Runner(), _Args)"),
    "comprehensions": "bench_comprehensions(400)",
    "coroutines": "bench_coroutines(10)",
    "decimal_pi": "decimal.getcontext().prec = 9\nfor _ in range(2000):\n    pi_decimal()",
    "deepcopy": "benchmark(400)",
    "gc_collect": "benchamark_collection(20, CYCLES, LINKS)",
    "gc_traversal": "benchamark_collection(5, N_LEVELS)",
    "go": "versus_cpu()",
    "json_dumps": "bench_json_dumps([(NESTED_DATA, range(50000))])",
    "json_loads": ("objs = (json.dumps(DICT), json.dumps(TUPLE), json.dumps(DICT_GROUP))\n"
                   "for _ in range(3000):\n    bench_json_loads(objs)"),
    "logging": ("stream = io.StringIO()\nhandler = logging.StreamHandler(stream=stream)\n"
                "logger = logging.getLogger('benchlogger')\nlogger.propagate = False\n"
                "logger.addHandler(handler)\nlogger.setLevel(logging.WARNING)\n"
                "bench_simple_output(10000, logger, stream)"),
    "mdp": "bench_mdp(1)",
    "meteor_contest": ("board, cti, pieces = get_puzzle(WIDTH, HEIGHT)\n"
                       "fps = get_footprints(board, cti, pieces)\nse_nh = get_senh(board, cti)\n"
                       "bench_meteor_contest(1, board, pieces, SOLVE_ARG, fps, se_nh)"),
    "pathlib": ("NUM_FILES = 300\ntmp_path = setup(NUM_FILES)\ntry:\n    bench_pathlib(20, tmp_path)\n"
                "finally:\n    shutil.rmtree(tmp_path)"),
    "pidigits": "calc_ndigits(2000)",
    "pyflate": "bench_pyflake(1, os.path.join(os.path.dirname(__file__), 'data', 'interpreter.tar.bz2'))",
    "raytrace": "bench_raytrace(1, 40, 40, None)",
    "richards_super": _RICHARDS.format(count=1000) + "Richards().run(1)",
    "scimark": ("bench_SOR(1, 20, 10, Array2D)\nbench_MonteCarlo(1, 5000)\nbench_LU(1, 20)\n"
                "bench_FFT(1, 256, 4)\nbench_SparseMatMult(2, 200, 2000)"),
    "sqlite_synth": "bench_sqlite(20000)",
    "telco": "bench_telco(2, rel_path('data', 'telco-bench.b'))",
    "typing_runtime_protocols": "bench_protocols(700)",
    "unpack_sequence": "bench_all(2000)",
    "xml_etree": ("import xml.etree.ElementTree as etree\n"
                  "for bench in (bench_parse, bench_generate, bench_process):\n"
                  "    bench_etree(1, etree, bench)"),
}

#: The programs of SUITE the tests trace in verify mode (their first 1,500 steps), beside
#: CALLS' at their test sizes. Each found a change the tracer missed (a class body's
#: prepared namespace, a library filling an object's list, a with block closing a file)
#: or a value it could not show (pidigits' huge ints), or a cost that grew with a size.
VERIFIED = ("comprehensions", "logging", "pidigits", "deepcopy", "coroutines", "raytrace",
            "unpack_sequence", "go", "async_generators", "async_tree", "barnes_hut", "chaos",
            "decimal_pi", "gc_collect", "gc_traversal", "json_dumps", "json_loads", "meteor_contest",
            "pathlib", "pyflate", "richards_super", "scimark", "sqlite_synth", "telco",
            "typing_runtime_protocols", "xml_etree", "bpe_tokeniser", "mdp")

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
    if size in ("verify", "suite"):
        call = SUITE[name]
    else:
        call = MILLION[name] if size == "million" else CALLS[name][0 if size == "bench" else 1]
    # (a main block reading parsed options would fail on the stand-in's: it does not run)
    for guard in ('if __name__ == "__main__":', "if __name__ == '__main__':"):
        text = text.replace(guard, "if False:  # (pyperf's runner: not used)")
    return text.replace("import pyperf\n", STAND_IN, 1) + f"\n\n{call}\n"


def write_programs(directory: Path, size: str = "bench", names: list[str] | None = None) -> dict[str, Path]:
    """Each program (all of CALLS; VERIFIED's at size "verify", SUITE's at "suite"; or
    `names`) written as DIRECTORY/NAME.py (at "verify" and "suite" as bm_NAME.py: a
    `logging.py` would import itself), with the data files it reads (DIRECTORY/data)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    default = {"verify": VERIFIED, "suite": SUITE}.get(size, CALLS)
    for name in names or list(default):
        path = directory / (f"bm_{name}.py" if size in ("verify", "suite") else f"{name}.py")
        path.write_text(source(name, size))
        write_data(name, directory)
        paths[name] = path
    return paths


def write_data(name: str, directory: Path) -> None:
    """The data files of program `name` (its `data/` folder in the wheel), into DIRECTORY/data."""
    prefix = f"pyperformance/data-files/benchmarks/bm_{name}/data/"
    with zipfile.ZipFile(wheel()) as archive:
        for member in archive.namelist():
            if member.startswith(prefix) and not member.endswith("/"):
                target = directory / "data" / member[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))


if __name__ == "__main__":
    args = sys.argv[1:]
    size = "bench"
    if args[:1] == ["--size"]:
        size, args = args[1], args[2:]
    out = Path(args[0]) if args else cache_dir() / f"programs-{size}"
    for program in write_programs(out, size).values():
        print(program)
