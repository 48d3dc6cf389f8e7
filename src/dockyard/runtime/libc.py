"""The few Linux system calls Python's ``os`` module lacks (on 3.11), through ctypes.

unshare/setns/mount/umount2/pivot_root/sethostname/prctl/capset live here so every other module
calls typed Python functions and gets ``OSError`` with the right errno on failure.
"""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

SYS_pivot_root = 155  # x86_64
SYS_capset = 126
SYS_capget = 125

_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.syscall.restype = ctypes.c_long


def _check(rc: int, what: str, path: str | None = None) -> int:
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}", path)
    return rc


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data or None)), "mount", target)


def umount2(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(_b(target), flags), "umount2", target)


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.syscall(SYS_pivot_root, _b(new_root), _b(put_old)), "pivot_root", new_root)


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option})")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_CAP_V3 = 0x20080522


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set the three per-thread capability sets (64-bit masks) of the calling thread."""
    hdr = _CapHeader(_CAP_V3, 0)
    data = (_CapData * 2)()
    for i in range(2):
        shift = 32 * i
        data[i].effective = (effective >> shift) & 0xFFFFFFFF
        data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    _check(_libc.syscall(SYS_capset, ctypes.byref(hdr), data), "capset")


SYS_clone3 = 435
CLONE_INTO_CGROUP = 0x200000000
_SIGCHLD = 17


class _CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("flags", "pidfd", "child_tid", "parent_tid", "exit_signal",
                                                       "stack", "stack_size", "tls", "set_tid", "set_tid_size",
                                                       "cgroup")]


def single_threaded() -> bool:
    """Whether this process has one thread (field 20 of /proc/self/stat)."""
    with open("/proc/self/stat", "rb") as f:
        data = f.read()
    return data[data.rindex(b")") + 2:].split()[17] == b"1"


def fork_into_cgroup(cgroup_fd: int) -> int:
    """``os.fork()``, but the child starts in the cgroup v2 directory ``cgroup_fd`` (clone3 with
    CLONE_INTO_CGROUP, Linux 5.7+): no cgroup.procs write, so no wait on the kernel's threadgroup
    lock.  Only for a single-threaded process: the raw syscall skips glibc's fork-time locking.
    Python's own fork bookkeeping runs around it exactly as ``os.fork`` runs it; the call holds
    the GIL throughout (a PyDLL).  Raises OSError (ENOSYS, EINVAL, EPERM…) with no child made."""
    args = _CloneArgs(flags=CLONE_INTO_CGROUP, exit_signal=_SIGCHLD, cgroup=cgroup_fd)
    api = ctypes.pythonapi
    api.PyOS_BeforeFork()
    pid = _pylibc.syscall(SYS_clone3, ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args)))
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone3: {os.strerror(err)}")
    return pid


_pylibc = ctypes.PyDLL(None, use_errno=True)
_pylibc.syscall.restype = ctypes.c_long
