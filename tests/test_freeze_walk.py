"""Freeze's hot loops in C (pyrona/runtime/_freezewalk.c) against their pure-Python twins
(freezing._take_plain_py, _children_py): built by the install, the same answers in the
same order on random graphs, and the pure-Python path taken when the C one is missing."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from freeze_walks import WALKS
from pyrona.runtime import _freezewalk, freezing
from pyrona.runtime.freezability import ATTR, FREEZABLE_NO
from pyrona.runtime.state import FROZEN


class Plain:
    pass


class Other:
    pass


def test_the_install_built_the_c_loops_and_freeze_uses_them():
    assert freezing.take_plain is _freezewalk.take_plain
    assert freezing.children is _freezewalk.children
    assert _freezewalk.__file__.endswith(".so")


def test_without_the_c_loops_freeze_runs_the_pure_python_ones():
    probe = (
        "import sys; sys.modules['pyrona.runtime._freezewalk'] = None\n"
        "from pyrona.runtime import freezing\n"
        "from pyrona import freeze, isfrozen\n"
        "assert freezing.take_plain is freezing._take_plain_py\n"
        "assert freezing.children is freezing._children_py\n"
        "class P: pass\n"
        "p = P(); p.items = [{'a': [1]}, (2, [3])]\n"
        "freeze(p)\n"
        "assert isfrozen(p.items[0]['a']) and isfrozen(p.items[1][1]) and isfrozen(vars(p))\n"
        "print('pure')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "pure"


def make(shape: str, k: int):
    if shape == "list":
        return [k, "s", [k]]
    if shape == "dict":
        return {"a": [k], 1: (k,), (2,): {}}
    if shape == "tuple":
        return ([k], "x")
    if shape == "set":
        return {k, (k, "y")}
    return {"plain": Plain, "other": Other}[shape]() if shape != "int" else k


@st.composite
def levels(draw):
    """A level of the walk: lists, dicts, tuples, sets, plain and other instances, with
    repeats, some met before, some instances with a status or a dict placed apart."""
    n = draw(st.integers(0, 14))
    shapes = draw(st.lists(st.sampled_from(["list", "dict", "tuple", "set", "plain", "other", "int"]),
                           min_size=n, max_size=n))
    pool: list = []
    for k, shape in enumerate(shapes):
        obj = make(shape, k)
        if isinstance(obj, (Plain, Other)):
            obj.x, obj.items = [k], {"k": k}
        pool.append(obj)
    level = [pool[i] for i in draw(st.lists(st.integers(0, n - 1), max_size=2 * n))] if n else []
    found_before = draw(st.lists(st.sampled_from(level), max_size=3)) if level else []
    marked = draw(st.sampled_from(["none", "status", "dict-placed"]))
    plain_instances = [o for o in level if type(o) is Plain]
    places: dict = {}
    if plain_instances and marked == "status":
        plain_instances[0].__dict__[ATTR] = FREEZABLE_NO
    elif plain_instances and marked == "dict-placed":
        places[id(vars(plain_instances[-1]))] = FROZEN
    dict_before = draw(st.booleans()) and bool(plain_instances)
    return level, found_before, places, dict_before, plain_instances


def run_take_plain(walk: str, level, found_before, places, dict_before, plain_instances):
    take_plain = WALKS[walk][0]
    found = freezing.FreezePlan(())
    for obj in found_before:
        found[id(obj)] = obj
    if dict_before:
        found[id(vars(plain_instances[0]))] = vars(plain_instances[0])
    plain = {list: freezing._ITEMS, set: freezing._ITEMS, dict: freezing._DICT, Plain: freezing._INSTANCE}
    plain = {t: how for t, how in plain.items() if any(type(o) is t for o in level)}
    bulk: list = []
    dicts: list = []
    rest, rest_ids = take_plain(list(level), list(map(id, level)), found, plain, places, ATTR, bulk, dicts)
    assert rest_ids == list(map(id, rest))
    return list(map(id, rest)), list(found.items()), list(map(id, bulk)), list(map(id, dicts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levels())
def test_take_plain_in_c_matches_its_twin(case):
    assert run_take_plain("c", *case) == run_take_plain("python", *case)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levels(), st.booleans())
def test_children_in_c_matches_its_twin(case, odd_keys):
    level = case[0]
    bulk = [o for o in level if type(o) in (list, tuple, set)]
    dicts = [o for o in level if type(o) is dict] + [vars(o) for o in level if type(o) in (Plain, Other)]
    if not odd_keys:
        dicts = [{k: v for k, v in d.items() if type(k) is str} for d in dicts]
    keep_c = defaultdict(lambda: True, {int: False, str: False})
    keep_py = defaultdict(lambda: True, {int: False, str: False})
    got = _freezewalk.children(bulk, dicts, keep_c)
    want = freezing._children_py(bulk, dicts, keep_py)
    assert list(map(id, got)) == list(map(id, want))
