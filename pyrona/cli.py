"""The `pyrona` command line: `pyrona run FILE [--result PATH] [ARGS...]`."""

from __future__ import annotations

import argparse
import sys

from .instrument.runner import run_program

DESCRIPTION = "Run Python programs with region-based ownership enforced on their objects."

EPILOG = """\
examples:
  pyrona run prog.py                     run prog.py under pyrona
  pyrona run prog.py --result out.json   also write the outcome as JSON
  pyrona run prog.py -- -v input.txt     pass '-v input.txt' to prog.py

Run 'pyrona COMMAND --help' for the options of a command."""

RUN_DESCRIPTION = """\
Run FILE like 'python FILE ARGS...', with the modules of FILE's folder rewritten
so that every store goes through pyrona's region checks. The exit status is the
program's (1 after an uncaught exception, 2 if FILE cannot be run)."""

RUN_EPILOG = """\
Options of pyrona come before FILE or right after it; the first other argument,
or everything after '--', goes to the program.

--result writes {"ok": true} or
  {"ok": false, "error": {"kind": ..., "type": ..., "message": ..., "line": ...}}
where kind is a pyrona error kind or "other", and line is the line of FILE
that was running when the error was raised (null if none).

examples:
  pyrona run prog.py a b
  pyrona run prog.py --result out.json -- a b
  pyrona run --result out.json prog.py"""

#: Options of `run` that take a value, recognised before and right after FILE.
_VALUE_OPTIONS = ("--result",)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `pyrona` command."""
    parser = argparse.ArgumentParser(
        prog="pyrona", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    run = commands.add_parser(
        "run", help="run a Python program under pyrona",
        description=RUN_DESCRIPTION, epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("file", metavar="FILE", help="the Python script to run")
    run.add_argument("--result", metavar="PATH",
                     help="write the program's outcome to PATH as JSON")
    # Shown in the usage line only: program arguments are split off before parsing.
    run.add_argument("args", metavar="ARGS", nargs="*", help="arguments passed to the program")
    return parser


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


def main(argv: list[str] | None = None) -> int:
    """Run the `pyrona` command with `argv` (default: sys.argv[1:]); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    program_args: list[str] = []
    if argv and argv[0] == "run":
        ours, program_args = _split_run_args(argv[1:])
        argv = ["run", *ours]
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    if options.command is None:
        parser.print_help(sys.stderr)
        return 2
    return run_program(options.file, program_args, options.result)
