"""Pyrona in Jupyter: `pyrona.show(path_or_source, step=None)` and the `%%pyrona` cell magic
(after `%load_ext pyrona.notebook`) trace a program in a separate process, as `pyrona trace`
does, so the kernel's own state never becomes part of the program, and show the viewer
inline: the self-contained page of `pyrona export --format html` in an iframe, offline.

    %%pyrona --step 5 --height 600
    from pyrona import Region
    r = Region()
"""

from __future__ import annotations

import html
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import PyronaError

#: how long a program may run before the notebook gives up on it
TIMEOUT_SECONDS = 300
DEFAULT_HEIGHT = 680


class NotebookError(PyronaError):
    """The program could not be traced (not its own failure: that is shown, like any trace)."""

    kind = "notebook"


@dataclass(frozen=True)
class Viewer:
    """A traced program's viewer: Jupyter shows it inline (`_repr_html_`); `page` is the
    self-contained HTML, `status` how the run ended, `steps` how many steps it has."""

    name: str
    status: str
    steps: int
    message: str
    page: str
    height: int = DEFAULT_HEIGHT

    def _repr_html_(self) -> str:
        return (f'<iframe class="pyrona-viewer" title="Pyrona: {html.escape(self.name)}" '
                f'srcdoc="{html.escape(self.page, quote=True)}" '
                f'style="width:100%;height:{self.height}px;border:1px solid #d9dee7;border-radius:6px">'
                "</iframe>")

    def __repr__(self) -> str:
        outcome = f"{self.status}: {self.message}" if self.message else self.status
        return f"<pyrona viewer of {self.name}: {self.steps} steps, {outcome}>"

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the viewer to an HTML file (it works offline)."""
        Path(path).write_text(self.page, encoding="utf-8")


def show(path_or_source: str | os.PathLike[str], step: int | None = None, *, name: str | None = None,
         height: int = DEFAULT_HEIGHT, argv: list[str] | None = None) -> Viewer:
    """Trace a program (a path to a .py file, or its source text) in a separate Python
    process and return its viewer, opened at `step` (default: the first; negative counts
    from the end). Jupyter displays the result inline."""
    from .exports import step_index
    from .tracer.store import TraceStore

    with tempfile.TemporaryDirectory(prefix="pyrona-notebook-") as folder:
        script = _program(path_or_source, Path(folder), name)
        db = Path(folder) / "trace.db"
        command = [sys.executable, "-m", "pyrona", "trace", str(script), "--db", str(db)]
        if argv:
            command += ["--", *argv]  # (the program's own arguments)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                                  cwd=script.parent, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise NotebookError(f"{script.name} ran for more than {TIMEOUT_SECONDS} s: stopped") from None
        if done.returncode not in (0, 1) or not done.stdout.strip():
            said = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise NotebookError(f"{script.name} could not be traced: {said}")
        trace = int(done.stdout.split()[-1])
        store = TraceStore(db, readonly=True)
        try:
            info = store.trace(trace)
            steps = store.step_count(trace)
            start = step_index(store, trace, step) if step is not None and steps else 0
            out = io.StringIO()
            if steps:
                from .exports import write_html

                write_html(store, trace, out, start)
            page = out.getvalue() or _empty_page(info.name, info.message or "nothing was recorded")
            return Viewer(info.name, info.status, steps, info.message, page, height)
        finally:
            store.close()


def _program(path_or_source: str | os.PathLike[str], folder: Path, name: str | None) -> Path:
    """The file to trace: a named file where it is (its folder's modules importable beside
    it); source text written into `folder` as `name`."""
    if isinstance(path_or_source, os.PathLike) or (
            "\n" not in path_or_source and path_or_source.endswith(".py")):
        path = Path(path_or_source)
        if not path.is_file():
            raise NotebookError(f"there is no program {str(path)!r}")
        return path.resolve()
    name = name or "cell.py"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,79}\.py", name):
        raise NotebookError(f"name {name!r} is not a plain module file name (like cell.py)")
    script = folder / name
    script.write_text(path_or_source, encoding="utf-8")
    return script


def _empty_page(name: str, why: str) -> str:
    return (f"<!doctype html><meta charset='utf-8'><title>{html.escape(name)}</title>"
            f"<p style='font:15px system-ui'>{html.escape(name)} has no steps: {html.escape(why)}</p>")


def pyrona_magic(line: str, cell: str) -> Viewer:
    """`%%pyrona [--step N] [--height PX] [--name NAME.py]`: trace the cell, show its viewer."""
    import argparse

    parser = argparse.ArgumentParser(prog="%%pyrona", add_help=False)
    parser.add_argument("--step", type=int)
    parser.add_argument("--height", type=int, default=DEFAULT_HEIGHT)
    parser.add_argument("--name", default="cell.py")
    try:
        options = parser.parse_args(shlex.split(line))
    except SystemExit:
        raise NotebookError("usage: %%pyrona [--step N] [--height PX] [--name NAME.py]") from None
    return show(cell, options.step, name=options.name, height=options.height)


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext pyrona.notebook`: registers the `%%pyrona` cell magic."""
    ipython.register_magic_function(pyrona_magic, magic_kind="cell", magic_name="pyrona")  # type: ignore[attr-defined]
