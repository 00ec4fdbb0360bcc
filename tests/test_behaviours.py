"""Behaviours (`@when`): the BoC rules, ownership of cowns' content, and bocpy's API."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrona import Cown, CownAccessError, Obj, RegionViolationError, quiesce, start, wait, when
from pyrona.runtime.regions import region_of, region_of_bridge
from pyrona.runtime.state import RUNTIME


class Account:
    def __init__(self, name: str, balance: int) -> None:
        self.name, self.balance = name, balance


def test_a_behaviour_runs_with_its_cowns_acquired_and_its_result_in_a_cown():
    start(workers=2)
    a, b = Cown(Account("a", 100)), Cown(Account("b", 0))

    @when(a, b)
    def transfer(src, dst):
        assert src.state == dst.state == "acquired"
        src.value.balance -= 30
        dst.value.balance += 30
        return src.value.balance + dst.value.balance

    @when(transfer)
    def check(total):
        return total.value

    wait()
    with check as total:
        assert total == 100
    with a as account:
        assert account.balance == 70


def test_behaviours_chain_through_result_cowns_as_bocpy_fibonacci_does():
    start(workers=2)

    def fib(n: int) -> Cown:
        if n <= 2:
            return Cown(1)

        @when(fib(n - 1), fib(n - 2))
        def add(f1, f2):
            return f1.value + f2.value

        return add

    result = fib(12)
    wait()
    with result as value:
        assert value == 144


def test_a_released_cowns_content_is_refused_outside_a_behaviour():
    start(workers=1)
    c = Cown(Account("a", 1))
    with pytest.raises(CownAccessError, match="not aquired"):
        _ = c.value
    other = Cown(Account("b", 2))
    seen = []

    @when(c)
    def peek(mine):
        seen.append(mine.value.balance)
        other.value  # not one of this behaviour's cowns  # noqa: B018

    with pytest.raises(ExceptionGroup) as caught:
        wait()
    assert seen == [1]
    [error] = caught.value.exceptions
    assert isinstance(error, CownAccessError) and error.kind == "cown-access"


def test_when_on_a_pending_cown_is_refused_at_the_when_call():
    account = Account("a", 1)
    c = Cown(account)  # `account` still points into the cown's region: pending
    with pytest.raises(CownAccessError, match="pending cown"):
        when(c)
    del account
    assert c.state == "released"


def test_objects_made_in_a_behaviour_move_into_the_cowns_region_and_the_result_is_moved():
    start(workers=2)
    c = Cown(Obj())

    @when(c)
    def add(box):
        box.value.item = Obj(n=1)  # (an Obj's stores are checked even in code not rewritten)
        return Obj(made="here")

    wait()
    with c as box:
        region = region_of_bridge(box)
        assert region is not None and region_of(box.item) is region
    with add as made:
        assert made.made == "here" and region_of_bridge(made).owner is add


def test_a_reference_kept_past_the_behaviours_end_is_a_region_violation():
    start(workers=2)
    c = Cown(Obj(secret=Obj()))
    leaked: list = []

    @when(c)
    def steal(box):
        leaked.append(box.value.secret)  # a local list outside the cown keeps the content

    with pytest.raises(ExceptionGroup) as caught:
        wait()
    [error] = caught.value.exceptions
    assert isinstance(error, RegionViolationError) and error.kind == "region-violation"
    assert "kept past the end of behaviour" in str(error) and "steal" in str(error)
    assert leaked == [None]  # the reference is cleared, so the content stays isolated


def test_exceptions_of_behaviours_are_never_lost():
    start(workers=2)
    cowns = [Cown(i) for i in range(4)]
    for c in cowns:
        @when(c)
        def fail(x):
            if x.value % 2:
                raise ValueError(f"odd {x.value}")

    with pytest.raises(ExceptionGroup) as caught:
        wait()
    assert sorted(str(e) for e in caught.value.exceptions) == ["odd 1", "odd 3"]
    wait()  # reported once


def test_a_behaviours_parameters_must_match_its_cowns():
    c = Cown(1)
    with pytest.raises(TypeError, match="lists 1 cown"):
        @when(c)
        def two(a, b):
            pass


def test_no_deadlock_with_overlapping_cown_sets_on_a_pool():
    """Every behaviour takes two of five cowns (the dining philosophers' ring, and
    more): with two workers the program ends, and each cown was held by one
    behaviour at a time."""
    start(workers=2)
    cowns = [Cown(Obj(uses=0)) for _ in range(5)]
    holding: set[int] = set()
    lock, clashes = threading.Lock(), []
    for round_ in range(20):
        for i in range(5):
            pair = (cowns[i], cowns[(i + 1 + round_ % 3) % 5])

            @when(*pair)
            def eat(left, right):
                keys = {id(left), id(right)}
                with lock:
                    if holding & keys:
                        clashes.append(keys)
                    holding.update(keys)
                left.value.uses += 1
                right.value.uses += 1
                with lock:
                    holding.difference_update(keys)

    wait(timeout=120)
    assert clashes == []
    total = 0
    for c in cowns:
        with c as fork:
            total += fork.uses
    assert total == 200


def _schedule(plan: list[list[int]], n_cowns: int) -> tuple[list[Cown], dict[int, list[int]]]:
    """Schedule one behaviour per entry of `plan` (the cowns it takes); returns the
    cowns and, per cown, the behaviours (by position in `plan`) in the order they ran."""
    cowns = [Cown(0) for _ in range(n_cowns)]  # (values: no walk at each end, the tests stay fast)
    ran: dict[int, list[int]] = {i: [] for i in range(n_cowns)}
    for index, picked in enumerate(plan):
        @when(*[cowns[i] for i in picked])
        def step(*held, index=index, picked=picked):
            for i in picked:
                ran[i].append(index)
    return cowns, ran


plans = st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(plan=plans, seed=st.integers(0, 2**32))
def test_behaviours_sharing_a_cown_run_in_scheduling_order_under_any_schedule(plan, seed):
    RUNTIME.reset()
    start(seed=seed)
    _, ran = _schedule(plan, 4)
    wait()
    for i, order in ran.items():
        assert order == [index for index, picked in enumerate(plan) if i in picked]


@settings(max_examples=40, deadline=None)
@given(plan=plans)
def test_the_ordering_rule_holds_on_a_pool_of_threads_too(plan):
    RUNTIME.reset()
    start(workers=3)
    _, ran = _schedule(plan, 4)
    wait(timeout=60)
    for i, order in ran.items():
        assert order == [index for index, picked in enumerate(plan) if i in picked]


@settings(max_examples=30, deadline=None)
@given(plan=plans, seed=st.integers(0, 2**32))
def test_a_seed_replays_its_schedule(plan, seed):
    orders = []
    for _ in range(2):
        RUNTIME.reset()
        sched = start(seed=seed)
        _schedule(plan, 4)
        wait()
        orders.append(list(sched.started))
    assert orders[0] == orders[1]


def test_seeds_choose_different_orders_among_independent_behaviours():
    plan = [[i] for i in range(4)]  # four behaviours on disjoint cowns: any order is allowed
    seen = set()
    for seed in range(20):
        RUNTIME.reset()
        sched = start(seed=seed)
        _schedule(plan, 4)
        wait()
        seen.add(tuple(sched.started))
    assert len(seen) > 1


def test_behaviours_scheduled_by_behaviours_wait_for_the_cowns_they_share():
    start(seed=3)
    log: list[str] = []
    c = Cown(Obj(n=0))

    @when(c)
    def outer(x):
        @when(x)  # x is acquired by outer: inner runs after outer releases it
        def inner(y):
            log.append(f"inner sees {y.value.n}")
        x.value.n = 1
        log.append("outer done")

    quiesce()
    assert log == ["outer done", "inner sees 1"]
    wait()


def test_wait_inside_a_behaviour_is_refused():
    start(seed=0)
    c = Cown(None)

    @when(c)
    def bad(x):
        wait()

    with pytest.raises(ExceptionGroup) as caught:
        wait()
    assert "inside a behaviour" in str(caught.value.exceptions[0])


def test_a_program_ended_by_waits_exception_group_reports_the_rules_kind(tmp_path):
    import json
    import subprocess
    import sys

    program = tmp_path / "leak.py"
    program.write_text("from pyrona import Cown, Obj, wait, when\nkept = []\nc = Cown(Obj())\n"
                       "@when(c)\ndef keep(x):\n    kept.append(x.value)\nwait()\n", encoding="utf-8")
    result = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "pyrona", "run", str(program), "--result", str(result)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "kept past the end of behaviour #1 keep" in proc.stderr
    assert json.loads(result.read_text())["error"]["kind"] == "region-violation"


@pytest.mark.parametrize("seed", [None, "1"])
def test_behaviours_not_waited_for_still_run_and_their_errors_end_the_program(tmp_path, seed):
    import os
    import subprocess
    import sys

    program = tmp_path / "nowait.py"
    program.write_text("from pyrona import Cown, when\nc = Cown(0)\n@when(c)\ndef a(x):\n"
                       "    print('ran without wait')\n@when(c)\ndef b(x):\n"
                       "    raise ValueError('not lost')\n"
                       "print('main done')\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYRONA_BOC_SEED"}
    if seed is not None:
        env["PYRONA_BOC_SEED"] = seed
    proc = subprocess.run([sys.executable, "-m", "pyrona", "run", str(program)],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 1
    assert sorted(proc.stdout.splitlines()) == ["main done", "ran without wait"]
    assert "ValueError: not lost" in proc.stderr and "(raised in behaviour #2 b)" in proc.stderr


def test_a_behaviour_calling_sys_exit_does_not_stop_the_pool():
    import sys

    start(workers=1)
    c = Cown(0)

    @when(c)
    def leave(x):
        sys.exit(3)

    @when(c)
    def after(x):
        x.value = 1

    with pytest.raises(BaseExceptionGroup) as caught:
        wait(timeout=60)
    assert [type(e) for e in caught.value.exceptions] == [SystemExit]
    with c as value:
        assert value == 1
