"""Network namespaces for pods, kept as bind-mounted nsfs files under ``<state>/netns/<pod>``.

A pod's namespace exists before any of its processes: we create it here and hand its path to the
runtime (``linux.namespaces[type=network].path`` in config.json), the same way CNI runtimes and
``ip netns`` do.  The namespace is made on a short-lived *thread*: ``unshare(CLONE_NEWNET)`` on a
thread changes only that thread, so the daemon itself never leaves the host namespace and we do not
need to fork a multi-threaded process.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dockyard.base.errors import AlreadyExists, Internal
from dockyard.net.netlink import iproute

if TYPE_CHECKING:
    from pyroute2.iproute.linux import IPRoute

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2
# CDLL(None): libc is already loaded; find_library would run `ldconfig -p` on every import.
_libc = ctypes.CDLL(None, use_errno=True)
T = TypeVar("T")


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise Internal(f"{what}: {os.strerror(err)}") from OSError(err, os.strerror(err))


def _on_thread(fn: Callable[[], T]) -> T:
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:
            box["error"] = e

    t = threading.Thread(target=target, name="dockyard-netns")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def create(path: Path) -> Path:
    """Create a new network namespace pinned at *path*, with ``lo`` up."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o711)
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444))
    except FileExistsError:
        raise AlreadyExists(f"netns {path}: already exists; remove the pod's network first") from None

    def make() -> None:
        _check(_libc.unshare(CLONE_NEWNET), f"netns {path}: unshare")
        _check(_libc.mount(b"/proc/thread-self/ns/net", bytes(path), b"none", MS_BIND, None),
               f"netns {path}: bind mount")
        with iproute() as ipr:  # this thread is in the new namespace: so is the netlink socket
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")

    try:
        _on_thread(make)
    except BaseException:
        remove(path)
        raise
    return path


def pin(path: Path, pid: int) -> Path:
    """Pin the namespace process *pid* lives in at *path* (re-pinning a running pod's netns)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o711)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o444))
    _check(_libc.mount(f"/proc/{pid}/ns/net".encode(), bytes(path), b"none", MS_BIND, None),
           f"netns {path}: bind mount of pid {pid}")
    return path


def remove(path: Path) -> None:
    """Unpin and delete the namespace file; the kernel frees the namespace with its last user."""
    if _libc.umount2(bytes(path), MNT_DETACH) != 0 and ctypes.get_errno() not in (errno.EINVAL, errno.ENOENT):
        _check(-1, f"netns {path}: umount")
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def is_mounted(path: Path) -> bool:
    """True if *path* is a pinned namespace (an nsfs mount), not just a leftover empty file."""
    target = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == target and " nsfs " in line for line in f)


def netlink(path: Path, fn: Callable[[IPRoute], T]) -> T:
    """Call ``fn(ipr)`` with a netlink socket opened inside the namespace at *path*.

    The socket is made on a thread that joined the namespace (no fork, unlike pyroute2's
    ``IPRoute(netns=…)``), which keeps this safe to call from a multi-threaded daemon.
    """

    def inside() -> T:
        with iproute() as ipr:
            return fn(ipr)

    return run_in(path, inside)


def enter(path: Path) -> Callable[[], None]:
    """A ``preexec_fn`` that moves a child process into the namespace (as ``ip netns exec`` does)."""

    def join() -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            # os.setns arrived in Python 3.12; we support 3.11.
            _check(_libc.setns(fd, CLONE_NEWNET), f"netns {path}: setns")
        finally:
            os.close(fd)

    return join


def run_in(path: Path, fn: Callable[[], T]) -> T:
    """Run *fn* on a thread inside the namespace; sockets it opens belong to that namespace."""

    def inside() -> T:
        enter(path)()
        return fn()

    return _on_thread(inside)
