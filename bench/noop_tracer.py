"""The floor of any line tracer: run a program with a no-op sys.monitoring LINE callback
enabled on the program's own code (as pyrona's tracer enables it), and nothing else.

    python bench/noop_tracer.py PROGRAM
"""

from __future__ import annotations

import os
import runpy
import sys

TOOL = 4
E = sys.monitoring.events


def main() -> None:
    program = os.path.abspath(sys.argv[1])

    def start(code, offset):
        if code.co_filename == program:
            sys.monitoring.set_local_events(TOOL, code, E.LINE)
        return sys.monitoring.DISABLE

    def line(code, number):
        return None

    sys.monitoring.use_tool_id(TOOL, "noop")
    sys.monitoring.register_callback(TOOL, E.PY_START, start)
    sys.monitoring.register_callback(TOOL, E.LINE, line)
    sys.monitoring.set_events(TOOL, E.PY_START)
    sys.argv = sys.argv[1:]
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
