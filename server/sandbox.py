"""The sandbox of one run: the worker's command (inside bubblewrap when it works) and its limits.

Two modes. "bwrap": the worker runs in new namespaces (no network: an empty network
namespace; its own pids, IPC and hostname), on a read-only root that holds only what
Python needs, each at a neutral path, so nothing inside names the host's folders:
/usr (and the ld.so files of /etc), the Python installation at /pyrona/python (when
it is not under /usr), pyrona's own packages at /pyrona/lib, the run's folder at
/pyrona/run (read-only, but for the files of the trace store, bound writable: the
program can write them, never add files there), a private /tmp and the program's
scratch space /scratch, both size-limited tmpfs (so the scratch space limit holds
at every write: ENOSPC, no polling), and a minimal /dev. No /proc: its mountinfo
would show the host paths of the binds. "rlimits": resource limits only (used when
bubblewrap cannot run here); the worker then adds best-effort in-process guards (see
`worker`), which a determined program can get around: a server open to strangers
needs "bwrap".

In both modes the process gets resource limits before it starts (CPU seconds,
address space, processes, file size, open files, no core dumps) and a session of
its own, so the server can kill its whole process group at the wall-time limit.

Processes: RLIMIT_NPROC counts every process (and thread) of a *user*, not of this
run, and the kernel does not apply it to root. So a server running as root runs
its workers as `nobody` (the worker drops to it once the sandbox is set up), and
the limit is set to the tasks that user already has plus `Limits.processes`: the
worker can always start, and a fork bomb stops after `processes` more.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyrona.errors import PyronaError

from .settings import Limits

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("pyrona.server")

NOBODY = 65534  # the uid/gid a root server runs programs as
SANDBOX_DIR = "/scratch"  # the program's scratch space, as a bubblewrap run sees it
RUN_DIR = "/pyrona/run"  # the run's folder (program, trace store), as a bubblewrap run sees it
LIB_DIR = "/pyrona/lib"  # pyrona's own packages, inside
PYTHON_DIR = "/pyrona/python"  # the Python installation, inside (when not under /usr)
STORE_FILES = ("trace.db", "trace.db-wal", "trace.db-shm")
OPEN_FILES = 64
#: CPU seconds past the CPU time limit (SIGXCPU: the worker stops the program and finishes
#: its trace) to the hard limit (SIGKILL). The kernel sends SIGXCPU to whichever thread is
#: running: a main thread waiting for another learns of it at the worker's next alarm
#: (0.5 s, in which the program's threads may use a core each), then the trace is finished.
HARD_CPU_GRACE = 3
TMP_BYTES = 8 << 20  # the private /tmp of a bubblewrap run
#: what the worker runs inside: our packages first on the path (-I leaves PYTHONPATH out)
_BOOT = f"import sys; sys.path.insert(0, {LIB_DIR!r}); from pyrona.server.worker import run; run()"
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/etc")
NO_NETWORK = "no network inside the sandbox"
_LIMITS = {
    "cpu": "CPU time limit ({l.cpu_seconds} s)",
    "memory": "memory limit ({l.memory_mb} MB)",
    "wall": "wall time limit ({l.wall_seconds} s)",
    "output": "output limit ({output})",
    "processes": "process limit ({l.processes} processes)",
    "file-size": "file size limit ({l.file_size_mb} MB)",
    "disk": "scratch space limit ({disk} MB)",
    "steps": "step limit ({l.max_steps:,} steps)",
    "objects": "object limit ({l.max_objects:,} objects)",
}


class SandboxError(PyronaError):
    """The sandbox asked for cannot be used here."""

    kind = "sandbox"


def stop_message(reason: str, limits: Limits) -> str:
    """The message of a run a limit stopped, naming the limit plainly."""
    what = _LIMITS[reason].format(l=limits, output=size_text(limits.output_bytes), disk=disk_mb(limits))
    return f"stopped: {what} reached"


def size_text(n: int) -> str:
    if n >= 1_000_000:
        return f"{n // 1_000_000} MB" if n % 1_000_000 == 0 else f"{n / 1e6:.1f} MB"
    return f"{n // 1000} KB" if n >= 1000 and n % 1000 == 0 else f"{n} bytes"


def disk_mb(limits: Limits) -> int:
    """The program's scratch space: with bwrap, the size of its tmpfs (the trace store is
    apart: each of its files stays under the file size limit); with rlimits only, what the
    server allows the run's folder before it stops the run (checked every second)."""
    return 2 * limits.file_size_mb


def bwrap_probe() -> str:
    """'' if bubblewrap works here, else why not: it runs `true` in the very sandbox a run
    gets (namespaces, mounts), so a container that forbids any of it is found out now."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    with tempfile.TemporaryDirectory(prefix="pyrona-probe-") as scratch:
        os.chmod(scratch, 0o711)  # as a run's (see plan)
        prepare_store(Path(scratch))
        try:
            proc = subprocess.run([*_bwrap(Path(scratch), Limits()), "true"], capture_output=True,
                                  text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap does not run: {exc}"
    if proc.returncode != 0:
        return f"bwrap cannot set up its sandbox here: {proc.stderr.strip()[:300]}"
    return ""


def resolve_mode(requested: str) -> str:
    """The mode runs use: "bwrap" or "rlimits". "auto" takes bubblewrap when it works here,
    else falls back to rlimits with a warning; "bwrap" raises SandboxError if it does not."""
    if requested not in ("auto", "bwrap", "rlimits"):
        raise SandboxError(f"unknown sandbox {requested!r}: use auto, bwrap or rlimits")
    if requested == "rlimits":
        return "rlimits"
    why = bwrap_probe()
    if not why:
        return "bwrap"
    if requested == "bwrap":
        raise SandboxError(f"cannot run programs: the sandbox 'bwrap' was asked for, but {why}; "
                           "install the Debian package bubblewrap, or use sandbox 'auto' or 'rlimits'")
    log.warning("sandbox: %s; runs get resource limits only (sandbox 'rlimits')", why)
    return "rlimits"


@dataclass(frozen=True)
class Plan:
    """How to start one run: the command, its environment and the limits to set before it."""

    argv: list[str]
    env: dict[str, str]
    preexec: Callable[[], None]
    mode: str
    folder: str  # the scratch directory as the worker sees it
    uid: int  # the user the program runs as


def plan(mode: str, scratch: Path, program: str, limits: Limits, progress_fd: int) -> Plan:
    """The plan of a run of `scratch/program`, tracing into `scratch/trace.db`."""
    # root: the run goes as nobody, if nobody can reach Python (bwrap makes sure it can)
    drop = os.geteuid() == 0 and (mode == "bwrap" or _readable_by_others(_python_paths()))
    uid = NOBODY if drop else os.geteuid()
    folder = SANDBOX_DIR if mode == "bwrap" else str(scratch)
    if mode == "bwrap":
        prepare_store(scratch)
        python, _bound = _python_inside()
        worker = [python, "-I", "-B", "-X", "utf8", "-c", _BOOT, f"{RUN_DIR}/{program}",
                  f"{RUN_DIR}/trace.db", "--workdir", SANDBOX_DIR]
    else:
        worker = [sys.executable, "-I", "-B", "-X", "utf8", "-m", "pyrona.server.worker",
                  f"{folder}/{program}", f"{folder}/trace.db"]
    worker += ["--max-steps", str(limits.max_steps),
              "--max-objects", str(limits.max_objects), "--max-output", str(limits.output_bytes),
              "--wall-seconds", str(limits.wall_seconds),
              "--max-processes", str(limits.processes), "--progress-fd", str(progress_fd)]
    if drop:
        worker += ["--run-as", str(uid)]
    if mode == "rlimits":
        worker += ["--guard", folder]
    argv = _bwrap(scratch, limits) + worker if mode == "bwrap" else worker
    env = {"PATH": "/usr/bin:/bin", "HOME": folder, "TMPDIR": f"{folder}/tmp", "LANG": "C.UTF-8"}
    if mode == "bwrap":
        env["TMPDIR"] = "/tmp"
        if _python_inside()[1]:  # its shared library, if it has one, is found there
            env["LD_LIBRARY_PATH"] = f"{PYTHON_DIR}/lib"
    if uid != os.geteuid():  # the run's user must be able to write its scratch directory
        for path in (scratch, *scratch.rglob("*")):
            os.chown(path, uid, uid)
        # and bwrap, root without capabilities by then, must get into it (not list it)
        scratch.chmod(0o711)
    return Plan(argv, env, preexec_limits(limits, nproc_limit(uid, limits.processes)), mode, folder, uid)


def preexec_limits(limits: Limits, nproc: int) -> Callable[[], None]:
    """What runs in the child between fork and exec: only setrlimit calls on values computed
    beforehand (the server has threads: nothing here may take a lock or import)."""
    mb = 1 << 20
    values = ((resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + HARD_CPU_GRACE)),
              (resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb)),
              (resource.RLIMIT_NPROC, (nproc, nproc)),
              (resource.RLIMIT_FSIZE, (limits.file_size_mb * mb, limits.file_size_mb * mb)),
              (resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES)),
              (resource.RLIMIT_CORE, (0, 0)))
    setrlimit = resource.setrlimit

    def apply() -> None:
        for which, value in values:
            setrlimit(which, value)

    return apply


def nproc_limit(uid: int, processes: int) -> int:
    """RLIMIT_NPROC for a run as `uid`: the tasks that user has now, plus `processes`."""
    return user_tasks(uid) + processes


def user_tasks(uid: int) -> int:
    """Processes and threads of user `uid` now (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue  # ended meanwhile
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count


def _unshare() -> list[str]:
    # A root server keeps the real user ids (no user namespace), so that the worker can
    # become `nobody` and RLIMIT_NPROC applies; otherwise every namespace bwrap supports.
    if os.geteuid() == 0:
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    return ["--unshare-all"]


def prepare_store(scratch: Path) -> None:
    """The files of the run's trace store, made beforehand: inside, only they are writable
    in the run's folder (an empty database already in WAL mode, its -wal and -shm files)."""
    import sqlite3

    db = sqlite3.connect(scratch / STORE_FILES[0])
    try:
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    for name in STORE_FILES[1:]:
        (scratch / name).touch()


def _bwrap(scratch: Path, limits: Limits) -> list[str]:
    args = [shutil.which("bwrap") or "bwrap", *_unshare(), "--die-with-parent", "--new-session"]
    if os.geteuid() == 0:  # root in the sandbox only until the worker drops to nobody
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += ["--perms", "01777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    # (bwrap would make the folders it creates 0700: the run's user could not get through)
    args += ["--perms", "0755", "--dir", "/pyrona", "--perms", "0755", "--dir", LIB_DIR]
    _python, bound = _python_inside()
    if bound:
        args += ["--ro-bind", bound, PYTHON_DIR]
    args += _code_binds()
    args += ["--ro-bind", str(scratch), RUN_DIR]
    for name in STORE_FILES:
        args += ["--bind", str(scratch / name), f"{RUN_DIR}/{name}"]
    args += ["--dev", "/dev", "--remount-ro", "/dev",
             "--perms", "01777", "--size", str(disk_mb(limits) << 20), "--tmpfs", SANDBOX_DIR,
             "--chdir", SANDBOX_DIR, "--remount-ro", "/"]
    return args


def _python_inside() -> tuple[str, str]:
    """The interpreter the worker runs as inside, and the host folder bound at PYTHON_DIR
    ('' when the installation is under /usr, bound as it is)."""
    base = os.path.realpath(sys.base_prefix)
    executable = os.path.realpath(sys.executable)
    if _is_system(base):
        return executable, ""
    if not executable.startswith(base + os.sep):
        raise SandboxError(f"the Python interpreter is not inside its installation ({sys.base_prefix})")
    return PYTHON_DIR + executable[len(base):], base


def _code_binds() -> list[str]:
    """Binds of pyrona's packages under LIB_DIR, laid out as they are imported (a package
    found apart from its parent's folder, as in an editable install, is bound into it)."""
    import pyrona.server  # noqa: F401 - the worker's packages, loaded so their folders are known
    import pyrona.tracer  # noqa: F401
    from pyrona.ours import ROOT_PACKAGE

    folders = {name: os.path.realpath(next(iter(module.__path__)))
               for name, module in sys.modules.copy().items()
               if (name == ROOT_PACKAGE or name.startswith(ROOT_PACKAGE + "."))
               and getattr(module, "__path__", None)}

    def apart(name: str) -> bool:  # not in its parent's folder, under its own name
        parent, _, last = name.rpartition(".")
        return not parent or folders[name] != os.path.join(folders.get(parent, ""), last)

    args: list[str] = []
    for name in sorted(folders):
        if not apart(name):
            continue
        target = f"{LIB_DIR}/{name.replace('.', '/')}"
        if any(apart(child) for child in folders if child.rpartition(".")[0] == name):
            # a package bound into it: its own entries one by one, on a folder of the sandbox
            args += ["--perms", "0755", "--dir", target]
            for entry in sorted(os.listdir(folders[name])):
                args += ["--ro-bind", os.path.join(folders[name], entry), f"{target}/{entry}"]
        else:
            args += ["--ro-bind", folders[name], target]
    # installed packages the worker's code imports: the PEP 734 backport that
    # pyrona.interpreters starts sub-interpreters with (3.13), orjson that the tracer
    # writes its group rows with (without it, the json module: slower)
    from importlib.util import find_spec

    for package in ("interpreters_backport", "orjson"):
        spec = find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folder = os.path.realpath(next(iter(spec.submodule_search_locations)))
            args += ["--ro-bind", folder, f"{LIB_DIR}/{package}"]
    return args


def _is_system(path: str) -> bool:
    return any(path == s or path.startswith(s + "/") for s in _SYSTEM)


def _python_paths() -> list[str]:
    """The folders the worker needs besides /usr: the Python installation, the virtual
    environment, and pyrona's own packages (found where they are, never assumed)."""
    import pyrona.server  # noqa: F401 - the worker's packages, loaded so their folders are known
    import pyrona.tracer  # noqa: F401
    from pyrona.ours import OURS

    prefixes = (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)
    found = {os.path.realpath(p) for p in prefixes}
    found.add(os.path.realpath(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))))
    found |= {folder.rstrip(os.sep) for folder in OURS.folders()}
    if sys.prefix != os.path.realpath(sys.prefix):
        found.add(os.path.abspath(sys.prefix))  # the venv as the interpreter names it
    paths = sorted(p for p in found if p != "/" and not _is_system(p))
    return [p for p in paths if not any(p.startswith(q + "/") for q in paths if q != p)]


def _readable_by_others(paths: list[str]) -> bool:
    """Whether `nobody` could use these folders on the host (for rlimits mode as root)."""
    for path in paths:
        for folder in (Path(path), *Path(path).parents):
            try:
                if not folder.stat().st_mode & 0o005:
                    return False
            except OSError:
                return False
    return True
