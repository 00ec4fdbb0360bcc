"""The import hook: modules of the program's own folder are rewritten as they are imported."""

from __future__ import annotations

import importlib.machinery
import os
import sys
import types
from collections.abc import Sequence
from pathlib import Path

from ..ours import is_ours
from ..runtime.roots import register_module
from .hooks import HOOKS
from .rewrite import compile_program

#: Folders whose modules are third-party or environment code, never the program's.
EXCLUDED_PARTS = frozenset({"site-packages", "dist-packages", ".venv"})


def should_instrument(filename: str, root: Path) -> bool:
    """Whether the source file `filename` belongs to the program rooted at folder `root`:
    under it, and neither pyrona's own code (the runtime must not check itself, wherever
    the program's folder is: the checkout holding pyrona, or a folder above it) nor
    third-party code: a venv inside the program's folder, or the program's folder being
    site-packages itself. The folders above it do not count: a program may live in a
    package of site-packages, as the wheel's sample programs do)."""
    path = Path(os.path.realpath(filename))
    if not path.is_relative_to(root) or is_ours(filename):
        return False
    return root.name not in EXCLUDED_PARTS and not EXCLUDED_PARTS.intersection(path.relative_to(root).parts)


class InstrumentingLoader(importlib.machinery.SourceFileLoader):
    """Loads a program module from source, rewritten, with the hooks in its globals."""

    def __init__(self, fullname: str, path: str, hooks: dict, fast_paths: bool,
                 value_paths: bool) -> None:
        super().__init__(fullname, path)
        self.hooks = hooks
        self.fast_paths = fast_paths
        self.value_paths = value_paths

    def get_code(self, fullname: str) -> types.CodeType:
        # Always compile from source and never write a .pyc: the standard cache
        # file holds plain bytecode, and rewritten code must not mix with it.
        path = self.get_filename(fullname)
        return compile_program(self.get_data(path), path, fast_paths=self.fast_paths,
                               value_paths=self.value_paths)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__.update(self.hooks)
        register_module(module)
        super().exec_module(module)


class InstrumentingFinder:
    """Finds modules exactly as the path finder does, and instruments those under `root`.

    (A meta path finder only needs `find_spec`; importlib.abc is not imported
    for its base class because it costs milliseconds at every start.)"""

    def __init__(self, root: str | os.PathLike[str], hooks: dict | None = None,
                 fast_paths: bool = True, value_paths: bool | None = None) -> None:
        self.hooks = HOOKS if hooks is None else hooks
        self.fast_paths = fast_paths
        self.value_paths = fast_paths if value_paths is None else value_paths
        self.root = Path(os.path.realpath(root))

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        # Delegating to PathFinder keeps Python's resolution (sys.path order,
        # packages, namespace packages); the spec is returned as found, so modules
        # we do not instrument are not searched for twice.
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if (spec is not None and spec.origin is not None and spec.has_location
                and type(spec.loader) is importlib.machinery.SourceFileLoader
                and should_instrument(spec.origin, self.root)):
            spec.loader = InstrumentingLoader(fullname, spec.origin, self.hooks, self.fast_paths,
                                              self.value_paths)
        return spec


def install(root: str | os.PathLike[str], hooks: dict | None = None,
            fast_paths: bool = True, value_paths: bool | None = None) -> InstrumentingFinder:
    """Instrument modules imported from now on whose source lies under folder `root`
    (with `hooks` in their globals: HOOKS unless a tracer brings its own)."""
    uninstall()
    finder = InstrumentingFinder(root, hooks, fast_paths, value_paths)
    # Just before the path finder: builtin and frozen modules keep precedence,
    # as in plain Python.
    at = next((i for i, f in enumerate(sys.meta_path)
               if f is importlib.machinery.PathFinder), len(sys.meta_path))
    sys.meta_path.insert(at, finder)
    return finder


def uninstall() -> None:
    """Remove every installed instrumenting finder (modules already imported stay as they are)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, InstrumentingFinder)]
