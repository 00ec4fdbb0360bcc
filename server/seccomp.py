"""The worker's seccomp filter: once the program may run, no process of the run can exec a program.

A classic BPF filter, installed by the worker on itself (prctl, through ctypes: no
library needed) before the program runs, kept by every thread and fork made after:
`execve` and `execveat` fail with EPERM, every other system call goes through (fork
too: the process limit bounds it). A system call of another ABI than the worker's
(32-bit x86 from x86_64, x32) fails with EPERM as well, so exec cannot come in
through a second system call table. Known architectures: x86_64 and aarch64; on
any other, `install` raises OSError (the worker then refuses to run the program).
"""

from __future__ import annotations

import errno
import platform
import struct

#: machine -> (AUDIT_ARCH_*, the execve and execveat numbers, the first number of another ABI or None)
_ARCHES = {
    "x86_64": (0xC000003E, (59, 322), 0x40000000),  # __X32_SYSCALL_BIT
    "aarch64": (0xC00000B7, (221, 281), None),
}
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_LD_ABS_W, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data


def program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter for `machine`: (code, jump if true, jump if false, k) instructions."""
    if machine not in _ARCHES:
        raise OSError(errno.ENOSYS, f"no exec filter for the architecture {machine!r}")
    arch, execs, other_abi = _ARCHES[machine]
    refuse = _RET_ERRNO | errno.EPERM
    body = [(_LD_ABS_W, 0, 0, _NR)]
    if other_abi is not None:
        body.append((_JGE_K, 0, 1, other_abi))
        body.append((_RET_K, 0, 0, refuse))
    for number in execs:
        body.append((_JEQ_K, 0, 1, number))
        body.append((_RET_K, 0, 0, refuse))
    body.append((_RET_K, 0, 0, _RET_ALLOW))
    return [(_LD_ABS_W, 0, 0, _ARCH), (_JEQ_K, 1, 0, arch), (_RET_K, 0, 0, refuse), *body]


def install() -> None:
    """Refuse exec to this process from now on (and to its threads and forks made after)."""
    import ctypes

    code = b"".join(struct.pack("HBBI", *op) for op in program(platform.machine()))
    filters = ctypes.create_string_buffer(code, len(code))

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = Prog(len(code) // 8, ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"cannot install the exec filter: {errno.errorcode.get(number, number)}")
