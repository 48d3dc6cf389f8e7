"""Namespaces: spec names → clone flags, joining by path (setns) and creating (unshare).

Joins happen first and in a fixed order (user before the rest, mount last, as runc's nsexec):
joining a namespace owned by the host's user namespace must happen while we are still
privileged there, before a new user namespace is unshared.
"""

from __future__ import annotations

import os

from dockyard.runtime import libc

FLAGS = {
    "user": libc.CLONE_NEWUSER, "pid": libc.CLONE_NEWPID, "network": libc.CLONE_NEWNET,
    "ipc": libc.CLONE_NEWIPC, "uts": libc.CLONE_NEWUTS, "mount": libc.CLONE_NEWNS,
    "cgroup": libc.CLONE_NEWCGROUP, "time": 0x00000080,
}
PROC_NAMES = {"user": "user", "pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
              "cgroup": "cgroup", "time": "time"}
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")


def join(paths: dict[str, str]) -> None:
    for kind in JOIN_ORDER:
        path = paths.get(kind)
        if not path:
            continue
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            libc.setns(fd, FLAGS[kind])
        except OSError as e:
            raise OSError(e.errno, f"joining {kind} namespace {path}: {e.strerror}") from None
        finally:
            os.close(fd)


def unshare(kinds: list[str]) -> None:
    flags = 0
    for k in kinds:
        flags |= FLAGS[k]
    if flags:
        libc.unshare(flags)


def write_maps(pid: int, uid_maps: list[dict], gid_maps: list[dict]) -> None:
    """Write the user namespace's id maps from the parent (newuidmap/newgidmap when unprivileged)."""
    for name, maps in (("uid_map", uid_maps), ("gid_map", gid_maps)):
        if not maps:
            continue
        if os.geteuid() == 0:
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write("".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in maps))
            continue
        import subprocess

        tool = "newuidmap" if name == "uid_map" else "newgidmap"
        argv = [tool, str(pid)]
        for m in maps:
            argv += [str(m["containerID"]), str(m["hostID"]), str(m["size"])]
        subprocess.run(argv, check=True, capture_output=True)
