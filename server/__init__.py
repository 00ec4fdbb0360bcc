"""The web app: upload a program, watch it run safely, explore ownership over time."""

import os as _os

from ..runtime.scan import add_internal_dir as _add_internal_dir

# the worker's frames are pyrona's, not the traced program's (see pyrona.tracer)
_add_internal_dir(_os.path.dirname(_os.path.abspath(__file__)))
