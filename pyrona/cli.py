"""The `pyrona` command line: run, trace, show and export programs under the region runtime."""

from __future__ import annotations

import sys
import types

from .instrument.cache import cli_cache
# (now: `python -m pyrona` keeps the cwd off sys.path here)
from .instrument.runner import Instrumentation, run_program

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    import argparse

#: Options of `run`/`trace` that take a value, recognised before and right after FILE.
_VALUE_OPTIONS = ("--result", "--db", "--name", "--max-steps", "--max-objects")
#: The options of `run` and `trace` with their defaults (the parser's, in cli_parser, too).
RUN_DEFAULTS = {"result": None}
TRACE_DEFAULTS = {"db": None, "name": None, "max_steps": 1_000_000, "max_objects": 200_000}
#: Those whose value is a positive count.
_COUNTS = ("max_steps", "max_objects")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the `pyrona` command (see `cli_parser.build_parser`)."""
    from .cli_parser import build_parser as build

    return build(only)


def _split_run_args(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Split the tokens after `run` into pyrona's (options, FILE) and the program's arguments."""
    ours: list[str] = []
    i = 0
    file: list[str] = []
    while i < len(tokens):
        token = tokens[i]
        if token == "--":
            file = tokens[i + 1:i + 2]
            i += 2
            break
        if token in _VALUE_OPTIONS:
            ours += tokens[i:i + 2]
            i += 2
        elif token.startswith("-") and token != "-":
            ours.append(token)  # --result=PATH, --help, or an unknown option argparse reports
            i += 1
        else:
            file = [token]
            i += 1
            break
    # pyrona's options right after FILE, until '--' or the program's first argument.
    while i < len(tokens):
        token = tokens[i]
        if token == "--":
            i += 1
            break
        if token in _VALUE_OPTIONS:
            ours += tokens[i:i + 2]
            i += 2
        elif any(token.startswith(f"{o}=") for o in _VALUE_OPTIONS):
            ours.append(token)
            i += 1
        else:
            break
    # FILE goes last, after '--', so a name starting with '-' is still taken as FILE.
    return [*ours, "--", *file] if file else ours, tokens[i:]


def _plain_options(command: str, ours: list[str]) -> types.SimpleNamespace | None:
    """The options of a `run`/`trace` command line that needs nothing of argparse: only
    known options with plain values (`--db X` or `--db=X`), then `--` and FILE. None for
    anything else (help, a bad or missing value, an unknown option), which argparse
    parses and reports; what both accept, they read the same."""
    found = dict(RUN_DEFAULTS if command == "run" else TRACE_DEFAULTS, command=command)
    if len(ours) < 2 or ours[-2] != "--":
        return None
    i = 0
    while i < len(ours) - 2:
        option, eq, value = ours[i].partition("=")
        if not eq:
            value = ours[i + 1] if i + 1 < len(ours) - 2 else ""
            i += 1
        i += 1
        key = option[2:].replace("-", "_")
        if not option.startswith("--") or key not in found or key == "command" or not value \
                or value.startswith("-"):
            return None
        if key in _COUNTS:
            if not value.isdecimal() or int(value) <= 0:
                return None
            found[key] = int(value)
        else:
            found[key] = value
    return types.SimpleNamespace(**found, file=ours[-1], args=[])


def _settle(own_process: bool) -> None:
    """Just before the program starts: in pyrona's own process, freeze what exists (see `main`)."""
    if own_process:
        import gc

        gc.freeze()


def main(argv: list[str] | None = None, *, own_process: bool | None = None) -> int:
    """Run the `pyrona` command with `argv` (default: sys.argv[1:]); return the exit status.

    `own_process` (default: when `argv` is None, as the `pyrona` script and `python -m
    pyrona` call it) says the process ends with the command: the objects pyrona made
    before the program starts are then moved out of the cycle collector's sight (they
    live until the exit anyway), which spares scanning them again in every full
    collection during the run and at the interpreter's exit (a sixth of an empty
    program's `pyrona trace`). Not for a caller's process (a test's): its own garbage
    of that moment would never be collected."""
    if own_process is None:
        own_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    program_args: list[str] = []
    options = None
    if argv and argv[0] in ("run", "trace"):
        ours, program_args = _split_run_args(argv[1:])
        options = _plain_options(argv[0], ours)
        argv = [argv[0], *ours]
    if options is None:
        from .cli_parser import COMMANDS

        parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
        try:
            options = parser.parse_args(argv)
        except SystemExit as exc:  # --help, or a usage error argparse already printed
            return exc.code if isinstance(exc.code, int) else 2
        if options.command is None:
            parser.print_help(sys.stderr)
            return 2
    if options.command == "run":
        _settle(own_process)
        return run_program(options.file, program_args, options.result, Instrumentation(cache=cli_cache()))
    # the trace commands import the tracer, the store and the views: only when asked
    from . import trace_commands
    from .errors import PyronaError

    try:
        if options.command == "serve":
            return trace_commands.cmd_serve(options)
        if options.command == "worker":
            return trace_commands.cmd_worker(options)
        if options.command == "trace":
            return trace_commands.cmd_trace(options, program_args, lambda: _settle(own_process))
        if options.command == "show":
            return trace_commands.cmd_show(options)
        return trace_commands.cmd_export(options)
    except PyronaError as exc:  # the store's, the CLI's own (UsageError): one line, no traceback
        print(f"pyrona: error: {exc}", file=sys.stderr)
        return trace_commands.EXIT_USAGE
