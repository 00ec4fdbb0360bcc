"""Freeze's two implementations of its hot loops: the C ones (pyrona/runtime/_freezewalk.c,
built by the install) and their pure-Python twins. Tests of freezing run with both."""

from __future__ import annotations

import pytest

from pyrona.runtime import _freezewalk, freezing

#: name -> (take_plain, children)
WALKS = {
    "c": (_freezewalk.take_plain, _freezewalk.children),
    "python": (freezing._take_plain_py, freezing._children_py),
}


def use_walk(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    take_plain, children = WALKS[name]
    monkeypatch.setattr(freezing, "take_plain", take_plain)
    monkeypatch.setattr(freezing, "children", children)
