"""The argument parser of the `pyrona` command: its commands, options, help and epilogs.

Imported only when a command line needs argparse (help, a usage error, a command other
than a plain `run`/`trace`): argparse, gettext and locale cost a tenth of `pyrona trace`'s
start-up."""

from __future__ import annotations

import argparse
import os
import sys

from .cli import RUN_DEFAULTS, TRACE_DEFAULTS

DESCRIPTION = "Run Python programs with region-based ownership enforced on their objects."

EPILOG = """\
examples:
  pyrona run prog.py                     run prog.py under pyrona
  pyrona run prog.py --result out.json   also write the outcome as JSON
  pyrona run prog.py -- -v input.txt     pass '-v input.txt' to prog.py
  pyrona trace prog.py                   record every step; prints the trace id
  pyrona show 3 --step 10                print step 10 of trace 3 as text
  pyrona export 3 --format md -o out.md  one mermaid diagram per step
  pyrona export 3 --format pdf -o t.pdf  the slides, one a page
  pyrona worker --db postgresql://...    run the uploads 'pyrona serve' queued there

exit status:
  run     the program's own (1 after an uncaught exception), 2 if FILE cannot be run
  trace   0 if the program ran to its end or a cap cut its trace, 1 if it failed
          (the trace is stored and its id printed either way), 2 on a usage error
  others  0, or 2 on a usage error
A usage error (bad arguments, a missing file, store, trace or step, an output
file that cannot be written) is one line on stderr: 'pyrona: error: ...'.

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

TRACE_EPILOG = """\
exit status:
  0  the program ran to its end, or a cap (--max-steps, --max-objects) cut its
     trace (the trace is marked truncated)
  1  the program failed: an uncaught exception, a syntax error, a non-zero
     sys.exit; its trace is stored all the same
  2  usage error (bad arguments, FILE missing, a store that cannot be opened):
     nothing was traced
In cases 0 and 1 the trace's id is the last line of stdout.

examples:
  pyrona trace prog.py
  id=$(pyrona trace prog.py --db t.db | tail -n1)"""

TRACE_DESCRIPTION = """\
Run FILE under pyrona with the tracer on: every executed line is recorded with
its object graph and regions into the trace store. Progress goes to stderr; the
new trace's id is printed alone on the last line of stdout."""

SHOW_DESCRIPTION = """\
Print a step of a trace: the line, the frames and their variables, the regions
with their counters, the objects by place, and the step's events."""

EXPORT_DESCRIPTION = """\
Export a trace: 'mermaid' is one step's diagram (default: the last), 'md' one
titled mermaid block per step (GitHub renders it), 'json' every step's graph,
'html' the viewer itself in one file that works offline (opened at --step).
Drawn in Chromium: 'svg' one step's diagram, 'png' one step as a slide (the
viewer's presentation mode), or with --slides one file of each into the folder
-o names; 'gif' (animated) and 'pdf' (a slide a page) of the slides. The slides
are --bookmarks if given, else the lines marked '# pyrona: slide' in the
program, else the steps with region events or violations."""

READ_EPILOG = """\
Steps count from 0; a negative step counts from the end (-1 is the last).
The store is only read: a missing one is an error (it is not created).

exit status:
  0  done
  2  usage error: a missing store, trace or step{more}
     ('pyrona: error: ...' on stderr)"""

class _Wrapping(argparse.HelpFormatter):
    """argparse's own formatter, with the terminal's width found without `shutil` (which
    argparse imports for it, with bz2 and lzma: a tenth of `pyrona trace`'s start-up)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


class _Formatter(_Wrapping, argparse.RawDescriptionHelpFormatter):
    """The same, keeping the line breaks of descriptions and epilogs."""


def _terminal_columns() -> int:
    """$COLUMNS, else stdout's terminal width, else 80 (what `shutil.get_terminal_size` gives)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the `pyrona` command; with `only` (a command's name), one
    that knows that command alone: parsing a command line needs only its own (building
    them all is a sixth of `pyrona trace`'s start-up), the main --help needs them all."""
    parser = argparse.ArgumentParser(
        prog="pyrona", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=_Formatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(commands)
    return parser


DB_HELP = ("the trace store: a SQLite file, or a PostgreSQL database's postgresql:// URL; "
           "default: $PYRONA_DB or ~/.local/share/pyrona/traces.db")
ID_HELP = "the trace's id ('pyrona trace' prints it)"


def _add_run(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run", help="run a Python program under pyrona",
        description=RUN_DESCRIPTION, epilog=RUN_EPILOG,
        formatter_class=_Formatter,
    )
    run.add_argument("file", metavar="FILE", help="the Python script to run")
    run.add_argument("--result", metavar="PATH", default=RUN_DEFAULTS["result"],
                     help="write the program's outcome to PATH as JSON")
    # Shown in the usage line only: program arguments are split off before parsing.
    run.add_argument("args", metavar="ARGS", nargs="*", default=[], help="arguments passed to the program")


def _add_trace(commands: argparse._SubParsersAction) -> None:
    trace = commands.add_parser(
        "trace", help="run a program and record every step (prints the trace id)",
        description=TRACE_DESCRIPTION, epilog=TRACE_EPILOG,
        formatter_class=_Formatter)
    trace.add_argument("file", metavar="FILE", help="the Python script to trace")
    trace.add_argument("--db", metavar="PATH", help=DB_HELP)
    trace.add_argument("--name", help="a name for the trace (default: the file's name)")
    trace.add_argument("--max-steps", type=_positive, default=TRACE_DEFAULTS["max_steps"], metavar="N",
                       help="stop recording after N steps (default 1,000,000)")
    trace.add_argument("--max-objects", type=_positive, default=TRACE_DEFAULTS["max_objects"], metavar="N",
                       help="stop recording when N objects are alive (default 200,000)")
    trace.add_argument("args", metavar="ARGS", nargs="*", default=[], help="arguments passed to the program")


def _add_show(commands: argparse._SubParsersAction) -> None:
    show = commands.add_parser("show", help="print one step of a trace as text",
                               description=SHOW_DESCRIPTION, epilog=READ_EPILOG.format(more=""),
                               formatter_class=_Formatter)
    show.add_argument("trace", type=int, metavar="TRACE_ID", help=ID_HELP)
    show.add_argument("--step", type=int, metavar="N", help="the step (default: the last; -1 counts back)")
    show.add_argument("--all", action="store_true", help="also show functions, classes and modules")
    show.add_argument("--db", metavar="PATH", help=DB_HELP)


def _add_export(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="export a trace as mermaid, markdown, JSON or HTML",
                                 description=EXPORT_DESCRIPTION,
                                 epilog=READ_EPILOG.format(more=",\n     or an output FILE it cannot write"),
                                 formatter_class=_Formatter)
    export.add_argument("trace", type=int, metavar="TRACE_ID", help=ID_HELP)
    export.add_argument("--format", choices=("mermaid", "md", "json", "html", "svg", "png", "gif", "pdf"),
                        default="mermaid", help="what to write (default: mermaid)")
    export.add_argument("--step", type=int, metavar="N",
                        help="only this step (default: every step; for mermaid, svg and png, the last)")
    export.add_argument("--slides", action="store_true",
                        help="svg, png: one file per slide, into the folder -o names")
    export.add_argument("--bookmarks", metavar="N,N,...", help="the slides' steps (gif, pdf, --slides)")
    export.add_argument("--size", default="1280x720", metavar="WxH",
                        help="a slide's size in pixels (png, gif, pdf; default 1280x720)")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of stdout (needed for png, gif, pdf and --slides)")
    export.add_argument("--db", metavar="PATH", help=DB_HELP)


def _add_serve(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="serve the web app (127.0.0.1 by default)",
                                formatter_class=_Wrapping,
                                description="Serve Pyrona Studio: upload or paste a program, watch it run "
                                            "in a sandbox, and explore its regions step by step.")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_positive, default=8000, help="port (default 8000)")
    serve.add_argument("--db", metavar="PATH", help=DB_HELP)
    serve.add_argument("--samples", action="store_true",
                       help="trace the sample programs first, unless the store has them already")
    serve.add_argument("--public", action="store_true",
                       help="for a server others reach: traces addressed by unguessable tokens, each "
                            "browser session lists and deletes its own traces only (see the README)")
    serve.add_argument("--shared", action="store_true",
                       help="with --public: every visitor's list shows every trace")
    serve.add_argument("--workers", type=_count, default=2, metavar="N",
                       help="runs of uploads this server does at once (default 2); with a PostgreSQL "
                            "store, 0 makes it web only: 'pyrona worker' processes run them")


def _add_worker(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser(
        "worker", help="run uploaded programs queued in a PostgreSQL store (for 'pyrona serve')",
        formatter_class=_Wrapping,
        description="Take the runs that 'pyrona serve --db URL' queued, run each in the sandbox, and "
                    "write its trace into the store (any machine that reaches the database can run "
                    "one). Stops on SIGINT or SIGTERM, after the runs in progress.")
    worker.add_argument("--db", metavar="URL", required=True,
                        help="the trace store's postgresql:// URL (the queue is in the same database)")
    worker.add_argument("--concurrency", type=_positive, default=2, metavar="N",
                        help="runs at once (default 2)")


#: Each command's sub-parser, in the order the main --help lists them.
COMMANDS = {"run": _add_run, "trace": _add_trace, "show": _add_show, "export": _add_export,
             "serve": _add_serve, "worker": _add_worker}


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value
