"""Escape hatches inside frozen data: SharedField, InterpreterLocal, and module proxies.

Each is frozen as a whole (`isfrozen` says True once frozen) while keeping one
deliberate door open, as in CPython's prototype:
- SharedField: one mutable slot that only ever holds frozen values (set, swap,
  compare_and_swap are atomic), so frozen data shared by threads can still count or
  publish.
- InterpreterLocal: a value per interpreter (a default frozen value, or a factory
  called once per interpreter), for caches and state that must not be shared.
- ImmutableModule: what `freeze` makes of a module. The module object stays the
  same (its class changes, as `module.__class__ = ...` allows), counts as frozen,
  and its variables stay the interpreter's mutable state: reads and writes go to the
  module's own namespace, which is what the prototype's per-interpreter copy is in a
  program that runs one interpreter.
"""

from __future__ import annotations

import _thread
import types

from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable

_MISSING = object()


def _interpreter_id() -> int:
    try:
        import _interpreters  # (3.13: the PEP 734 machinery)

        return int(_interpreters.get_current()[0])
    except (ImportError, AttributeError, TypeError, IndexError):
        return 0


def _require_frozen(value: Any, what: str) -> None:
    from .freezing import isfrozen

    if not isfrozen(value):
        raise TypeError(f"{what} only holds frozen values, not a mutable {type(value).__name__}: "
                        "freeze it first")


class SharedField:
    """A mutable slot holding frozen values, usable inside frozen data.

    `SharedField(value)` freezes `value` (NotFreezableError if it cannot be); `set`,
    `swap` and `compare_and_swap` take frozen values only (TypeError otherwise)."""

    __slots__ = ("_value", "_lock", "__weakref__")

    def __init__(self, value: Any) -> None:
        from .freezing import freeze

        freeze(value)
        self._value = value
        self._lock = _thread.allocate_lock()

    def get(self) -> Any:
        return self._value

    def set(self, value: Any) -> None:
        _require_frozen(value, "a SharedField")
        with self._lock:
            self._value = value
        RUNTIME.emit("escape-written", objects=[self])

    def swap(self, value: Any) -> Any:
        """Store `value`; returns the value it replaced."""
        _require_frozen(value, "a SharedField")
        with self._lock:
            old, self._value = self._value, value
        RUNTIME.emit("escape-written", objects=[self])
        return old

    def compare_and_swap(self, expected: Any, new: Any) -> bool:
        """Store `new` if the slot still holds `expected` (the same object); True if it did."""
        _require_frozen(new, "a SharedField")
        with self._lock:
            if self._value is not expected:
                return False
            self._value = new
        RUNTIME.emit("escape-written", objects=[self])
        return True

    def __repr__(self) -> str:
        return f"SharedField({self._value!r})"

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        # sent by copy (pickled) to another interpreter: a field of its own, holding the
        # value of the moment; it is not shared with the original any more
        return SharedField, (self._value,)


class InterpreterLocal:
    """A value of its own in every interpreter: `InterpreterLocal(frozen_default)` or
    `InterpreterLocal(factory)` (called once per interpreter, on first `get`)."""

    __slots__ = ("_default", "_factory", "_values", "_lock", "__weakref__")

    def __init__(self, default_or_factory: Any) -> None:
        from .freezing import freeze

        self._factory: Callable[[], Any] | None = None
        self._default: Any = None
        if callable(default_or_factory) and not isinstance(default_or_factory, type):
            self._factory = default_or_factory
        else:
            self._default = freeze(default_or_factory)
        self._values: dict[int, Any] = {}
        self._lock = _thread.allocate_lock()

    def get(self) -> Any:
        key = _interpreter_id()
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            value = self._factory() if self._factory is not None else self._default
            with self._lock:
                value = self._values.setdefault(key, value)
            RUNTIME.emit("escape-written", objects=[self])
        return value

    def set(self, value: Any) -> None:
        """Replace this interpreter's value (any value: it is never shared)."""
        with self._lock:
            self._values[_interpreter_id()] = value
        RUNTIME.emit("escape-written", objects=[self])

    def __repr__(self) -> str:
        return f"<InterpreterLocal {self.get()!r}>"

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        # sent by copy to another interpreter: its default or factory only (the
        # receiver starts from them; values of this interpreter stay here)
        return InterpreterLocal, (self._factory if self._factory is not None else self._default,)


class ImmutableModule(types.ModuleType):
    """A frozen module (see the module docstring): counts as frozen, its namespace
    stays the interpreter's mutable state."""


#: Types frozen as a whole, their insides never walked.
ESCAPE_TYPES = (SharedField, InterpreterLocal)


def escape_contents(obj: SharedField | InterpreterLocal) -> list[tuple[str, Any]]:
    """What a view shows of an escape hatch: its value (this interpreter's, for an
    InterpreterLocal: none before its first use)."""
    if type(obj) is SharedField:
        return [("value", obj._value)]
    value = obj._values.get(_interpreter_id(), _MISSING)
    return [] if value is _MISSING else [("value", value)]


def proxy_module(module: types.ModuleType) -> None:
    """Turn `module` into an ImmutableModule in place (the object stays the same)."""
    if type(module) is types.ModuleType:
        module.__class__ = ImmutableModule
        RUNTIME.proxied_modules.append(module)  # undone by RUNTIME.reset()
