"""The sandbox of the processes that evaluate queries and updates: no network, bounded memory.

This is the second of two independent layers (the first is the guard, which refuses SERVICE and
LOAD on a real parse of the query). Even if the guard were wrong, a worker cannot open a
connection: a seccomp filter, installed before the worker opens the store, makes the kernel
answer every `socket()` call with EACCES (and `io_uring_setup`, which could open sockets without
that call, with ENOSYS). Oxigraph's SERVICE and LOAD need a new socket for any network access (its
HTTP client knows no other scheme, and no SPARQL feature reads a file), so they fail with an error
while everything else the engine does works as before. The pipe to the parent was made before the
filter, so it keeps working.

Why seccomp, and not the others we looked at: pyoxigraph has no switch to leave SERVICE out; a
network namespace needs privileges or user namespaces that containers often deny; seccomp needs
neither (only `PR_SET_NO_NEW_PRIVS`), is inherited by every thread the engine starts later, and
cannot be lifted by the process. The filter is a few BPF instructions written here with ctypes, so
no library is added.

Memory: `RLIMIT_DATA` bounds the worker's heap (file mappings of the store do not count), so a
query that would grow past it fails inside the worker (Rust aborts on a failed allocation); the
parent sees the worker end and answers 503 naming the bound, then starts a fresh worker.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import resource

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_X32_SYSCALL_BIT = 0x40000000

# Per architecture: the audit arch and the numbers of socket() and io_uring_setup().
_ARCHES = {
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}


class SandboxUnavailable(RuntimeError):
    """The kernel or the architecture does not let the worker be sandboxed."""


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter: other ABIs and the x32 range are refused whole; socket() and io_uring_setup()
    fail; every other system call is allowed."""
    if machine not in _ARCHES:
        raise SandboxUnavailable(f"no seccomp filter is defined for the {machine} architecture")
    arch, socket_nr, io_uring_nr = _ARCHES[machine]
    deny_socket = _SECCOMP_RET_ERRNO | errno.EACCES
    deny = _SECCOMP_RET_ERRNO | errno.ENOSYS
    return [
        (_BPF_LD_W_ABS, 0, 0, 4),  # 0: seccomp_data.arch
        (_BPF_JEQ_K, 1, 0, arch),  # 1: our ABI -> 3
        (_BPF_RET_K, 0, 0, deny),  # 2: any other ABI: refused
        (_BPF_LD_W_ABS, 0, 0, 0),  # 3: seccomp_data.nr
        (_BPF_JGE_K, 4, 0, _X32_SYSCALL_BIT),  # 4: x32 numbers -> 9
        (_BPF_JEQ_K, 2, 0, socket_nr),  # 5: socket() -> 8
        (_BPF_JEQ_K, 2, 0, io_uring_nr),  # 6: io_uring_setup() -> 9
        (_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),  # 7
        (_BPF_RET_K, 0, 0, deny_socket),  # 8
        (_BPF_RET_K, 0, 0, deny),  # 9
    ]


def forbid_network() -> None:
    """Install the filter in this process (and every thread it starts later). Irreversible."""
    program = _program(platform.machine())
    array = (_SockFilter * len(program))(*(_SockFilter(*row) for row in program))
    fprog = _SockFprog(len(program), array)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        code = errno.errorcode.get(ctypes.get_errno(), "?")
        raise SandboxUnavailable(f"prctl(NO_NEW_PRIVS) failed ({code})")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        code = errno.errorcode.get(ctypes.get_errno(), "?")
        raise SandboxUnavailable(f"the kernel refused the seccomp filter ({code})")


def bound_memory(megabytes: int) -> None:
    """Bound the process's data segment (heap and anonymous mappings) to `megabytes` MiB; 0
    lifts the bound (back to the hard limit). The workers bound clients' queries only: the
    service's own jobs (the catalogue of a large store) may need more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = hard if megabytes <= 0 else megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if limit != soft:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def network_is_forbidden() -> bool:
    """True when this process can no longer create a socket (the filter is in force)."""
    import socket

    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return True
    return False


__all__ = ["SandboxUnavailable", "bound_memory", "forbid_network", "network_is_forbidden"]
