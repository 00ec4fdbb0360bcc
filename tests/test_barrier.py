"""The write barrier: moves, ownership, cross-region errors, and failing stores changing nothing."""

from __future__ import annotations

import pytest

from pyrona import Obj, Region, RegionError, RegionViolationError, enable_implicit_freezing, isfrozen
from pyrona.runtime.regions import region_of
from pyrona.runtime.state import RUNTIME


def test_new_objects_are_local_and_a_store_moves_the_reachable_subgraph():
    r = Region()
    a = Obj()
    a.b = Obj()
    a.b.items = [Obj(), {"k": Obj()}]
    assert region_of(a) is None
    r.a = a
    region = r._pyrona_meta
    assert region_of(a) is region
    assert region_of(a.b) is region
    assert region_of(a.b.items) is region
    assert region_of(a.b.items[0]) is region
    assert region_of(a.b.items[1]["k"]) is region


def test_reference_to_a_non_bridge_object_of_another_region_is_refused():
    r1, r2 = Region(), Region()
    r1.a = Obj()
    with pytest.raises(RegionViolationError) as info:
        r2.a = r1.a
    assert info.value.kind == "region-violation"
    assert "Cannot reference an object from another region" in str(info.value)
    assert "region #1" in str(info.value) and "region #2" in str(info.value)
    assert "a" not in r2


def test_a_bridge_of_a_root_region_becomes_a_child():
    r1, r2 = Region(), Region()
    r1.child = r2
    assert r2._pyrona_meta.parent is r1._pyrona_meta
    with pytest.raises(RegionViolationError, match="already has a parent"):
        Region().other = r2
    with pytest.raises(RegionViolationError, match="already has a parent"):
        r1.again = r2  # a second owning reference, even from the same region


def test_a_parent_link_that_would_make_a_cycle_is_refused():
    r1, r2, r3 = Region(), Region(), Region()
    r1.c = r2
    r2.c = r3
    with pytest.raises(RegionViolationError, match="Cycle created in region hierarchy"):
        r3.c = r1
    assert r1._pyrona_meta.parent is None


def test_overwriting_the_owning_reference_unparents_the_child():
    r1, r2 = Region(), Region()
    r1.data = Obj()
    r1.data.r2 = r2
    r1.data.r2 = None
    assert r2._pyrona_meta.parent is None
    r2.r1 = r1  # now legal the other way round
    assert r1._pyrona_meta.parent is r2._pyrona_meta


def test_a_failing_store_moves_nothing():
    r1, r2 = Region(), Region()
    r1.a = Obj()
    local = Obj()
    local.child = Obj()
    local.bad = r1.a  # a local object may borrow into r1
    with pytest.raises(RegionError):
        r2.x = local  # moving local would make r2 reference r1's object
    assert region_of(local) is None and region_of(local.child) is None
    assert "x" not in r2
    assert set(r2._pyrona_meta.members) == {id(r2), id(r2.__dict__)}  # only the bridge (and its fields)


def test_a_failing_move_does_not_adopt_bridges_met_on_the_way():
    r1, r2, r3 = Region(), Region(), Region()
    r1.a = Obj()
    local = Obj()
    local.sub = r3
    local.bad = r1.a
    with pytest.raises(RegionViolationError):
        r2.x = local
    assert r3._pyrona_meta.parent is None


def test_bridge_of_the_same_region_and_cycles_inside_a_region_are_fine():
    r = Region()
    r.f = Obj()
    r.f.bridge = r
    r.f.me = r.f
    assert region_of(r.f) is r._pyrona_meta


def test_implicit_freezing_freezes_a_shared_target_instead_of_failing():
    enable_implicit_freezing()
    r1, r2 = Region(), Region()
    share = Obj()
    share.text = "info"
    r1.info = share
    r2.info = share
    assert isfrozen(share)
    assert region_of(share) is None and RUNTIME.places[id(share)] is not None


def test_values_functions_and_classes_are_never_moved():
    r = Region()

    class Thing:
        pass

    def helper():
        return 1

    r.n, r.s, r.t, r.f, r.c = 1, "s", (1, "x"), helper, Thing
    assert region_of(helper) is None and region_of(Thing) is None
    other = Region()
    other.t = r.t  # a tuple of values is a value
    other.f = r.f


# --- stores that call program code: property setters and descriptors -------------

SETTERS = """
from pyrona import Obj, Region, freeze

class Box:
    def __init__(self):
        self._items = None

    @property
    def items(self):
        return self._items

    @items.setter
    def items(self, value):
        self._items = value  # STORE

    @items.deleter
    def items(self):
        del self._items  # DELETE

class Field:
    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        return obj.__dict__[self.name]

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value  # FIELD

class Plain:
    items = Field()

class Node(Obj):
    @property
    def items(self):
        return self._items

    @items.setter
    def items(self, value):
        self._items = value  # NODE

r, other = Region(), Region()
other.stuff = foreign = [1]
"""

#: A store through a setter that breaks a rule, and the error's kind.
FAILING_SETTERS = [
    ("r.box = b = Box()\nb.items = foreign", "region-violation", "STORE"),
    ("r.box = b = Box()\nsetattr(b, 'items', foreign)", "region-violation", "STORE"),
    ("r.p = p = Plain()\np.items = foreign", "region-violation", "FIELD"),
    ("r.n = n = Node()\nn.items = foreign", "region-violation", "NODE"),
    ("b = Box()\nfreeze(b)\nb.items = [2]", "frozen-mutation", "STORE"),
    ("b = Box()\nfreeze(b)\ndel b.items", "frozen-mutation", "DELETE"),
    ("b = Box()\nfreeze(b)\nb.items = 1", "frozen-mutation", "STORE"),
]


def _line_of(source: str, mark: str) -> int:
    return next(i for i, text in enumerate(source.splitlines(), 1) if f"# {mark}" in text)


@pytest.mark.parametrize("stmt, kind, mark", FAILING_SETTERS)
def test_an_error_in_a_setter_points_at_the_setters_store(stmt, kind, mark, tmp_path, capsys):
    import json

    from pyrona.instrument.runner import run_program

    program = tmp_path / "prog.py"
    program.write_text(SETTERS + stmt + "\n")
    assert run_program(program, [], tmp_path / "out.json") == 1
    error = json.loads((tmp_path / "out.json").read_text())["error"]
    line = _line_of(SETTERS, mark)
    assert (error["kind"], error["line"]) == (kind, line), error
    frames = [text for text in capsys.readouterr().err.splitlines() if text.startswith("  File ")]
    assert frames[-1].endswith(f'prog.py", line {line}, in {"__set__" if mark == "FIELD" else "items"}')
    assert frames[-2].endswith(f'prog.py", line {len(SETTERS.splitlines()) + len(stmt.splitlines())}, '
                               f"in <module>")


def test_a_setter_decides_what_is_stored():
    from pyrona.instrument.hooks import HOOKS
    from pyrona.instrument.rewrite import compile_program

    source = SETTERS.replace("self._items = value  # STORE\n\n    @items.deleter",
                             "self._items = list(value)\n\n    @items.deleter")
    source += "r.box = b = Box()\nb.items = foreign\nkept = b.items\n"
    ns = {"__name__": "prog", **HOOKS}
    exec(compile_program(source, "prog.py"), ns)
    assert ns["kept"] == [1] and region_of(ns["kept"]) is ns["r"]._pyrona_meta
    assert region_of(ns["foreign"]) is ns["other"]._pyrona_meta  # the copy moved, not the original
