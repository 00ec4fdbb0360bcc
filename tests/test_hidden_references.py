"""After close(r), nothing of the program (module globals, frames, local objects) still
holds a former member of r: the rewriter's temporaries keep no hidden reference."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import hidden_refs_probe as probe
import pytest

from pyrona.instrument.runner import run_program
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore

HERE = Path(__file__).resolve().parent

#: Stores of every form the rewriter handles with a temporary, at module level, in a
#: function, in a class body and in a generator, a failing one, then close.
PROGRAM = """
import hidden_refs_probe as probe
from pyrona import Region, RegionViolationError, close

class Node:
    def __init__(self, tag):
        self.tag = tag

def make(tag):
    return Node(tag)

class Ctx:
    def __enter__(self):
        return make("with")
    def __exit__(self, *exc):
        return False

r = Region()
r.a = make("a")
r.b = r.c = [make("b")]
r.d, *r.e = make("d"), make("e")
for r.f in [make("f")]:
    pass
with Ctx() as r.g:
    pass
r.h: Node = make("h")
r.items = []
r.items[0:0] = [make("slice")]
r.items += [make("aug")]
r.items[0].tag = make("deep")

def fill(region):
    region.i = make("i")
    region.j = region.k = {"n": make("n")}
    for region.l in [make("l")]:
        pass
    region.items.append(make("append"))
fill(r)

class Holder:
    r.m = make("m")
    r.n, r.o = make("n"), make("o")

other = Region()
other.x = make("x")

def gen(region, foreign):
    region.p = make("p")
    try:
        region.bad = foreign.x
    except RegionViolationError:
        pass
    yield 1
    region.q = make("q")
    yield 2
g = gen(r, other)
next(g)

try:
    r.bad = other.x
except RegionViolationError:
    pass
try:
    r.bad2 = [other.x]
except RegionViolationError:
    pass

probe.watch(r, other)
close(r)
close(other)
print(probe.check())
"""


@pytest.fixture()
def program(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(PROGRAM))
    probe.watched.clear()
    yield path
    probe.watched.clear()


def test_the_probe_sees_a_reference_close_cannot_clear(tmp_path, program):
    # the builtins module is no root of the program: close leaves what it holds
    program.write_text(program.read_text().replace(
        "probe.watch(r, other)", "import builtins\nbuiltins.kept_member = r.a\nprobe.watch(r, other)"))
    import builtins
    try:
        assert run_program(program, [], tmp_path / "out.json") == 0
    finally:
        builtins.__dict__.pop("kept_member", None)
    assert len(probe.found) == 1 and "'kept_member'" in probe.found[0], probe.found


def test_run_leaves_no_hidden_reference(tmp_path, program):
    assert run_program(program, [], tmp_path / "out.json") == 0, (tmp_path / "out.json").read_text()
    assert probe.watched and probe.found == []


def test_traced_run_leaves_no_hidden_reference(tmp_path, program):
    outcome = trace_program(program, TraceStore(tmp_path / "t.db"))
    assert outcome.status == "done", outcome.message
    assert probe.watched and probe.found == []


def test_pyrona_run_command_leaves_no_hidden_reference(tmp_path, program):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYRONA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-m", "pyrona", "run", str(program), "--result",
                           str(tmp_path / "out.json")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {"ok": True}
    assert proc.stdout.strip() == "[]"
