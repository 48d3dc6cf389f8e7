"""Mounts as snapshotters describe them, and doing them (mount(2) through libc).

A :class:`Mount` is data (type, source, options) in the shape of the OCI runtime spec's
``mounts`` entries, so the engine can hand it to a runtime unchanged or call :meth:`Mount.mount`.

Overlay's option string must fit in one page (4096 bytes) -- the kernel truncates longer ones.
Absolute lower dirs of ~50 bytes each allow ~80 layers; when the string would be longer, the
mount is done by a short-lived child process whose working directory is the snapshots folder, so
the lower dirs can be given relative to it (``12/fs:11/fs:…``, ~6 bytes a layer), the same trick
containerd uses; that child is util-linux ``mount``, since a chdir in this process would move every
thread.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from dockyard.base.errors import FailedPrecondition
from dockyard.base.record import Frozen

MS_RDONLY = 0x1
MS_BIND = 0x1000
MS_REMOUNT = 0x20
MS_REC = 0x4000
MNT_DETACH = 0x2
PAGE_LIMIT = 4095

# CDLL(None): libc is already loaded; find_library would run `ldconfig -p` on every import.
_libc = ctypes.CDLL(None, use_errno=True)


class Mount(Frozen):
    """One mount that assembles a snapshot: type, source and options, as mount(8) takes them."""

    _fields = ("type", "source", "options")
    __slots__ = _fields
    type: str
    source: str
    options: tuple[str, ...]

    def __init__(self, type: str, source: str, options: tuple[str, ...] = ()) -> None:
        self._set(type=type, source=source, options=options)

    def to_spec(self) -> dict[str, object]:
        """The OCI runtime spec form (``config.json`` ``mounts[]`` minus the destination)."""
        return {"type": self.type, "source": self.source, "options": list(self.options)}

    def mount(self, target: Path) -> None:
        """Mount on *target* (an existing directory).  Needs root (CAP_SYS_ADMIN)."""
        if self.type == "bind":
            _mount(self.source, str(target), "", MS_BIND | MS_REC, "")
            if "ro" in self.options:
                _mount("", str(target), "", MS_BIND | MS_REC | MS_RDONLY | MS_REMOUNT, "")
            return
        flags = MS_RDONLY if "ro" in self.options else 0
        data = ",".join(o for o in self.options if o not in ("ro", "rw"))
        if len(data) <= PAGE_LIMIT:
            _mount(self.source, str(target), self.type, flags, data)
            return
        _mount_relative(self, target, data)


def unmount(target: Path, *, lazy: bool = False) -> None:
    if _libc.umount2(os.fsencode(target), MNT_DETACH if lazy else 0) != 0:
        err = ctypes.get_errno()
        raise FailedPrecondition(f"unmount {target}: {os.strerror(err)}")


def is_mountpoint(path: Path) -> bool:
    try:
        return os.path.ismount(path)
    except OSError:
        return False


def _mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    rc = _libc.mount(os.fsencode(source), os.fsencode(target), fstype.encode() or None, flags,
                     data.encode() or None)
    if rc != 0:
        err = ctypes.get_errno()
        hint = "run as root" if err == 1 else "check that the kernel supports it"
        raise FailedPrecondition(f"mount {fstype or 'bind'} on {target}: {os.strerror(err)}; {hint}")


def _mount_relative(m: Mount, target: Path, data: str) -> None:
    """Mount with lower/upper/work dirs relative to their common parent, from a child process."""
    dirs = [o.split("=", 1) for o in m.options if o.startswith(("lowerdir=", "upperdir=", "workdir="))]
    paths = [p for _, v in dirs for p in v.split(":")]
    base = os.path.commonpath(paths)
    rel = []
    for opt in m.options:
        key, eq, value = opt.partition("=")
        if eq and key in ("lowerdir", "upperdir", "workdir"):
            value = ":".join(os.path.relpath(p, base) for p in value.split(":"))
        if opt not in ("ro", "rw"):
            rel.append(f"{key}{eq}{value}")
    short = ",".join(rel)
    if len(short) > PAGE_LIMIT:
        raise FailedPrecondition(f"mount overlay on {target}: {len(paths)} layers do not fit in one mount")
    argv = ["mount", "-t", m.type, "-o", short + (",ro" if "ro" in m.options else ""), m.source,
            os.path.abspath(target)]
    import subprocess  # only for the helper; ~2 ms of imports on every mount otherwise

    proc = subprocess.run(argv, cwd=base, capture_output=True, text=True)
    if proc.returncode != 0:
        raise FailedPrecondition(f"mount overlay on {target}: {proc.stderr.strip()}")
