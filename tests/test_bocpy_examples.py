"""bocpy's own examples (bank, fibonacci, dining philosophers) run under pyrona with only
their import changed, and print what bocpy prints (as a multiset of lines: independent
behaviours may interleave).

The examples ship inside bocpy's wheel. The test set-up downloads that wheel from PyPI
into a cache outside the repository (never committed) and runs the originals with bocpy
itself for the expected lines. In CI a failed download fails the tests; elsewhere
(offline) they are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

BOCPY = "bocpy==0.14.0"
EXAMPLES = ("bank", "fibonacci", "dining_philosophers")


def _cache() -> Path:
    base = os.environ.get("PYRONA_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyrona-tests")
    return Path(base) / BOCPY.replace("==", "-")


@pytest.fixture(scope="session")
def bocpy_wheel() -> Path:
    """bocpy's wheel, downloaded once into the cache, and installed beside it."""
    cache = _cache()
    wheels = sorted(cache.glob("bocpy-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--no-deps",
             BOCPY, "-d", str(cache)], capture_output=True, text=True, timeout=300)
        wheels = sorted(cache.glob("bocpy-*.whl"))
        if not wheels:
            message = f"cannot download {BOCPY} from PyPI: {proc.stderr.strip()[-500:]}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    site = cache / "site"
    if not (site / "bocpy").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                        str(site), str(wheels[-1])], check=True, capture_output=True, timeout=300)
    return wheels[-1]


def _example(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(f"bocpy/examples/{name}.py").decode("utf-8")


def _lines(proc: subprocess.CompletedProcess[str]) -> Counter[str]:
    assert proc.returncode == 0, proc.stderr
    return Counter(proc.stdout.splitlines())


@pytest.fixture(scope="session")
def bocpy_output(bocpy_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Counter[str]]:
    """What each original example prints when bocpy runs it."""
    folder = tmp_path_factory.mktemp("bocpy-originals")
    env = {**os.environ, "PYTHONPATH": str(bocpy_wheel.parent / "site")}
    out = {}
    for name in EXAMPLES:
        path = folder / f"{name}.py"
        path.write_text(_example(bocpy_wheel, name), encoding="utf-8")
        out[name] = _lines(subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                                          timeout=120, env=env, cwd=folder))
    return out


@pytest.fixture
def pyrona_example(bocpy_wheel: Path, tmp_path: Path):
    def make(name: str) -> Path:
        source = _example(bocpy_wheel, name)
        assert "from bocpy import" in source
        path = tmp_path / f"{name}.py"
        path.write_text(source.replace("from bocpy import", "from pyrona import"), encoding="utf-8")
        return path
    return make


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_bocpy_example_prints_the_same_lines_under_pyrona_run(name, pyrona_example, bocpy_output):
    path = pyrona_example(name)
    proc = subprocess.run([sys.executable, "-m", "pyrona", "run", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert _lines(proc) == bocpy_output[name]
    assert bocpy_output[name]  # (it printed something)


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_bocpy_example_prints_the_same_lines_one_behaviour_at_a_time(name, pyrona_example, bocpy_output):
    path = pyrona_example(name)
    for seed in ("1", "2"):
        env = {**os.environ, "PYRONA_BOC_SEED": seed}
        proc = subprocess.run([sys.executable, "-m", "pyrona", "run", str(path)],
                              capture_output=True, text=True, timeout=120, env=env)
        assert _lines(proc) == bocpy_output[name]


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_bocpy_example_is_traced_with_its_behaviours(name, pyrona_example, bocpy_output, tmp_path):
    path = pyrona_example(name)
    db = tmp_path / "traces.db"
    proc = subprocess.run([sys.executable, "-m", "pyrona", "trace", "--db", str(db), str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    *printed, trace_id = proc.stdout.splitlines()
    assert Counter(printed) == bocpy_output[name]
    import sqlite3

    with sqlite3.connect(db) as con:
        kinds = [kind for (kind,) in con.execute(
            "select kind from events where trace = ? and kind like 'behaviour-%' order by step, rowid",
            (int(trace_id),))]
    counts = Counter(kinds)
    assert counts["behaviour-scheduled"] == counts["behaviour-started"] == counts["behaviour-finished"] > 0
    # one at a time: every start is followed by its finish before the next start
    running = 0
    for kind in kinds:
        running += {"behaviour-started": 1, "behaviour-finished": -1}.get(kind, 0)
        assert running in (0, 1)
