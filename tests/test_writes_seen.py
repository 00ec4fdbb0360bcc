"""Changes the tracer must see however a program makes them: through an object's
`__dict__`, by a C method of a file, by library code we do not trace, in a dict whose
keys are named by position, in a class body a metaclass filled; and values it must be
able to show (ints past Python's 4,300-digit limit). Each program runs in verify mode:
the recorded graph equals a full walk of the heap at every step."""

from __future__ import annotations

import itertools
import textwrap

import pytest

from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore

PROGRAMS = {
    "dict_written_through": """\
        class A:
            def __init__(self, **kw):
                self.__dict__.update(kw)
        a = A(x=1, y=[2])
        a.__dict__["bee"] = "x"
        d = a.__dict__
        d["cee"] = 3
        del d["x"]
        done = 1
    """,
    "file_closed_by_with": """\
        import io
        with open(__file__, "rb") as infile:
            data = infile.read()
        again = io.BytesIO(data)
        again.close()
        done = 1
    """,
    "text_file_closed_by_with": """\
        import io
        # (a text file's close reaches its raw file through its buffer: two levels down)
        with open(__file__, "r", encoding="utf8") as infile:
            text = infile.read()
        class Raw(io.RawIOBase):
            def readable(self):
                return True
            def readinto(self, buffer):
                return 0
        wrapped = io.TextIOWrapper(io.BufferedReader(Raw()), encoding="ascii")
        wrapped.close()
        done = 1
    """,
    "list_extended_by_a_generator": """\
        # (the list changes at each of the generator's steps, inside the C call)
        def grow(stack, n):
            stack.extend(x * 2 for x in range(n) if stack.append(x) is None)
            return stack
        class Box:
            def __init__(self, v):
                self.v = v
        items = [Box(0)]
        items.extend(Box(len(items) + i) for i in range(3))
        grow(items, 3)
        more = {}
        more.update((k, items[k]) for k in range(2))
        done = 1
    """,
    "library_code_changes_what_an_object_holds": """\
        import logging
        import io
        stream = io.StringIO()
        handler = logging.StreamHandler(stream=stream)
        logger = logging.getLogger("pyrona-test")
        logger.propagate = False
        logger.addHandler(handler)
        done = 1
    """,
    "dict_keys_by_position": """\
        class K:
            pass
        k = K()
        d = {"a": 1, k: 2}
        del d["a"]
        memo = {}
        for i in range(4):
            memo[(K(), i)] = [i]
            memo["s" + str(i)] = i
        del memo["s1"]
        memo[k] = "new"
        del memo[k]
        keys = list(memo)
        for key in keys:
            memo[key] = [key]
        memo[keys[0]] = memo[keys[-1]] = None
        memo[(K(), 1)] = 0
        memo.pop(keys[1])
        memo[keys[2]] = 2
        done = 1
    """,
    "class_body_prepared": """\
        from enum import Enum
        class Colour(Enum):
            RED = 1
            GREEN = 2
        done = Colour.RED
    """,
    "sets": """\
        class P:
            pass
        s = set()
        for i in range(6):
            s.add(i)
            s.add(str(i))
        s.discard(3)
        s.remove("2")
        s.add(True)
        s.add(1.0)
        s.discard(1)
        s.add(1.0)
        s.add(1)
        p = P()
        s.add(p)
        s.add((1, p))
        s.discard(p)
        add = s.add
        add(99)
        s.add("x" * 80)
        s.add("y" * 80)
        s.add(10 ** 70)
        s.add(float("nan"))
        s.add(float("nan"))
        t = {1, 2}
        t |= {3}
        s.clear()
        done = 1
    """,
    "lists_popped": """\
        class L(list):
            pass
        a = [1, 2, 3, 4, 5, 6, 7, 8]
        a.pop()
        a.pop(0)
        a.pop(-1)
        a.pop(2)
        x = a.pop(len(a) - 1)
        del a[-1]
        del a[0]
        a.append(a.pop())
        a.append(9); a.pop()
        a.append(9); a.pop(0)
        b = L([1, 2, 3])
        b.pop()
        p = a.pop
        p()
        try:
            [].pop()
        except IndexError:
            pass
        c = [[1], [2], [3]]
        top = c.pop()
        c.pop(); c.pop()
        done = 1
    """,
    "deques": """\
        from collections import deque
        class N:
            def __init__(self, v):
                self.v = v
        q = deque([N(0), 1, "a"])
        q.append(N(1))
        q.popleft()
        q.popleft(); q.append(2)
        q.appendleft(N(2)); q.appendleft(3)
        q.extend([4, N(5)])
        q.pop()
        q.popleft(); q.appendleft(6); q.popleft(); q.popleft()
        q[0] = "first"
        q[-1] = N(7)
        q.rotate(1)
        q.popleft()
        take = q.popleft
        take()
        q.extendleft([8, 9])
        q.remove(8)
        q.insert(1, "in")
        del q[0]
        bounded = deque([1, 2], maxlen=2)
        bounded.append(3)
        try:
            deque().popleft()
        except IndexError:
            pass
        while q:
            q.popleft()
        q.append(10)
        done = 1
    """,
    "sets_of_tuples": """\
        from collections import namedtuple
        P = namedtuple("P", "x y")
        class Node:
            pass
        seen = set()
        for i in range(5):
            seen.add((i, "a"))
            seen.add(P(i, (i, None)))
        seen.add((1, "a"))
        seen.add((True, "a"))
        seen.add((1.0, "a"))
        seen.discard((2, "a"))
        seen.discard((2, "a"))
        seen.remove(P(3, (3, None)))
        n = Node()
        seen.add(n)
        seen.add(n)
        seen.discard(n)
        seen.add(Node())
        seen.add((1, [2]) and (1, 2))
        seen |= {(7, 7)}
        seen.add((9, "z")); seen.discard((9, "z")); seen.add((8, "z"))
        done = 1
    """,
    # (an augmented store into an attribute or an item: a list's += changes the list the
    # attribute still holds)
    "search_states": """\
        # (mdp's shapes: states of namedtuples of namedtuples added to a set, tables of
        # Fractions by int and by state, a namedtuple's _replace run by library code)
        from collections import defaultdict, namedtuple
        from fractions import Fraction
        Stats = namedtuple("Stats", "atk df")
        Half = namedtuple("Half", "fixed hp stats")
        class Odd:
            def __eq__(self, other):
                return self is other
            def __hash__(self):
                return 7
        me = Half((10, Stats(1, 2)), 5, Stats(3, 4))
        them = me._replace(hp=4)
        visited = set()
        for hp in range(4):
            state = (0, (me._replace(hp=hp), them, 0))
            visited.add(state)
            visited.add((0, (me._replace(hp=hp), them, 0)))  # (equal, not the same)
        visited.add((1, (Odd(), me)))  # (compared by the program's __eq__: read whole)
        visited.add(tuple(range(200)))  # (past the items looked at: read whole)
        visited.discard((0, (me._replace(hp=2), them, 0)))
        dist = defaultdict(Fraction)
        for x in (3, 5, 3, 8):
            dist[x] += Fraction(1, x)
        table = defaultdict(Fraction)
        for hp in (1, 2, 1):
            table[(me._replace(hp=hp), them, 0)] += Fraction(hp, 3)
        fresh = [(me, hp) for hp in range(3)]
        total = sum(p for x, p in dist.items())  # (dict's own method: nothing changes)
        extra = defaultdict(list)
        grown = extra.__getitem__("new")  # (its __missing__, C code, adds the key)
        mult = Fraction(1, 3)
        mult /= 2  # (a new Fraction: the old one unchanged)
        done = 1
    """,
    "in_place_through_a_store": """\
        class Node:
            def __init__(self):
                self.tags = []
        node = Node()
        node.tags += [None, 1.5]
        node.tags += [node]
        node.tags *= 2
        table = {"k": [1]}
        table["k"] += [2, table]
        table["k"] *= 2
        node.count = 1
        node.count += 1
        done = 1
    """,
    "huge_ints": """\
        x = 10 ** 5000
        y = -x
        z = 10 ** 70
        small = 2 ** 62
        pair = (x, z)
        one = (y,)
        done = 1
    """,
}


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    folder = tmp_path_factory.mktemp("writes")
    store = TraceStore(folder / "traces.db")
    out = {}
    for name, source in PROGRAMS.items():
        path = folder / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        out[name] = trace_program(path, store, verify=True)
    return store, out


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_step_equals_a_heap_walk(traced, name):
    store, outcomes = traced
    outcome = outcomes[name]
    assert outcome.status == "done", outcome.message
    summary = store.trace(outcome.trace).summary
    assert summary["verify_problems"] == [] and summary["readback_problems"] == []


def last_fields(store: TraceStore, outcome) -> dict[str, str]:
    graph = store.step(outcome.trace, store.step_count(outcome.trace) - 1)
    return {f.name: f.value for f in graph.fields}


def test_huge_ints_are_shown_by_their_size(traced):
    store, outcomes = traced
    fields = last_fields(store, outcomes["huge_ints"])
    assert fields["x"] == "<int of 16,610 bits>" and fields["y"] == "<int of 16,610 bits>"
    assert fields["z"] == str(10 ** 70)[:59] + "…" and fields["small"] == str(2 ** 62)
    # in a tuple too (pidigits: every step that stored a 4-tuple of them wrote every digit)
    assert fields["pair"] == ("(<int of 16,610 bits>, " + str(10 ** 70))[:59] + "…"
    assert fields["one"] == "(<int of 16,610 bits>,)"


def test_a_dict_with_object_keys_names_them_by_position(traced):
    store, outcomes = traced
    outcome = outcomes["dict_keys_by_position"]
    graph = store.step(outcome.trace, store.step_count(outcome.trace) - 1)
    [d] = [e.dst for e in graph.edges if e.name == "d"]
    assert sorted(e.name for e in graph.edges if e.src == d) == ["key0"]  # (was key1: "a" went)
    assert [(f.name, f.value) for f in graph.fields if f.node == d] == [("value0", "2")]


def verified(tmp_path, name: str, source: str) -> tuple[TraceStore, int]:
    """`source` traced in verify mode (no step differs from a heap walk): the store and trace."""
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    store = TraceStore(tmp_path / f"{name}.db")
    outcome = trace_program(path, store, verify=True)
    assert store.trace(outcome.trace).summary["verify_problems"] == []
    return store, outcome.trace


def held_by(store: TraceStore, trace: int, variable: str, first: int) -> list[dict[str, str]]:
    """The plain values held by the node of `variable` (as it is at step `first`), at each
    step from `first` on: {slot name: value text}."""
    [node] = [e.dst for e in store.step(trace, first).edges if e.name == variable]
    return [{f.name: f.value for f in store.step(trace, i).fields if f.node == node}
            for i in range(first, store.step_count(trace))]


def test_a_set_names_ints_and_strs_by_their_text(tmp_path):
    """Adding to a set changes one slot: its elements are named by their text, not by
    their position in a sorted order (which renamed every element after the new one)."""
    source = "s = set()\nfor i in range(30):\n    s.add(29 - i)\n    s.add(f'k{i}')\ndone = 1\n"
    path = tmp_path / "grow.py"
    path.write_text(source)
    store = TraceStore(tmp_path / "grow.db")
    outcome = trace_program(path, store)
    graph = store.step(outcome.trace, store.step_count(outcome.trace) - 1)
    [s] = [e.dst for e in graph.edges if e.name == "s"]
    held = {f.name: f.value for f in graph.fields if f.node == s}
    assert held == {**{f"{{{i}}}": str(i) for i in range(30)},
                    **{f"{{'k{i}'}}": f"'k{i}'" for i in range(30)}}
    # each step's line added one element: no slot of the set ended before the end
    first = store.step(outcome.trace, 4)
    kept = {f.name: f.value for f in first.fields if f.node == s}
    assert kept.items() <= held.items() and len(kept) >= 2


def test_popping_a_stack_ends_one_slot_per_pop(tmp_path):
    """A stack popped at every step: each pop ends the slot of the last element only (a
    rescan of the whole list at each pop cost 13 ms per step at 20,000 elements)."""
    source = "stack = list(range(50))\nwhile stack:\n    top = stack.pop()\ndone = 1\n"
    store, trace = verified(tmp_path, "stack", source)
    sizes = [len(held) for held in held_by(store, trace, "stack", 1)]
    assert sizes[0] == 50 and sizes[-1] == 0
    assert all(a - b in (0, 1) for a, b in itertools.pairwise(sizes))


def test_a_queue_names_its_elements_by_coordinates_that_do_not_shift(tmp_path):
    """A deque consumed at its front: each popleft ends the slot of the first element only,
    and the others keep their names (`[k]`, k counted from where the queue's front was
    when the tracer first saw it), so a step costs the same at any length (positional
    names renamed every element: a BFS over a queue of 3,000 took 10 s for 6,000 steps)."""
    store, trace = verified(tmp_path, "queue", "from collections import deque\nq = deque(range(40))\n"
                            "while q:\n    q.append(-q.popleft()) if q[0] > 0 and q[0] % 2 else q.popleft()\n"
                            "done = 1\n")
    held = held_by(store, trace, "q", 2)
    assert held[0] == {f"[{i}]": str(i) for i in range(40)}
    assert held[-1] == {}
    for before, after in itertools.pairwise(held):
        gone, came = before.keys() - after.keys(), after.keys() - before.keys()
        assert len(gone) <= 1 and len(came) <= 1  # (one popped, one appended at most)
        assert all(before[name] == after[name] for name in before.keys() & after.keys())
    # an odd value goes round once, negated: appended past the last coordinate
    assert {**{f"[{i}]": str(i) for i in range(2, 40)}, "[40]": "-1"} in held


def test_a_set_of_tuples_numbers_them_and_adding_changes_one_slot(tmp_path):
    """Elements of a set not named by their text (tuples, objects) keep a number while
    they stay (`{#k}`): adding one changes one slot (sorted positions renamed the tail:
    mdp's set of visited states cost 17-22 µs per step)."""
    source = "visited = set()\nfor i in range(30):\n    visited.add((29 - i, 'x'))\ndone = 1\n"
    store, trace = verified(tmp_path, "visited", source)
    held = held_by(store, trace, "visited", 1)
    assert held[-1] == {f"{{#{k}}}": f"({29 - k}, 'x')" for k in range(30)}
    for before, after in itertools.pairwise(held):
        assert before.items() <= after.items() and len(after) - len(before) <= 1


def test_replacing_the_value_of_an_object_key_changes_one_slot(tmp_path):
    """A dict whose keys are objects names its pairs by position (`key{i}`, `value{i}`):
    replacing the value of a key it holds changes `value{i}` alone (it read the whole
    dict again: mdp's tables of states, keyed by tuples, cost a rescan per store)."""
    source = ("class S:\n    pass\nstates = [S() for _ in range(20)]\ntable = {s: 0 for s in states}\n"
              "for i, s in enumerate(states):\n    table[s] = i\ndone = 1\n")
    store, trace = verified(tmp_path, "table", source)
    count = store.step_count(trace)
    last = store.step(trace, count - 1)
    [table] = [e.dst for e in last.edges if e.name == "table"]
    values = {f.name: f.value for f in last.fields if f.node == table}
    assert values == {f"value{i}": str(i) for i in range(20)}
    assert sorted(e.name for e in last.edges if e.src == table) == sorted(f"key{i}" for i in range(20))
    held = [{f.name: f.value for f in store.step(trace, i).fields if f.node == table}
            for i in range(1, count)]
    for before, after in itertools.pairwise(held):
        if before:
            assert len({name for name in after if after[name] != before.get(name)}) <= 1


def test_a_set_of_nested_states_adds_one_slot_per_state(tmp_path):
    """A search's states (namedtuples of namedtuples of numbers, five levels deep) added to
    a set change one slot each: the set is not read whole at each add (mdp's set of
    visited states cost 5% of its run in rescans of a set of ~170)."""
    source = ("from collections import namedtuple\nS = namedtuple('S', 'a b')\n"
              "H = namedtuple('H', 'fixed hp stats')\nvisited = set()\nfor i in range(20):\n"
              "    visited.add((0, (H((1, S(2, 3)), i, S(4, 5)), 'x')))\ndone = 1\n")
    store, trace = verified(tmp_path, "states", source)
    steps = [store.step(trace, i) for i in range(store.step_count(trace))]
    [visited] = {e.dst for e in steps[-1].edges if e.name == "visited"}
    held = [{e.name: e.dst for e in graph.edges if e.src == visited} for graph in steps]
    assert sorted(held[-1]) == sorted(f"{{#{k}}}" for k in range(20))
    # each state a tuple whose second item holds an H of its own hp
    states = [held[-1][f"{{#{k}}}"] for k in range(20)]
    inner = [{e.name: e.dst for e in steps[-1].edges if e.src == s}["[1]"] for s in states]
    halves = [{e.name: e.dst for e in steps[-1].edges if e.src == s}["[0]"] for s in inner]
    fields = {(f.node, f.name): f.value for f in steps[-1].fields}
    assert [fields[(h, "[1]")] for h in halves] == [str(k) for k in range(20)]  # (hp)
    for before, after in itertools.pairwise(held):
        assert before.items() <= after.items() and len(after) - len(before) <= 1


def test_search_states_read_back(traced):
    """The search program's tables and set, as the last step has them."""
    store, outcomes = traced
    outcome = outcomes["search_states"]
    graph = store.step(outcome.trace, store.step_count(outcome.trace) - 1)
    edges = {(e.src, e.name): e.dst for e in graph.edges}
    roots = {e.name: e.dst for e in graph.edges}
    fields = {(f.node, f.name): f.value for f in graph.fields}
    dist = roots["dist"]
    # dist[x] += Fraction: a defaultdict's [x] slot refers to the Fraction it holds now
    assert sorted(name for (src, name) in edges if src == dist) == ["[3]", "[5]", "[8]"]
    third = edges[(dist, "[3]")]
    assert fields[(third, "_numerator")] == "2"
    assert fields[(third, "_denominator")] == "3"
    # the table keyed by states: two pairs, the first's value replaced
    table = roots["table"]
    assert sorted(name for (src, name) in edges if src == table) == ["key0", "key1", "value0", "value1"]
    assert fields[(edges[(table, "value0")], "_numerator")] == "2"
    # the set: four states, one gone, plus the two read whole
    visited = roots["visited"]
    assert len([name for (src, name) in edges if src == visited]) == 5
    # a new list of new tuples: each tuple's items are its slots
    fresh = roots["fresh"]
    firsts = [edges[(fresh, f"[{i}]")] for i in range(3)]
    assert [fields[(t, "[1]")] for t in firsts] == ["0", "1", "2"]
    assert all(edges[(t, "[0]")] == roots["me"] for t in firsts)
    assert edges[(roots["extra"], "['new']")] == roots["grown"]
    assert fields[(roots["mult"], "_denominator")] == "6"


def test_element_hint_takes_nested_plain_tuples_alone():
    """A set's add of a state nested five levels deep is one element's change (an Element
    hint); not when comparing it could run the program's code, nor past the items
    `element_hint` looks at (the set is then read whole)."""
    from collections import namedtuple

    from pyrona.tracer.hooks import PLAIN_TUPLE_ITEMS, Element, element_hint

    S = namedtuple("S", "a b")
    H = namedtuple("H", "fixed hp stats")
    state = (0, (H((1, S(2, 3)), 4, S(5, 6)), H((1, S(2, 3)), 0, S(5, 6)), 0))
    assert type(element_hint("add", state)) is Element
    assert element_hint("pop", state) is None

    class Odd(tuple):
        def __eq__(self, other):
            return False
        __hash__ = tuple.__hash__

    assert element_hint("add", (0, (H((1, Odd((2,))), 4, 5),))) is None
    assert element_hint("add", (0, (H(1, 4, object()),))) is None
    assert type(element_hint("add", tuple(range(PLAIN_TUPLE_ITEMS)))) is Element
    assert element_hint("add", tuple(range(PLAIN_TUPLE_ITEMS + 1))) is None
