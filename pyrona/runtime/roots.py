"""Where the program's local references live: its frames and its modules' globals."""

from __future__ import annotations

import types

from .state import RUNTIME


def register_module(module: types.ModuleType) -> None:
    """Record an instrumented module: its globals are local roots of the program."""
    RUNTIME.root_modules[module.__name__] = module
