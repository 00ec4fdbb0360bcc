"""Where the program's local references live: its frames and its modules' globals."""

from __future__ import annotations

import types

from .state import RUNTIME

#: Prefix of every name pyrona puts in the program's globals or frames (the hooks,
#: the rewriter's temporaries). It is not an identifier, so no program can spell,
#: clash with or keep such a name (pytest's assertion rewriter does the same with
#: `@py_assert1`); the leading underscore keeps it out of `from module import *`.
RESERVED_PREFIX = "_@pyrona_"


def reserved(short: str) -> str:
    """The injected name for `short` ("setattr" -> the store hook's name in a module)."""
    return RESERVED_PREFIX + short


def is_reserved(name: object) -> bool:
    """Whether a variable or dict key is one of pyrona's injected names."""
    return type(name) is str and name.startswith(RESERVED_PREFIX)


def register_module(module: types.ModuleType) -> None:
    """Record an instrumented module: its globals are local roots of the program."""
    RUNTIME.root_modules[module.__name__] = module
