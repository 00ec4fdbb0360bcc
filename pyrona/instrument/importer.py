"""The import hook: modules of the program's own folder are rewritten as they are imported."""

from __future__ import annotations

import _imp
import importlib
import importlib.machinery
import os
import sys
import types

from ..ours import is_ours
from ..runtime.roots import register_module
from .hooks import HOOKS

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .cache import CodeCache

#: Folders whose modules are third-party or environment code, never the program's.
EXCLUDED_PARTS = frozenset({"site-packages", "dist-packages", ".venv"})


def should_instrument(filename: str, root: str | os.PathLike[str]) -> bool:
    """Whether the source file `filename` belongs to the program rooted at folder `root`:
    under it, and neither pyrona's own code (the runtime must not check itself, wherever
    the program's folder is: the checkout holding pyrona, or a folder above it) nor
    third-party code: a venv inside the program's folder, or the program's folder being
    site-packages itself. The folders above it do not count: a program may live in a
    package of site-packages, as the wheel's sample programs do)."""
    # (os.path, not pathlib: pathlib is a tenth of `pyrona run`'s start-up)
    path, root = os.path.realpath(filename), os.path.normpath(os.fspath(root))
    inside = root if root.endswith(os.sep) else root + os.sep
    if not path.startswith(inside) or is_ours(filename):
        return False
    parts = path[len(inside):].split(os.sep)
    return os.path.basename(root) not in EXCLUDED_PARTS and not EXCLUDED_PARTS.intersection(parts)


class InstrumentingLoader(importlib.machinery.SourceFileLoader):
    """Loads a program module from source, rewritten, with the hooks in its globals."""

    def __init__(self, fullname: str, path: str, hooks: dict, fast_paths: bool,
                 value_paths: bool, cache: CodeCache | None = None,
                 own_view: tuple[str, list[str]] | None = None) -> None:
        super().__init__(fullname, path)
        self.hooks = hooks
        self.fast_paths = fast_paths
        self.value_paths = value_paths
        self.cache = cache
        self.own_view = own_view

    def get_code(self, fullname: str) -> types.CodeType:
        # Never from or to a .pyc: the standard cache file holds plain bytecode, and
        # rewritten code must not mix with it (pyrona's own cache keeps it apart).
        path = self.get_filename(fullname)
        return compile_instrumented(self.get_data(path), path, fast_paths=self.fast_paths,
                                    value_paths=self.value_paths, cache=self.cache, own_view=self.own_view)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__.update(self.hooks)
        register_module(module)
        super().exec_module(module)


class InstrumentingFinder:
    """Finds modules exactly as the path finder does, and instruments those under `root`.

    (A meta path finder only needs `find_spec`; importlib.abc is not imported
    for its base class because it costs milliseconds at every start.)"""

    def __init__(self, root: str | os.PathLike[str], hooks: dict | None = None,
                 fast_paths: bool = True, value_paths: bool | None = None,
                 cache: CodeCache | None = None, own_path: list[str] | None = None) -> None:
        self.hooks = HOOKS if hooks is None else hooks
        self.fast_paths = fast_paths
        self.value_paths = fast_paths if value_paths is None else value_paths
        self.root = os.path.realpath(root)
        self.cache = cache
        # (the program's folder and sys.path before it came first: see `_rewriter`)
        self.own_view = (self.root, own_path) if own_path is not None else None

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
                                              self.value_paths, self.cache, self.own_view)
        return spec


def compile_instrumented(source: bytes, filename: str, *, fast_paths: bool, value_paths: bool,
                         cache: CodeCache | None = None,
                         own_view: tuple[str, list[str]] | None = None) -> types.CodeType:
    """A module's source parsed, rewritten and compiled (SyntaxError as `compile`), or its
    code from `cache` when it holds exactly this source rewritten the same way. While the
    program runs, `own_view` is its folder and pyrona's own sys.path (see `import_own`)."""
    if cache is not None:
        code = cache.load(source, filename, fast_paths, value_paths)
        if code is not None:
            return code
    rewrite = import_own(f"{__package__}.rewrite", own_view)
    code = rewrite.compile_program(source, filename, fast_paths=fast_paths, value_paths=value_paths)
    if cache is not None:
        cache.store(source, filename, fast_paths, value_paths, code)
    return code


def import_own(name: str, own_view: tuple[str, list[str]] | None = None) -> types.ModuleType:
    """The module `name` as pyrona would import it before the program ran, for modules
    pyrona imports only when first needed (the rewriter, `traceback`). Once the program
    runs, its folder comes first on sys.path and its modules may be named like standard
    ones (`ast.py`, `traceback.py`): with `own_view` (the program's folder and pyrona's
    own sys.path), the import sees that sys.path, with the program's same-named modules
    set aside and put back after (the standard ones stay out of the program's view)."""
    module = sys.modules.get(name)
    if module is not None and (own_view is None or name.startswith("pyrona.")):
        return module
    if own_view is None:  # the program is not running: pyrona's view is the current one
        return importlib.import_module(name)
    folder, own_path = own_view
    try:
        entries = os.listdir(folder)
    except OSError:
        entries = []
    # (never pyrona itself, nor modules a script cannot shadow: builtin and frozen ones)
    theirs = {n for n in (e.partition(".")[0] for e in entries)
              if n not in ("pyrona", "__main__") and n not in sys.builtin_module_names
              and not _imp.is_frozen(n)}
    if module is not None and name.partition(".")[0] not in theirs:
        return module
    running_path = sys.path[:]
    aside = {k: sys.modules.pop(k) for k in list(sys.modules) if k.partition(".")[0] in theirs}
    sys.path[:] = own_path
    try:
        return importlib.import_module(name)
    finally:
        sys.path[:] = running_path
        for key in list(sys.modules):
            if key.partition(".")[0] in theirs and key not in aside:
                del sys.modules[key]
        sys.modules.update(aside)


def install(root: str | os.PathLike[str], hooks: dict | None = None,
            fast_paths: bool = True, value_paths: bool | None = None,
            cache: CodeCache | None = None, own_path: list[str] | None = None) -> InstrumentingFinder:
    """Instrument modules imported from now on whose source lies under folder `root`
    (with `hooks` in their globals: HOOKS unless a tracer brings its own), their code
    from `cache` when it has it; `own_path` is sys.path as it was before the program's
    folder was put first."""
    uninstall()
    finder = InstrumentingFinder(root, hooks, fast_paths, value_paths, cache, own_path)
    # Just before the path finder: builtin and frozen modules keep precedence,
    # as in plain Python.
    at = next((i for i, f in enumerate(sys.meta_path)
               if f is importlib.machinery.PathFinder), len(sys.meta_path))
    sys.meta_path.insert(at, finder)
    return finder


def uninstall() -> None:
    """Remove every installed instrumenting finder (modules already imported stay as they are)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, InstrumentingFinder)]
