"""`python -m pyrona ...`: the same as the `pyrona` command."""

import sys

# `python -m` puts the current folder first on sys.path. Leave it out while
# pyrona imports its own modules, so that a program's `json.py` (say) in the
# current folder is not taken for the standard one; the runner then puts the
# program's folder in its place, as `python FILE` does.
_cwd_entry = sys.path.pop(0) if sys.path and not sys.flags.safe_path else None
try:
    from pyrona.cli import main
finally:
    if _cwd_entry is not None:
        sys.path.insert(0, _cwd_entry)

if __name__ == "__main__":
    sys.exit(main())
