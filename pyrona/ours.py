"""What is ours: the folders pyrona's own code lives in, wherever it is installed.

pyrona is one import root, but not one folder: `pyproject.toml` maps top-level
folders of the checkout (the tracer, the server) to subpackages of `pyrona`. So
"is this file ours?" cannot be answered from the `pyrona/` folder alone, nor from
folder names: it is answered from where the import system really found each
`pyrona` package (its `__path__`). A package's code can only run once the
package is in `sys.modules`, so the loaded packages are all there is to know.
"""

from __future__ import annotations

import os
import sys

#: The import root every module of ours is named under.
ROOT_PACKAGE = __name__.partition(".")[0]
#: The folder of an installed wheel's files that are not code (`pyrona.assets`), inside the
#: root package's: the sample programs there are programs to trace, never ours.
DATA_FOLDER = "share"


def _data_folders() -> tuple[str, ...]:
    """DATA_FOLDER in each folder of the root package (each ending in a separator)."""
    root = sys.modules.get(ROOT_PACKAGE)
    return tuple(os.path.join(os.path.realpath(folder), DATA_FOLDER, "")
                 for folder in getattr(root, "__path__", None) or ())


def _package_folders() -> tuple[str, ...]:
    """The real folders of the loaded packages named under ROOT_PACKAGE, each ending in a
    separator; a folder inside another one is left out."""
    prefix = ROOT_PACKAGE + "."
    found = set()
    for name, module in sys.modules.copy().items():  # (a copy: another thread may import)
        if name == ROOT_PACKAGE or name.startswith(prefix):
            for folder in getattr(module, "__path__", None) or ():
                found.add(os.path.join(os.path.realpath(folder), ""))
    return tuple(sorted(f for f in found if not any(f != g and f.startswith(g) for g in found)))


class OwnCode:
    """Answers whether a source file is pyrona's own code (answers cached by file name).

    A file that is not under the folders known so far makes them be looked up again
    (a subpackage imported since, e.g. the server's worker, brings its folder)."""

    __slots__ = ("_folders", "_answers")

    def __init__(self) -> None:
        self._folders: tuple[str, ...] = ()
        self._answers: dict[str, bool] = {}

    def folders(self) -> tuple[str, ...]:
        """The folders of our code, as far as it is loaded (each ends in a separator)."""
        self._folders = _package_folders()
        return self._folders

    def contains(self, filename: str) -> bool:
        """Whether `filename` (a path, as in `__file__` or `co_filename`) is our code."""
        answer = self._answers.get(filename)
        if answer is None:
            if filename.startswith("<"):  # <string>, <frozen ...>: not a file at all
                answer = False
            else:
                path = os.path.realpath(filename)
                answer = ((path.startswith(self._folders) or path.startswith(self.folders()))
                          and not path.startswith(_data_folders()))
            self._answers[filename] = answer
        return answer


#: The one place that says what is ours.
OURS = OwnCode()


def is_ours(filename: str) -> bool:
    """Whether the source file `filename` belongs to pyrona itself (runtime, instrumentation,
    tracer, server, ...), wherever package-dir put it."""
    return OURS.contains(filename)
