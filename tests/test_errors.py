"""One exception family: every exception pyrona, its tracer and its server define is a
PyronaError with a kind of its own, or one of the signals that stop a run."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import pyrona
from pyrona.errors import KINDS, PyronaError, RegionError, kind_of

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pyrona", "pyrona.tracer", "pyrona.server")
#: Not errors: they stop a run, and a program's `except Exception` must not swallow them.
STOP_SIGNALS = {"pyrona.tracer.run.TraceStopped", "pyrona.tracer.run.OutputLimitReached",
                "pyrona.tracer.guard.TracerTampered",
                "pyrona.server.worker.RunStopped"}


def our_modules() -> list:
    """Every module of the packages, imported (not `__main__`: it runs the CLI)."""
    modules = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not info.name.endswith("__main__"):
                modules.append(importlib.import_module(info.name))
    return modules


def defined_exceptions() -> list[type[BaseException]]:
    found = {}
    for module in our_modules():
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_the_walk_sees_every_package():
    names = {f"{c.__module__}.{c.__qualname__}" for c in defined_exceptions()}
    assert STOP_SIGNALS <= names
    assert {"pyrona.errors.RegionError", "pyrona.tracer.store.StoreError",
            "pyrona.server.problems.HTTPProblem", "pyrona.server.sandbox.SandboxError"} <= names


def test_every_exception_is_a_pyrona_error_with_a_kind_or_a_stop_signal():
    kinds: dict[str, type] = {}
    for cls in defined_exceptions():
        name = f"{cls.__module__}.{cls.__qualname__}"
        if name in STOP_SIGNALS:
            assert not issubclass(cls, Exception), f"{name} must stay a BaseException"
            continue
        assert issubclass(cls, PyronaError), f"{name} is not a PyronaError"
        kind = cls.kind
        assert isinstance(kind, str) and kind, f"{name} has no kind"
        other = kinds.setdefault(kind, cls)
        # a kind is one class's, or refined by a subclass (RegionViolationError of RegionError)
        assert other is cls or issubclass(cls, other) or issubclass(other, cls), \
            f"{name} and {other.__qualname__} share the kind {kind!r}"


def test_no_exception_class_hides_inside_a_function():
    """The walk above sees module-level classes only."""
    for folder in ("pyrona", "tracer", "server"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            top = {id(node) for node in tree.body}
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and id(node) not in top:
                    bases = " ".join(ast.unparse(b) for b in node.bases)
                    assert "Error" not in bases and "Exception" not in bases, (path.name, node.name)


def test_stop_signals_get_past_a_programs_except_exception():
    from pyrona.server.worker import RunStopped
    from pyrona.tracer.run import OutputLimitReached, TraceStopped

    for signal in (TraceStopped, OutputLimitReached, RunStopped):
        with pytest.raises(signal):
            try:
                raise signal("limit")
            except Exception:  # noqa: BLE001 - what a program may write
                pytest.fail(f"{signal.__name__} was swallowed")


def test_region_errors_keep_their_kinds_and_mixins():
    assert issubclass(RegionError, PyronaError) and pyrona.PyronaError is PyronaError
    assert issubclass(pyrona.FrozenMutationError, TypeError)
    assert issubclass(pyrona.NotFreezableError, TypeError)
    err = pyrona.MergeError("Sink is not a parent of source", source=1, target=2)
    assert (err.kind, str(err), err.source, err.target) == ("merge", "Sink is not a parent of source", 1, 2)


def test_an_outcome_reports_region_kinds_only():
    from pyrona.server.problems import HTTPProblem
    from pyrona.tracer.store import StoreError

    assert kind_of(pyrona.CownAccessError("x")) == "cown-access"
    assert kind_of(pyrona.RegionError("x")) == "region-violation"
    for exc in (StoreError("no trace 3"), HTTPProblem(404, "not-found", "x"), PyronaError("x"),
                KeyError("k"), TypeError("t")):
        assert kind_of(exc) == "other"
    assert {cls.kind for cls in defined_exceptions() if issubclass(cls, RegionError)} <= set(KINDS)


def test_an_http_problem_carries_its_own_kind():
    from pyrona.server.problems import HTTPProblem

    problem = HTTPProblem(404, "not-found", "There is no trace 3.")
    assert (problem.status, problem.kind, str(problem)) == (404, "not-found", "There is no trace 3.")
    assert HTTPProblem.kind == "http"
