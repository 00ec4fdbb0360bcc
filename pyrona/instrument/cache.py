"""A cache of instrumented code: a program's rewritten modules, compiled, kept between runs.

Rewriting costs the import of `ast` and the rewriter and a parse at every start; a hit
costs one small file read and `marshal.loads`. One file per (source path, options) in
the user's cache folder, replaced when the source changes. An entry is used only if
its header matches exactly: the format, this Python (`sys.version`, optimisation level),
the rewriter's own files (name, size, modification time: a changed or upgraded pyrona
never reads an older entry), the options, the whole source (compared byte for byte, so
no hash collision can hand one program another's code) and a checksum of the payload.
Anything else (missing, truncated, corrupt, another version) is a miss: the module is
rewritten and the entry written again, atomically. Errors of the cache itself are never
the program's: a folder that cannot be written just means no cache.
"""

from __future__ import annotations

import _imp
import marshal
import os
import sys
import types

#: Bump when the entry layout changes.
FORMAT = b"pyrona-code-1"
#: The files whose code decides what the rewriter produces.
_REWRITER_FILES = ("rewrite.py", "rebinding.py", "hooks.py", "cache.py")
#: Set (to anything) to neither read nor write the cache.
DISABLE_ENV = "PYRONA_NO_CODE_CACHE"
#: Entries kept: past this many, writing one drops the older half (temporary programs'
#: entries, e.g. of test runs, must not pile up).
MAX_ENTRIES = 256
#: siphash key of the checksum and of the file names (not a secret: the source itself is compared).
_KEY = 0x7079726F6E61


def default_folder() -> str:
    """$XDG_CACHE_HOME/pyrona/code, else ~/.cache/pyrona/code."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pyrona", "code")


def _rewriter_stamp() -> bytes:
    here = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for name in _REWRITER_FILES:
        try:
            st = os.stat(os.path.join(here, name))
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:?")
    return ";".join(parts).encode()


class CodeCache:
    """Compiled instrumented code of source files, in `folder` (created when first written)."""

    def __init__(self, folder: str | None = None) -> None:
        self.folder = folder or default_folder()
        self._stamp = b"\n".join([FORMAT, sys.version.encode(), str(sys.flags.optimize).encode(),
                                  _rewriter_stamp()])
        self.hits = self.misses = 0

    def load(self, source: bytes, filename: str, fast_paths: bool,
             value_paths: bool) -> types.CodeType | None:
        """The instrumented code of `source` (file `filename`) if an entry is exactly for it."""
        entry, header = self._place(source, filename, fast_paths, value_paths)
        code = self._read(entry, header)
        if code is None:
            self.misses += 1
        else:
            self.hits += 1
        return code

    def store(self, source: bytes, filename: str, fast_paths: bool, value_paths: bool,
              code: types.CodeType) -> None:
        """Keep `code`, the instrumented code of `source`, for the next `load`."""
        entry, header = self._place(source, filename, fast_paths, value_paths)
        self._write(entry, header, code)

    def _place(self, source: bytes, filename: str, fast_paths: bool,
               value_paths: bool) -> tuple[str, bytes]:
        """The entry's file and the header it must start with."""
        options = f"{filename}\0{int(fast_paths)}{int(value_paths)}".encode("utf-8", "surrogateescape")
        header = self._stamp + b"\n" + options + b"\n" + len(source).to_bytes(8, "little") + source
        return os.path.join(self.folder, _imp.source_hash(_KEY, options).hex() + ".bin"), header

    @staticmethod
    def _read(entry: str, header: bytes) -> types.CodeType | None:
        try:
            with open(entry, "rb") as f:
                data = f.read()
        except OSError:
            return None
        # header, then the payload's checksum (8 bytes), then the payload (marshal)
        if len(data) < len(header) + 8 or data[:len(header)] != header:
            return None
        payload = data[len(header) + 8:]
        if _imp.source_hash(_KEY, payload) != data[len(header):len(header) + 8]:
            return None
        try:
            code = marshal.loads(payload)
        except (ValueError, EOFError, TypeError):
            return None
        return code if isinstance(code, types.CodeType) else None

    def _write(self, entry: str, header: bytes, code: types.CodeType) -> None:
        payload = marshal.dumps(code)
        tmp = f"{entry}.{os.getpid()}.tmp"
        try:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(header + _imp.source_hash(_KEY, payload) + payload)
            os.replace(tmp, entry)  # (readers see the old entry or the new one, never half)
            self._prune()
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _prune(self) -> None:
        """Past MAX_ENTRIES entries, remove the least recently written half."""
        with os.scandir(self.folder) as found:
            entries = [e for e in found if e.name.endswith(".bin")]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for old in entries[:len(entries) // 2]:
            try:
                os.unlink(old.path)
            except OSError:
                pass


def cli_cache() -> CodeCache | None:
    """The cache the command line uses: None when $PYRONA_NO_CODE_CACHE is set."""
    return None if os.environ.get(DISABLE_ENV) else CodeCache()
