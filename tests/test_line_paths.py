"""The two LINE callbacks record the same trace: the C accelerator (tracer/_speedups.c)
only takes the lines it can do exactly as the pure-Python reference (tracer/line.py) does,
and hands every other one over. Same program, both callbacks, identical stored rows."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pyrona.tracer import line
from pyrona.tracer.hooks import Changes
from pyrona.tracer.monitor import Monitor
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from real_programs import CALLS, write_programs  # noqa: E402

#: every table a trace writes (the traces row has times in it: compared apart)
TABLES = ("files", "step_chunks", "outputs", "events", "nodes", "slots", "regions")

#: what the fast path does and what it hands over, in one program: plain values that
#: change, stay, grow long; references; several names on a line; deletes; globals and
#: cells; generators, exceptions, a class
MIXED = """\
import itertools

counter = 0
big = 10 ** 70


def bump():
    global counter
    counter += 1


def cells():
    n = 0

    def inc():
        nonlocal n
        n += 1
        return n
    inc(); inc()
    return n


def gen(k):
    for i in range(k):
        x = i * 1.5
        yield x


class Boom(Exception):
    pass


for j in range(300):
    flag = j % 2 == 0
    nothing = None
    same = 7
    a, b = j, -j
    text = "t" * (j % 5)
    box = [j]
    if j % 50 == 0:
        del box
        bump()
    long_number = big + j
    f = j / 7
for v in gen(40):
    w = v
try:
    raise Boom([1, 2])
except Boom as e:
    caught = e.args
total = cells() + sum(itertools.islice(gen(10), 3))
print(total, counter)
"""


#: the stores the recorder's C twin takes (tracer/_speedups.c SlotsFast) and those it hands
#: over: attributes of plain and other instances, dict and list items, appends; plain values,
#: long texts, references, a region's members, deletes, a slot changed past a run
STORES = """\
from pyrona import Region


class Node:
    def __init__(self, key):
        self.key = key
        self.next = None
        self.tags = []


class Pair:
    __slots__ = ("left", "right")


class Lazy:
    def __getattr__(self, name):
        return 0


class Shaded:
    label = "class"


nodes, index, table = [], {}, {}
for k in range(300):
    node = Node(k)
    if nodes:
        nodes[-1].next = node
    nodes.append(node)
    index[k % 17] = node
    table[f"key{k % 5}"] = "v" * (k % 70)
    table[(k % 3, "t")] = k
    node.tags.append(k % 7)
    node.tags += [None, 1.5]
    node.tags[-1] = k
    node.tags[0] = node
    pair = Pair()
    pair.left, pair.right = node, k
    lazy = Lazy()
    lazy.x = k
    lazy.y = lazy.x + lazy.missing
    shaded = Shaded()
    shaded.label = "mine"
    del shaded.label
    node.key = 10 ** 70 + k
    node.name = "n" * (k % 80)
    if k % 10 == 0:
        del index[k % 17]
        nodes[-1].tags.pop()
archive = Region()
archive.batch = []
for node in nodes[:50]:
    node.next = None
    archive.batch.append(node)
local = [archive.batch]
print(len(nodes), len(index), len(archive.batch))
"""


CLOCK = "    from time import perf_counter\n"
STEADY_CLOCK = "    perf_counter = staticmethod(__import__('itertools').count(0.5, 0.25).__next__)\n"


ADDRESS = re.compile(r" at 0x[0-9a-f]+")  # (an object's default repr, in a violation's message)


def unaddressed(row: tuple) -> tuple:
    return tuple(ADDRESS.sub(" at 0x…", v) if type(v) is str else v for v in row)


def rows(db: Path) -> dict[str, list[tuple]]:
    """Every row the trace wrote, in a stable order (addresses in texts left out)."""
    conn = sqlite3.connect(db)
    try:
        out = {table: sorted((unaddressed(r) for r in conn.execute(f"SELECT * FROM {table}")), key=repr)
               for table in TABLES}
        out["traces"] = conn.execute("SELECT name, status, steps, message, truncated FROM traces").fetchall()
        return out
    finally:
        conn.close()


def traced_with(path: str, program: Path, db: Path, monkeypatch: pytest.MonkeyPatch, **options) -> dict:
    if path == "python":
        monkeypatch.setenv(line.PURE_PYTHON_VAR, "1")
    else:
        monkeypatch.delenv(line.PURE_PYTHON_VAR, raising=False)
    store = TraceStore(db)
    outcome = trace_program(program, store, name="same", **options)
    store.close()
    assert outcome.status in ("done", "truncated"), outcome.message
    return rows(db)


@pytest.fixture
def c_path() -> None:
    if line.LineFast is None:
        if os.environ.get("CI"):
            pytest.fail(line.SPEEDUPS_MISSING)
        pytest.skip(line.SPEEDUPS_MISSING)


def programs_here(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("programs")
    found = write_programs(folder, "test")
    for program in found.values():  # (a clock that says the same in both runs)
        program.write_text(program.read_text().replace(CLOCK, STEADY_CLOCK, 1))
    mixed = folder / "mixed.py"
    mixed.write_text(MIXED)
    found["mixed"] = mixed
    stores = folder / "stores.py"
    stores.write_text(STORES)
    found["stores"] = stores
    for sample in ("linked_list.py", "job_queue.py", "concurrency_bank.py", "tree_into_region.py"):
        found[sample] = ROOT / "sample_programs" / sample
    return found


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return programs_here(tmp_path_factory)


NAMES = ["mixed", "stores", *CALLS, "linked_list.py", "job_queue.py", "concurrency_bank.py",
         "tree_into_region.py"]


@pytest.mark.parametrize("name", NAMES)
def test_both_callbacks_store_identical_traces(name, programs, tmp_path, monkeypatch, c_path):
    fast = traced_with("c", programs[name], tmp_path / "c.db", monkeypatch)
    pure = traced_with("python", programs[name], tmp_path / "py.db", monkeypatch)
    assert fast["traces"][0][2] > 20  # (the program ran)
    for table in ("traces", *TABLES):
        assert fast[table] == pure[table], table


@pytest.mark.parametrize("max_steps", [50, 777])
def test_both_callbacks_cut_a_trace_at_the_same_step(max_steps, programs, tmp_path, monkeypatch, c_path):
    fast = traced_with("c", programs["mixed"], tmp_path / "c.db", monkeypatch, max_steps=max_steps)
    pure = traced_with("python", programs["mixed"], tmp_path / "py.db", monkeypatch, max_steps=max_steps)
    assert fast["traces"][0][1:3] == ("truncated", max_steps)
    for table in ("traces", *TABLES):
        assert fast[table] == pure[table], table


def monitor_in(tmp_path: Path) -> Monitor:
    store = TraceStore(tmp_path / "m.db")
    return Monitor(store.writer(store.create_trace("m", {}, {})), lambda f: False, Changes())


def test_the_environment_variable_chooses_the_pure_python_callback(monkeypatch, c_path, tmp_path):
    monkeypatch.setenv(line.PURE_PYTHON_VAR, "1")
    assert not line.accelerated()
    assert type(monitor_in(tmp_path).line_event).__name__ == "function"
    monkeypatch.setenv(line.PURE_PYTHON_VAR, "0")
    assert line.accelerated()
    fast = monitor_in(tmp_path).line_event
    assert isinstance(fast, line.LineFast)
    assert fast.fallback.__name__ == "line_event"


def test_without_the_accelerator_the_pure_python_callback_runs(monkeypatch, tmp_path):
    monkeypatch.delenv(line.PURE_PYTHON_VAR, raising=False)
    monkeypatch.setattr(line, "LineFast", None)
    assert not line.accelerated()
    assert type(monitor_in(tmp_path).line_event).__name__ == "function"


def test_a_missing_compiler_leaves_a_clear_note_and_the_build_goes_on(tmp_path):
    # (setup.py's build_ext, with a compiler that fails: the extension is optional)
    env = {**os.environ, "CC": "/bin/false", "LDSHARED": "/bin/false"}
    command = [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(tmp_path / "lib"),
               "--build-temp", str(tmp_path / "tmp")]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "note: pyrona.tracer._speedups not built" in done.stdout + done.stderr
    assert "note: pyrona.runtime._freezewalk not built" in done.stdout + done.stderr
    assert "runs its pure-Python twin" in done.stdout + done.stderr
    assert not list((tmp_path / "lib").rglob("*.so"))
