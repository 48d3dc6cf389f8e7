"""A minimal /dev and the devices allow-list.

Inside the container /dev is the spec's tmpfs, filled with the six standard character devices
(null zero full random urandom tty), any linux.devices, and the usual symlinks (/dev/fd, stdio,
ptmx → pts/ptmx).  Nodes are made with mknod, or bind-mounted from the host inside a user
namespace where mknod is not allowed.  On cgroup v1 the devices controller gets ``a`` denied and
then the spec's rules plus the standard nodes allowed, as runc does.
"""

from __future__ import annotations

import os
import stat

from dockyard.runtime import libc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STANDARD = [  # path, type, major, minor
    ("/dev/null", "c", 1, 3), ("/dev/zero", "c", 1, 5), ("/dev/full", "c", 1, 7),
    ("/dev/random", "c", 1, 8), ("/dev/urandom", "c", 1, 9), ("/dev/tty", "c", 5, 0),
]
# Always allowed in the devices cgroup: the standard nodes, ptys, and mknod of anything.
ALLOWED = ["c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm",
           "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm", "c *:* m", "b *:* m"]
SYMLINKS = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
            ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"), ("pts/ptmx", "/dev/ptmx")]


def _rule(d: dict[str, Any]) -> str:
    major = "*" if d.get("major") is None or d.get("major") == -1 else d["major"]
    minor = "*" if d.get("minor") is None or d.get("minor") == -1 else d["minor"]
    kind = d.get("type") or "a"
    return "a" if kind == "a" and major == "*" and minor == "*" else f"{kind} {major}:{minor} {d.get('access') or 'rwm'}"


def apply_v1(directory: str, rules: list[dict[str, Any]]) -> None:
    from dockyard.runtime.cgroups import write

    # An allow rule repeated with no deny since its first write changes nothing (the engine's
    # spec lists the standard nodes that ALLOWED adds again): each write costs a syscall round.
    allowed: set[str] = set()
    for i, d in enumerate(rules):
        rule = _rule(d)
        if not d.get("allow"):
            allowed.clear()
            write(directory, "devices.deny", rule, f"linux.resources.devices[{i}]", rule)
        elif rule not in allowed:
            allowed.add(rule)
            write(directory, "devices.allow", rule, f"linux.resources.devices[{i}]", rule)
    for rule in ALLOWED:
        if rule not in allowed:
            write(directory, "devices.allow", rule, "linux.resources.devices", rule)


def populate(root: str, extra: list[dict[str, Any]], *, bind: bool) -> None:
    """Create device nodes and symlinks under ``root``/dev (root is the prepared rootfs)."""
    nodes = [(p, t, a, b, 0o666, 0, 0) for p, t, a, b in STANDARD]
    nodes += [(d["path"], d["type"], d.get("major", 0), d.get("minor", 0), d.get("fileMode", 0o666),
               d.get("uid", 0), d.get("gid", 0)) for d in extra]
    for path, kind, major, minor, mode, uid, gid in nodes:
        dest = root + path
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.lexists(dest):
            continue
        if bind:
            open(dest, "a").close()
            libc.mount(path, dest, None, 4096)  # MS_BIND
            continue
        flag = stat.S_IFCHR if kind in ("c", "u") else stat.S_IFBLK if kind == "b" else stat.S_IFIFO
        old = os.umask(0)
        try:
            os.mknod(dest, flag | mode, os.makedev(major, minor))
        finally:
            os.umask(old)
        os.chown(dest, uid, gid)
    for src, link in SYMLINKS:
        if not os.path.lexists(root + link):
            os.symlink(src, root + link)
    if os.path.exists("/proc/kcore") and not os.path.lexists(root + "/dev/core"):
        os.symlink("/proc/kcore", root + "/dev/core")
