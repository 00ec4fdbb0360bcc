"""pyrona.immutable against the behaviours CPython's prototype tests (Lib/test/test_freeze/).

Each test names the prototype test it comes from (`file::Class::test`); they are
written anew for our runtime. Programs whose behaviour needs the rewriter (a write
refused, a global rebinding refused) run rewritten through `program()`. The prototype
tests left out, and why, are listed in docs/immutable.md.
"""

from __future__ import annotations

import gc
import inspect
import types
import weakref

import pytest

from pyrona.immutable import (
    FREEZABLE_EXPLICIT,
    FREEZABLE_NO,
    FREEZABLE_PROXY,
    FREEZABLE_YES,
    FreezabilityOverride,
    ImmutableModule,
    InterpreterLocal,
    NotFreezableError,
    SharedField,
    explicitlyFreezable,
    freezable,
    freeze,
    frozen,
    get_freezable,
    is_frozen,
    isfrozen,
    require_mutable,
    set_freezable,
    unfreezable,
    unset_freezable,
)
from pyrona.instrument.hooks import HOOKS
from pyrona.instrument.rewrite import compile_program
from pyrona.runtime.functions import detached_twin
from pyrona.runtime.stores import method, store_attr, store_item

from freeze_walks import WALKS, use_walk


@pytest.fixture(autouse=True, params=sorted(WALKS))
def walk(request, monkeypatch):
    """Every test twice: with freeze's C loops and with their pure-Python twins."""
    use_walk(request.param, monkeypatch)
    return request.param


def program(source: str) -> dict:
    """Run `source` rewritten, as `pyrona run` would; returns its globals."""
    namespace = dict(HOOKS, __name__="prog")
    exec(compile_program(source, "prog.py"), namespace)
    return namespace


def fresh_class(status: int | None = FREEZABLE_YES) -> type:
    class C:
        pass

    if status is not None:
        set_freezable(C, status)
    return C


# --- test_core.py -----------------------------------------------------------------


def test_shallow_immutables_count_as_frozen():
    # test_core::TestFloat, TestFloatType; test_implicit::* (the tuple rule)
    for value in (0.0, 1, "s", None, True, b"x", 1 + 2j, range(3), (1, ("a", (None,))), frozenset({1})):
        assert is_frozen(freeze(value))
    assert is_frozen(float) and is_frozen(list) and is_frozen(sum) and is_frozen(len)
    assert not is_frozen((1, [2, 3])) and not is_frozen((1, {"a": 2})) and not is_frozen((1, {2}))
    inner = freeze([1, 2])
    assert is_frozen((inner, 4))
    deep: tuple = (1,)
    for _ in range(10_000):  # test_implicit::test_deeply_nested_no_stack_overflow
        deep = (deep,)
    assert is_frozen(deep)


def test_multi_level_instances_and_their_class():
    # test_core::TestMultiLevel
    class C:
        const = 1

    obj = C()
    obj.a = C()
    obj.d = [C(), None]
    obj.g = {1: C(), "two": C()}
    freeze(obj)
    assert all(is_frozen(x) for x in (obj, obj.a, obj.d, obj.d[0], obj.g, obj.g[1], obj.g["two"], C))
    with pytest.raises(TypeError):
        store_attr(1, obj, "const")
    with pytest.raises(TypeError):
        store_attr(2, C, "const")


def test_canary_global_stays_mutable_and_function_globals_freeze():
    # test_core::MutableGlobalTest, TestFunctions::test_global, test_global_fun, test_hidden_global
    ns = program(
        "canary = {}\n"
        "counter = 2\n"
        "def bump():\n"
        "    global counter\n"
        "    counter += 1\n"
        "    return counter\n"
        "def indirect():\n"
        "    return bump()\n"
    )
    assert ns["indirect"]() == 3
    freeze(ns["indirect"])
    assert is_frozen(ns["bump"]) and not is_frozen(ns["canary"])
    with pytest.raises(TypeError, match="cannot rebind the global 'counter'"):
        ns["indirect"]()
    assert ns["counter"] == 3


def test_nonlocal_rebinding_refused_and_capture_detached():
    # test_core::TestFunctions::test_nonlocal, test_nonlocal_changed
    ns = program(
        "def counter():\n"
        "    v = 0\n"
        "    def inc():\n"
        "        nonlocal v\n"
        "        v += 1\n"
        "        return v\n"
        "    return inc\n"
        "def pair():\n"
        "    v = 1\n"
        "    def get():\n"
        "        return v + 1\n"
        "    def put(x):\n"
        "        nonlocal v\n"
        "        v = x\n"
        "    return get, put\n"
    )
    inc = ns["counter"]()
    assert (inc(), inc()) == (1, 2)
    freeze(inc)
    with pytest.raises(TypeError, match="captured variable 'v'"):
        inc()
    get, put = ns["pair"]()
    put(2)
    freeze(get)
    put(5)  # a sibling closure still rebinds its own cell...
    assert get() == 3  # ...which the frozen function no longer sees


def test_a_frozen_functions_own_locals_stay_free():
    # (ours: the capturing-scope rule the rewriter's check encodes)
    ns = program(
        "def twice():\n"
        "    n = 0\n"
        "    def bump():\n"
        "        nonlocal n\n"
        "        n += 1\n"
        "    bump()\n"
        "    bump()\n"
        "    return n\n"
    )
    freeze(ns["twice"])
    assert ns["twice"]() == 2


def test_globals_are_a_snapshot():
    # test_core::TestFunctions::test_globals_copy
    ns = program("g = 1\ndef f():\n    return g\n")
    freeze(ns["f"])
    ns["g"] = 10  # the module's variable is rebound; the frozen function kept its own
    assert ns["f"]() == 1
    assert detached_twin(ns["f"]).__globals__ is not ns


def test_methods_and_lambdas():
    # test_core::TestMethods::test_lambda, test_method; TestDictMutation::test_dict_mutation*
    ns = program(
        "class C:\n"
        "    def __init__(self):\n"
        "        self.val = -1\n"
        "    def a(self):\n"
        "        return abs(self.val)\n"
        "    def b(self, x):\n"
        "        self.val = self.val + x\n"
        "    def via_dict(self, x):\n"
        "        d = self.__dict__\n"
        "        d['val'] = x\n"
        "obj = C()\n"
        "obj.c = lambda x: pow(x, 2)\n"
    )
    obj = ns["obj"]
    freeze(obj)
    assert obj.a() == 1 and obj.c(2) == 4 and is_frozen(ns["C"]) and is_frozen(pow)
    for _ in range(2):  # the second call runs code already specialised
        with pytest.raises(TypeError):
            obj.b(1)
        with pytest.raises(TypeError):
            obj.via_dict(1)
    assert obj.val == -1


def test_function_defaults_attributes_and_signature():
    # test_core::TestFunctionDefaults, TestFunctionAttributes
    bdef: dict = {}
    kw: dict = {"c": []}

    def f(a, b=bdef, *rest, c=1, **more):
        return a, b, rest, c, more

    f.__kwdefaults__ = kw
    freeze(f)
    assert is_frozen(bdef) and is_frozen(kw) and is_frozen(kw["c"])
    assert f(1) == (1, bdef, (), [], {}) and f(1, 2, 3, c=4, d=5) == (1, 2, (3,), 4, {"d": 5})
    assert str(inspect.signature(f)) == "(a, b={}, *rest, c=[], **more)"  # the trampoline keeps it
    for name in ("__defaults__", "__kwdefaults__", "__doc__", "__name__", "__qualname__", "__code__"):
        with pytest.raises(TypeError):
            store_attr(None, f, name)


def test_weakref_target_is_frozen_and_kept():
    # test_core::TestWeakRef::test_weakref; test_weakref::TestRefcounts (the behaviour, not refcounts)
    class B:
        pass

    class C:
        def __init__(self, obj):
            self.obj = weakref.ref(obj)

    target = B()
    holder = C(target)
    freeze(holder)
    assert is_frozen(holder.obj()) and holder.obj() is target
    del target
    gc.collect()
    assert holder.obj() is not None  # frozen objects stay alive


def test_subclass_of_a_frozen_class_is_mutable():
    # test_core::TestSubclass
    class C:
        def __init__(self, val):
            self.val = val

    freeze(C(1))

    class D(C):
        pass

    d = D(2)
    store_attr(3, d, "val")
    assert d.val == 3 and not is_frozen(D) and is_frozen(C)


# --- test_prefreeze.py --------------------------------------------------------------


def test_pre_freeze_called_once_before_freezing():
    # test_prefreeze::test_prefreeze_hook_is_called, test_prefreeze_hook_runs_before_object_is_frozen
    seen = []

    class C:
        def __pre_freeze__(self):
            seen.append(is_frozen(self))

    obj = C()
    freeze(obj)
    assert seen == [False] and is_frozen(obj)


def test_pre_freeze_not_called_again_after_a_failed_freeze():
    # test_prefreeze::test_prefreeze_hook_remains_called_after_failure
    class C:
        def __init__(self):
            self.calls = 0
            self.child = {}
            set_freezable(self.child, FREEZABLE_NO)

        def __pre_freeze__(self):
            self.calls += 1

    obj = C()
    for _ in range(2):
        with pytest.raises(TypeError):
            freeze(obj)
    assert obj.calls == 1 and not is_frozen(obj)


def test_nested_freezes_in_hooks_and_cycles_of_them():
    # test_prefreeze::test_nested_freeze, test_nested_cycle
    class A:
        def __init__(self, nxt):
            self.next = nxt

        def __pre_freeze__(self):
            freeze(self.next)

    a = A(A(None))
    freeze(a)
    assert is_frozen(a) and is_frozen(a.next)
    ring = A(None)
    node = ring
    for _ in range(4):
        node = A(node)
    ring.next = node
    freeze(ring)
    walk, members = ring, []
    for _ in range(5):
        members.append(walk)
        walk = walk.next
    assert all(is_frozen(m) for m in members)


def test_a_hooks_own_freeze_stays_when_the_outer_fails():
    # test_prefreeze::test_nested_freeze_stays_frozen_on_fail, test_pre_freeze_self
    class A:
        def __init__(self):
            self.freezable = {}
            self.unfreezable = {}
            set_freezable(self.unfreezable, FREEZABLE_NO)

        def __pre_freeze__(self):
            freeze(self.freezable)

    a = A()
    with pytest.raises(TypeError):
        freeze(a)
    assert not is_frozen(a) and is_frozen(a.freezable)

    class S:
        def __pre_freeze__(self):
            freeze(self)

    good, bad = S(), S()
    set_freezable(bad, FREEZABLE_NO)
    with pytest.raises(TypeError):
        freeze([good, bad])  # (a list's items are visited in order)
    assert is_frozen(good) and not is_frozen(bad)


def test_a_raising_hook_stops_the_freeze():
    # test_prefreeze::test_pre_freeze_can_stop_freezing
    class A:
        def __init__(self, fail):
            self.fail = fail

        def __pre_freeze__(self):
            if self.fail:
                raise ValueError(2)

    with pytest.raises(ValueError):
        freeze([A(False), A(True)])
    ok = A(False)
    assert is_frozen(freeze(ok))


def test_a_hook_may_freeze_an_explicit_only_field():
    # (the issue: "it may freeze explicit-only fields")
    class Box:
        def __init__(self):
            self.key = explicitlyFreezable(type("Key", (), {}))()

        def __pre_freeze__(self):
            freeze(self.key)

    box = Box()
    freeze(box)
    assert is_frozen(box.key)


# --- test_rollback.py / test_multi_freeze.py ------------------------------------------


@pytest.mark.parametrize("shape", ["chain", "cycle", "three-cycle", "root"])
def test_a_failed_freeze_leaves_everything_as_it_was(shape):
    # test_rollback::TestRollbackSingleRoot, TestRollbackCycle
    C = fresh_class()
    a, b, c, bad = C(), C(), C(), C()
    if shape == "chain":
        a.child, b.child, c.child = b, c, bad
    elif shape == "cycle":
        a.other, b.other, b.bad = b, a, bad
    elif shape == "three-cycle":
        a.child, b.child, c.child, c.bad = b, c, a, bad
    else:
        a = bad
    set_freezable(bad, FREEZABLE_NO)
    with pytest.raises(NotFreezableError):
        freeze(a)
    assert not any(is_frozen(x) for x in (a, b, c, bad))
    assert not is_frozen(C)


def test_rollback_keeps_earlier_freezes_and_allows_later_ones():
    # test_rollback::TestRollbackPreservesExisting, TestRollbackNormalFreezeStillWorks
    C = fresh_class()
    already = freeze(C())
    parent, child = C(), C()
    parent.child = child
    set_freezable(child, FREEZABLE_NO)
    with pytest.raises(TypeError):
        freeze(parent)
    assert is_frozen(already) and not is_frozen(parent)
    del parent.child
    assert is_frozen(freeze(parent))


def test_rolled_back_objects_can_be_collected():
    # test_rollback::TestRollbackRefcounts
    C = fresh_class()
    a, b, bad = C(), C(), C()
    a.other, b.other, b.bad = b, a, bad
    a.wr = weakref.ref(C())
    set_freezable(bad, FREEZABLE_NO)
    refs = [weakref.ref(a), weakref.ref(b)]
    with pytest.raises(TypeError):
        freeze(a)
    del a, b, bad
    gc.collect()
    assert all(r() is None for r in refs)


def test_freeze_of_many_roots():
    # test_multi_freeze::* and test_decorators::TestFreezeReturnValue
    C = fresh_class()
    a, b, c = C(), C(), C()
    shared = C()
    a.s = b.s = shared
    assert freeze(a, b, c) is a and all(is_frozen(x) for x in (a, b, c, shared))
    freeze(a, b)  # all already frozen: nothing to do
    with pytest.raises(TypeError):
        freeze()
    x, y = C(), C()
    set_freezable(y, FREEZABLE_NO)
    with pytest.raises(TypeError):
        freeze(x, y)
    assert not is_frozen(x)
    e1, e2 = C(), C()
    set_freezable(e1, FREEZABLE_EXPLICIT)
    set_freezable(e2, FREEZABLE_EXPLICIT)
    freeze(e1, e2)  # explicit roots, each passed to freeze
    p, q, hidden = C(), C(), C()
    p.h = hidden
    set_freezable(hidden, FREEZABLE_EXPLICIT)
    with pytest.raises(TypeError, match="explicitly freezable"):
        freeze(p, q)
    assert not is_frozen(p) and not is_frozen(q) and not is_frozen(hidden)


# --- test_set_freezable.py / test_get_freezable.py / test_freezability_override.py ----


def test_statuses_per_object():
    # test_set_freezable::TestSetFreezableYes/No/Explicit, TestConstants, TestSetFreezableEdgeCases
    assert (FREEZABLE_YES, FREEZABLE_NO, FREEZABLE_EXPLICIT, FREEZABLE_PROXY) == (0, 1, 2, 3)
    C = fresh_class()
    obj = C()
    set_freezable(obj, FREEZABLE_NO)
    assert obj.__freezable__ == FREEZABLE_NO  # (TestSetFreezableStorage)
    with pytest.raises(TypeError):
        freeze(obj)
    set_freezable(obj, FREEZABLE_YES)
    assert is_frozen(freeze(obj))
    with pytest.raises(ValueError):
        set_freezable(C(), 99)
    with pytest.raises(ValueError):
        set_freezable(C(), -1)
    with pytest.raises(TypeError):
        set_freezable(C(), FREEZABLE_PROXY)
    set_freezable(types.ModuleType("m"), FREEZABLE_PROXY)
    manual = C()
    manual.__freezable__ = FREEZABLE_NO
    with pytest.raises(TypeError):
        freeze(manual)


def test_status_on_objects_without_a_dict():
    # test_set_freezable::test_ob_flags_fallback_for_slots_only (a side table here)
    class S:
        __slots__ = ("__weakref__", "x")

    s = S()
    set_freezable(s, FREEZABLE_NO)
    assert not hasattr(s, "__freezable__")
    with pytest.raises(TypeError):
        freeze(s)
    lst: list = []
    set_freezable(lst, FREEZABLE_EXPLICIT)
    assert get_freezable(lst) == FREEZABLE_EXPLICIT
    with pytest.raises(TypeError):
        freeze([lst])
    set_freezable(42, FREEZABLE_NO)  # accepted; a value stays a value


def test_set_freezable_keeps_nothing_alive_that_has_a_dict():
    # test_set_freezable::TestSetFreezableLifetime
    C = fresh_class()
    a, b = C(), C()
    a.other, b.other = b, a
    for status in (FREEZABLE_NO, FREEZABLE_YES, FREEZABLE_EXPLICIT):
        set_freezable(a, status)
        set_freezable(b, status)
    refs = [weakref.ref(a), weakref.ref(b)]
    del a, b
    gc.collect()
    assert all(r() is None for r in refs)


def test_get_and_unset_with_type_inheritance():
    # test_get_freezable::TestGetFreezable, TestUnsetFreezable
    plain = fresh_class(None)
    assert get_freezable(plain()) == -1
    C = fresh_class(FREEZABLE_YES)
    obj = C()
    assert get_freezable(obj) == FREEZABLE_YES
    set_freezable(obj, FREEZABLE_NO)
    assert get_freezable(obj) == FREEZABLE_NO and get_freezable(C) == FREEZABLE_YES
    unset_freezable(obj)
    assert get_freezable(obj) == FREEZABLE_YES
    unset_freezable(plain())  # nothing set: nothing to do

    class Sub(fresh_class(FREEZABLE_NO)):
        pass

    assert get_freezable(Sub()) == FREEZABLE_NO  # inherited from the base
    with pytest.raises(TypeError):
        freeze(Sub())
    set_freezable(dict, FREEZABLE_EXPLICIT)  # a builtin type: the side table
    try:
        assert get_freezable({}) == FREEZABLE_EXPLICIT
        with pytest.raises(TypeError):
            freeze([{}])
    finally:
        unset_freezable(dict)
    assert get_freezable({}) == -1


def test_freezability_override_and_require_mutable():
    # test_freezability_override::TestFreezabilityOverride, TestRequireMutable
    C = fresh_class()
    obj = C()
    set_freezable(obj, FREEZABLE_YES)
    with FreezabilityOverride(obj, FREEZABLE_NO) as same:
        assert same is obj and get_freezable(obj) == FREEZABLE_NO
        with FreezabilityOverride(obj, FREEZABLE_EXPLICIT):
            assert get_freezable(obj) == FREEZABLE_EXPLICIT
        with pytest.raises(TypeError):
            freeze(obj)
    assert get_freezable(obj) == FREEZABLE_YES
    with FreezabilityOverride(C, FREEZABLE_NO):
        assert get_freezable(C) == FREEZABLE_NO
    assert get_freezable(C) == FREEZABLE_YES
    with pytest.raises(RuntimeError):
        with require_mutable(obj):
            with pytest.raises(TypeError):
                freeze(obj)
            raise RuntimeError("deliberate")
    assert get_freezable(obj) == FREEZABLE_YES
    freeze(obj)
    with pytest.raises(TypeError, match="already frozen"):
        with require_mutable(obj):
            pass


# --- test_decorators.py ---------------------------------------------------------------


def test_class_decorators():
    # test_decorators::*
    @freezable
    class Yes:
        pass

    @unfreezable
    class No:
        pass

    @explicitlyFreezable
    class Explicit:
        pass

    @frozen
    class Done:
        pass

    assert Yes.__name__ == "Yes" and is_frozen(freeze(Yes()))
    with pytest.raises(TypeError):
        freeze(No())
    freeze(Explicit)
    assert is_frozen(Explicit)
    holder = Yes()
    holder.child = type("Child", (), {})()
    set_freezable(type(holder.child), FREEZABLE_EXPLICIT)
    with pytest.raises(TypeError):
        freeze(holder)
    assert isinstance(Done, type) and is_frozen(Done)
    with pytest.raises(TypeError):
        store_attr(42, Done, "new_attr")


def test_function_decorators():
    # (the issue: the decorators on functions too)
    @frozen
    def answer():
        return 42

    @unfreezable
    def secret():
        return 0

    assert is_frozen(answer) and answer() == 42
    with pytest.raises(TypeError):
        freeze([secret])


def test_frozen_deque_and_defaultdict_refuse_writes():
    # test_collections::* (deque and defaultdict)
    from collections import defaultdict, deque

    dq, dd = freeze(deque([1, 2])), freeze(defaultdict(list, {"a": [1]}))
    for write in (lambda: method(dq, "appendleft")(0), lambda: method(dq, "rotate")(1),
                  lambda: method(dq, "popleft")(), lambda: store_item(0, dq, 0),
                  lambda: store_item([], dd, "b"), lambda: method(dd["a"], "append")(2)):
        with pytest.raises(TypeError):
            write()
    assert list(dq) == [1, 2] and dict(dd) == {"a": [1]}


def test_escape_hatches_sent_by_copy():
    # (the issue: what becomes of them when frozen data is sent to another interpreter by copy)
    import pickle

    field, local = SharedField((1, 2)), InterpreterLocal(7)
    local.set(8)
    copy_field, copy_local = pickle.loads(pickle.dumps((field, local)))
    assert copy_field.get() == (1, 2) and copy_field is not field
    copy_field.set(3)
    assert field.get() == (1, 2)  # no longer shared
    assert copy_local.get() == 7  # the default: this interpreter's value stays here


# --- test_module_proxy.py ---------------------------------------------------------------


def test_freezing_a_function_makes_the_modules_it_names_proxies():
    # test_module_proxy::test_freeze_function_with_random_module_creates_proxy,
    # test_random_state_remains_mutable_via_proxy, test_proxy_attribute_writes_delegate_to_mutable_module
    module = types.ModuleType("dice")
    exec("import random as _r\nrng = _r.Random(1)\ndef roll():\n    return rng.random()\n", module.__dict__)
    ns = program("def coin():\n    return dice.roll()\n")
    ns["dice"] = module
    freeze(ns["coin"])
    assert isinstance(module, ImmutableModule) and is_frozen(module)
    module.rng.seed(42)
    first = ns["coin"]()
    module.rng.seed(42)
    assert ns["coin"]() == first  # its state stays mutable
    store_attr(7, module, "canary")  # writes go to the module's own namespace
    assert module.canary == 7 and not is_frozen(module.rng)
    nope = types.ModuleType("nope")
    set_freezable(nope, FREEZABLE_NO)
    with pytest.raises(TypeError):
        freeze([nope])


def test_a_fresh_program_gets_its_modules_back():
    # ours: a module frozen in place is a process-wide change; a reset (a new program
    # traced in the same process) makes it an ordinary module again
    from pyrona.runtime.state import RUNTIME

    module = types.ModuleType("settings_module")
    freeze(module)
    assert isinstance(module, ImmutableModule)
    RUNTIME.reset()
    assert type(module) is types.ModuleType and not is_frozen(module)


# --- test_sharedfield.py / test_interpreterlocal.py ---------------------------------------


def test_shared_field():
    # test_sharedfield::*
    field = SharedField(42)
    assert field.get() == 42 and is_frozen(field.get())
    field.set(None)
    field.set((1, 2, 3))
    with pytest.raises(TypeError):
        field.set([1, 2, 3])
    assert field.swap(99) == (1, 2, 3) and field.get() == 99
    assert field.compare_and_swap(99, 100) and not field.compare_and_swap(0, 1) and field.get() == 100
    with pytest.raises(TypeError):
        field.compare_and_swap(100, [])
    with pytest.raises(TypeError):
        field.compare_and_swap(100)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        SharedField()  # type: ignore[call-arg]
    blocked = fresh_class()()
    set_freezable(blocked, FREEZABLE_NO)
    with pytest.raises(TypeError):
        SharedField(blocked)
    holder = fresh_class()()
    holder.field = SharedField(1)
    freeze(holder)
    assert is_frozen(holder) and is_frozen(holder.field)
    assert holder.field.compare_and_swap(1, 2) and holder.field.get() == 2
    with pytest.raises(TypeError):
        holder.field.set([])


def test_interpreter_local():
    # test_interpreterlocal::*
    field = InterpreterLocal(42)
    assert field.get() == 42
    field.set(99)
    assert field.get() == 99
    made = InterpreterLocal(lambda: [])
    assert made.get() is made.get()
    method(made.get(), "append")(1)
    holder = fresh_class()()
    holder.cache = made
    freeze(holder)
    assert is_frozen(holder.cache) and not is_frozen(made.get())
    made.get().append(2)
    assert made.get() == [1, 2]
    with pytest.raises(TypeError):
        InterpreterLocal()  # type: ignore[call-arg]
    blocked = fresh_class()()
    set_freezable(blocked, FREEZABLE_NO)
    with pytest.raises(TypeError):
        InterpreterLocal(blocked)


# --- ours: regions, modules and code ------------------------------------------------------


def test_freezing_methods_that_name_a_region_is_refused():
    # (the issue: "decide and test what happens when freezing a class's methods reaches
    # a region's bridge or a module through their globals")
    from pyrona import Region
    from pyrona.runtime.regions import region_of

    ns = program(
        "class Job:\n"
        "    def run(self):\n"
        "        return queue.jobs\n"
        "def helper():\n"
        "    return math.pi\n"
    )
    ns["queue"] = queue = Region()
    queue.jobs = []
    ns["math"] = math = types.ModuleType("math")  # (a stand-in: the real one would stay a proxy)
    math.pi = 3.14
    job = ns["Job"]()
    with pytest.raises(NotFreezableError, match="the code that names it .*Job.run, its global 'queue'"):
        freeze(job)
    assert not is_frozen(job) and not is_frozen(ns["Job"]) and region_of(queue) is not None
    freeze(ns["helper"])  # a module named by code becomes a proxy
    assert is_frozen(math) and ns["helper"]() > 3


def test_freezing_data_with_a_bridge_still_ends_the_region():
    # (the runtime's rule for bridges reached as data is unchanged)
    from pyrona import Region
    from pyrona.runtime.regions import region_of

    r = Region()
    r.items = [1]
    box = {"r": r}
    freeze(box)
    assert is_frozen(r) and region_of(r) is None


def test_a_frozen_container_refuses_every_write():
    # test_core::TestList / TestDict / TestSet (every method; more in test_freezing.py)
    data = freeze({"l": [1, 2], "s": {1}})
    for write in (
        lambda: store_item(0, data["l"], 0),
        lambda: method(data["l"], "append")(3),
        lambda: method(data["l"], "sort")(),
        lambda: method(data, "setdefault")("x", 1),
        lambda: method(data["s"], "add")(2),
    ):
        with pytest.raises(TypeError):
            write()
    assert isfrozen(data["l"]) and data["l"] == [1, 2]


# --- `import immutable` under pyrona run ----------------------------------------------------


def test_import_immutable_maps_to_pyrona_unless_the_program_has_its_own(tmp_path):
    # (the issue: programs written for the prototype run unchanged; a module of the
    # program's own named `immutable` still wins, as in plain Python)
    import subprocess
    import sys

    program = tmp_path / "prog.py"
    program.write_text("import immutable\nprint(immutable.__name__, immutable.freeze([1]) == [1])\n")
    run = [sys.executable, "-m", "pyrona", "run", str(program)]
    proc = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "pyrona.immutable True", proc.stderr
    (tmp_path / "immutable.py").write_text("def freeze(x):\n    return x\n")
    proc = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "immutable True", proc.stderr


# --- test_notfreezable.py, test_common.py, test_shallow.py (the newest spellings) ---


def test_not_freezable_base_class_and_the_newest_spellings():
    # test_notfreezable::TestNotFreezable::test_not_freezable; test_common::BaseNotFreezableTest
    from pyrona.immutable import NotFreezable, deep_freeze, is_deep_frozen

    class Mock(NotFreezable):
        def __init__(self, name: str) -> None:
            self.name = name

    holder = {"mock": Mock("test")}
    for obj in (Mock("test"), NotFreezable(), holder):
        with pytest.raises(TypeError):
            freeze(obj)
        assert not is_frozen(obj)
    # test_shallow::TestShallowFreezeBasic::test_already_deep_frozen (deep half only)
    data = [[1]]
    assert deep_freeze(data) is data and is_deep_frozen(data[0])
