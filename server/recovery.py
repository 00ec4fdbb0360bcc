"""Owners of runs: which server runs what, and what a server that died left behind.

Each job manager is an owner: an id, held as an exclusive lock on the file
`pyrona-server-<id>.lock` in the temporary directory for as long as it lives (the
kernel drops the lock when the process ends, however it ends: `kill -9` included).
Its traces carry the id in their settings ("server"), its scratch folders in their
names (`pyrona-run-<id>-<trace>-*`, in the temporary directory). An owner is dead when
its lock file is there and nobody holds it (a server that was killed or crashed), or
when it is gone (a restart emptied the temporary directory); a live server's lock is
always held. The next server claims dead owners (`claim`): it finishes their runs
(see `JobManager.recover`) and removes their scratch folders, only folders it can
prove are theirs: the name, a lock file it now holds, its own user, no symlink.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import stat
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import sandbox

RUN_PREFIX = "pyrona-run-"
LOCK_PREFIX = "pyrona-server-"
_ID = re.compile(r"[0-9a-f]{16}\Z")
_RUN = re.compile(re.escape(RUN_PREFIX) + r"([0-9a-f]{16})-[0-9]{1,12}-[A-Za-z0-9_]{1,16}\Z")


def _lock_name(owner: str) -> str:
    return f"{LOCK_PREFIX}{owner}.lock"


class Owner:
    """This server: its id, and its lock held until `release` (or the process ends)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder if folder is not None else tempfile.gettempdir())
        self.id = uuid.uuid4().hex[:16]
        # locked under a name no one looks at, then renamed: no one ever sees it unlocked
        hidden = self.folder / f".{_lock_name(self.id)}.new"
        fd = os.open(hidden, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(hidden, self.folder / _lock_name(self.id))
        except BaseException:
            os.close(fd)
            os.unlink(hidden)
            raise
        self._fd: int | None = fd

    def scratch(self, trace: int) -> Path:
        """A new scratch folder for a run of `trace`."""
        return Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{self.id}-{trace}-", dir=self.folder))

    def release(self) -> None:
        """The server shuts down: its lock goes (its runs are over)."""
        if self._fd is not None:
            try:
                os.unlink(self.folder / _lock_name(self.id))
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None


@dataclass
class Claim:
    """A dead owner, claimed: `fd` holds its lock (None: its lock file was gone)."""

    owner: str
    fd: int | None


class Claims:
    """The owners this server found dead, each claimed once (its lock held until `release`)."""

    def __init__(self, me: Owner) -> None:
        self.me = me
        self._known: dict[str, Claim | None] = {}  # owner -> its claim, None while it lives

    def dead(self, owner: str) -> bool:
        """Whether `owner` is dead (claimed now if so): its lock is free, or gone."""
        if owner not in self._known:
            mine_or_bad = owner == self.me.id or not _ID.match(owner)
            self._known[owner] = None if mine_or_bad else _claim(self.me.folder, owner)
        return self._known[owner] is not None

    def remove_scratch(self) -> list[Path]:
        """Remove the scratch folders of dead owners (whose lock file was there: proof they
        are theirs); the folders removed."""
        removed = []
        for entry in os.scandir(self.me.folder):
            found = _RUN.match(entry.name)
            if found is None or not self.dead(found[1]) or self._known[found[1]].fd is None:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode) and info.st_uid in _run_users():
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(Path(entry.path))
        return removed

    def release(self) -> None:
        """Done with the dead owners: their lock files go."""
        for claim in self._known.values():
            if claim is not None and claim.fd is not None:
                try:
                    os.unlink(self.me.folder / _lock_name(claim.owner))
                except OSError:
                    pass
                os.close(claim.fd)
        self._known.clear()


def _claim(folder: Path, owner: str) -> Claim | None:
    """A claim on `owner` if it is dead, else None."""
    try:
        fd = os.open(folder / _lock_name(owner), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return Claim(owner, None)
    except OSError:
        return None  # not ours to judge
    try:
        if os.fstat(fd).st_uid != os.geteuid():
            raise BlockingIOError
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # held: it lives (or another user's file)
        os.close(fd)
        return None
    return Claim(owner, fd)


def _run_users() -> set[int]:
    """The users a scratch folder of this server's user can belong to (a root server's
    runs go as nobody)."""
    me = os.geteuid()
    return {me, sandbox.NOBODY} if me == 0 else {me}
