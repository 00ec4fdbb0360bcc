"""The C accelerator's `group_json` writes a nodes GROUP row's detail as the very text the
pure-Python reference (`store_format.group_detail_py`) writes: orjson's spelling, or the json
module's where the reference uses it (a trace's first rows, a lone surrogate); anything it
does not write the same way it leaves to the reference (None), never a different text."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrona.tracer import store_format
from pyrona.tracer.store_format import group_detail, group_detail_py

FAST = settings(max_examples=200, deadline=None)
#: texts a program's names and values may hold: escapes, non-ASCII, astral, lone surrogates
TEXTS = st.sampled_from(["", "a", "frame", "local", "None", "é", "\U0001f600", "a\x1fb", "\x7f", 'q"\\',
                         "\n\t\r\b\f", "\u2028", "\ud800", "x\udfff"]) | st.text(max_size=6)
#: ints as rows hold them, and past orjson's 64 bits (the reference writes those by json)
INTS = st.integers(0, 60) | st.integers(-(2**63), 2**64 - 1) | st.integers(2**64, 2**70)


def needs_c() -> None:
    if store_format._group_json is None:
        if os.environ.get("CI"):
            pytest.fail("the C extension (tracer/_speedups.c) was not built: run `make setup`")
        pytest.skip("the C extension was not built")


@st.composite
def entries(draw: st.DrawFn, ints: st.SearchStrategy = INTS) -> list[tuple]:
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        slots = {}
        for name in draw(st.lists(TEXTS, max_size=4, unique=True)):
            run = draw(st.none() | st.just([]) | st.lists(ints | TEXTS, min_size=2, max_size=6))
            slots[name] = (draw(ints), draw(ints), None, run) if draw(st.booleans()) \
                else (draw(ints), None, draw(TEXTS), run)
        rows.append((draw(ints), draw(ints), draw(ints), draw(TEXTS), draw(TEXTS), draw(TEXTS), draw(TEXTS),
                     draw(TEXTS), slots))
    return rows


@FAST
@given(rows=entries(), fast=st.booleans())
def test_c_and_pure_python_write_the_same_text(rows, fast):
    needs_c()
    expected = group_detail_py(rows, fast)
    text = store_format._group_json(rows, not fast)
    if text is not None:
        assert text == expected
    assert group_detail(rows, fast) == expected
    json.loads(expected)


@FAST
@given(rows=entries(ints=st.integers(0, 5) | st.integers(-(2**63), 2**63 - 1)))
def test_c_writes_every_row_of_ints_within_64_bits(rows):
    # (steps and node ids: signed 64-bit ints; past them the reference writes the row)
    needs_c()
    assert store_format._group_json(rows, False) == group_detail_py(rows, True)
    assert store_format._group_json(rows, True) == group_detail_py(rows, False)


def test_what_c_does_not_write_alike_goes_to_the_reference():
    needs_c()
    good = (1, 0, 5, "list", "list", "local", "list", "", {"[0]": (1, None, "x", None)})
    assert store_format._group_json([good], False) == group_detail_py([good])
    odd = [
        (*good[:8], {"[0]": (1, None, "x", None), "b": (True, None, "y", None)}),  # a bool
        (*good[:8], {"[0]": (1, 2**64, None, None)}),  # past 64 bits
        (*good[:3], 7, *good[4:]),  # a kind that is no text
        (*good[:8], {"[0]": (1, None, "x", (1, "a"))}),  # a run that is no list
        (*good[:8], {"[0]": (1.5, None, "x", None)}),  # a float
    ]
    for entry in odd:
        assert store_format._group_json([entry], False) is None
    assert group_detail([odd[1]]) == group_detail_py([odd[1]])
    with pytest.raises(TypeError):
        store_format._group_json((good,), False)
    assert store_format._group_json([good[:5]], False) is None


def test_a_lone_surrogate_makes_the_json_modules_text_as_the_reference_does():
    needs_c()
    rows = [(1, 0, 5, "frame", "frame", "local", "f()", "", {"\ud800": (1, None, "é", None)})]
    text = store_format._group_json(rows, False)
    assert text == group_detail_py(rows, True) == group_detail_py(rows, False)
    assert "\\u00e9" in text  # (ASCII throughout, as the json module writes it)


def test_pure_python_is_forced_by_the_environment(monkeypatch):
    rows = [(1, 0, 5, "frame", "frame", "local", "f()", "", {"x": (1, None, "é", [0, "1"])})]
    monkeypatch.setattr(store_format, "_group_json", lambda *args: pytest.fail("C called"))
    monkeypatch.setenv(store_format.PURE_PYTHON_VAR, "1")
    assert group_detail(rows) == group_detail_py(rows)
