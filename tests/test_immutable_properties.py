"""Property: a freeze is all or nothing, whatever stops it (hypothesis, random object graphs).

Random graphs of instances, lists and dicts, some marked FREEZABLE_NO or
FREEZABLE_EXPLICIT, some with a `__pre_freeze__` that raises. Freezing a random set
of roots either freezes exactly what is reachable (when nothing reachable blocks it)
or raises and leaves every object's frozen state as it was.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyrona.immutable import FREEZABLE_EXPLICIT, FREEZABLE_NO, freeze, is_frozen, set_freezable
from pyrona.runtime.state import RUNTIME

from freeze_walks import WALKS, use_walk

@pytest.fixture(autouse=True, params=sorted(WALKS))
def walk(request, monkeypatch):
    """Every test twice: with freeze's C loops and with their pure-Python twins."""
    use_walk(request.param, monkeypatch)
    return request.param


class Node:
    pass


class Hooked:
    def __pre_freeze__(self):
        if self.fail:
            raise ValueError("hook refused")


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 12))
    kinds = ["node", "list", "dict", "hooked", "hooked-fail"]
    shapes = draw(st.lists(st.sampled_from(kinds), min_size=n, max_size=n))
    marks = draw(st.lists(st.sampled_from([None, None, None, "no", "explicit"]), min_size=n, max_size=n))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    roots = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    frozen_before = draw(st.lists(st.integers(0, n - 1), max_size=2, unique=True))
    return shapes, marks, edges, roots, frozen_before


def build(shapes, edges):
    objs = []
    for shape in shapes:
        if shape == "list":
            objs.append([])
        elif shape == "dict":
            objs.append({})
        elif shape == "node":
            objs.append(Node())
        else:
            obj = Hooked()
            obj.fail = shape == "hooked-fail"
            objs.append(obj)
    for k, (a, b) in enumerate(edges):
        src, dst = objs[a], objs[b]
        if isinstance(src, list):
            src.append(dst)
        elif isinstance(src, dict):
            src[f"k{k}"] = dst
        else:
            setattr(src, f"e{k}", dst)
    return objs


def references(obj):
    """What `obj` references, by identity."""
    if isinstance(obj, list):
        return [id(x) for x in obj]
    items = obj.items() if isinstance(obj, dict) else vars(obj).items()
    return sorted((k, id(v)) for k, v in items)


def reachable(objs, edges, roots, frozen):
    seen, stack = set(), list(roots)
    while stack:
        i = stack.pop()
        if i in seen or i in frozen:
            continue
        seen.add(i)
        stack.extend(b for a, b in edges if a == i)
    return seen


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_freeze_is_all_or_nothing(graph):
    RUNTIME.reset()
    shapes, marks, edges, roots, frozen_before = graph
    objs = build(shapes, edges)
    for i in frozen_before:  # some parts frozen earlier (what they reach too)
        if marks[i] is None and shapes[i] != "hooked-fail":
            try:
                freeze(objs[i])
            except (TypeError, ValueError):
                pass
    already = {i for i, o in enumerate(objs) if is_frozen(o)}
    for i, mark in enumerate(marks):
        if i not in already and mark is not None:
            set_freezable(objs[i], FREEZABLE_NO if mark == "no" else FREEZABLE_EXPLICIT)
    reach = reachable(objs, edges, roots, already)
    # a hook runs once per object, ever (the prototype's rule): one that already ran, in a
    # freeze that failed, does not stop this one
    ran = {i for i, o in enumerate(objs) if id(o) in RUNTIME.pre_frozen}
    blocked = any(
        marks[i] == "no" or (marks[i] == "explicit" and i not in roots)
        or (shapes[i] == "hooked-fail" and i not in ran)
        for i in reach
    )
    contents = [references(o) for o in objs]
    try:
        freeze(*(objs[i] for i in roots))
        failed = False
    except (TypeError, ValueError):
        failed = True
    assert failed == blocked
    state = {i for i, o in enumerate(objs) if is_frozen(o)}
    if failed:
        assert state == already  # nothing changed
    else:
        assert state == already | reach
    assert [references(o) for o in objs] == contents  # no reference was changed either
