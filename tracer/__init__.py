"""The tracer: records every step of a program with its object graph and regions."""

import os as _os

from ..runtime.scan import add_internal_dir as _add_internal_dir

# the tracer's frames (its store hooks among them) are pyrona's, not the program's:
# a scan for the program's local references must not count their variables
_add_internal_dir(_os.path.dirname(_os.path.abspath(__file__)))
