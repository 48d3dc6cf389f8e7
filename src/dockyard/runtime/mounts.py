"""Filesystem set-up inside the container's mount namespace, before and after pivot_root.

``prepare_root`` makes the host's mounts slaves (nothing we do propagates back) and bind-mounts the
rootfs onto itself so pivot_root can use it; ``mount_all`` applies config.json's mounts, each
destination resolved inside the rootfs with symlinks followed *within* it — a destination whose
symlinks climb out of the rootfs is an error (``mounts[3].destination "/evil": …``), never a
mount on the host.  ``pivot`` swaps the root (chroot only with --no-pivot, e.g. rootfs on ramfs)
and ``mask``/``readonly`` handle linux.maskedPaths and linux.readonlyPaths afterwards.
"""

from __future__ import annotations

import os

from dockyard.runtime import libc
from dockyard.runtime.errors import SpecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_SYNCHRONOUS, MS_REMOUNT = 1, 2, 4, 8, 16, 32
MS_MANDLOCK, MS_DIRSYNC, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_MOVE, MS_REC = 64, 128, 1024, 2048, 4096, 8192, 16384
MS_SILENT, MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED = 32768, 1 << 17, 1 << 18, 1 << 19, 1 << 20
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24

# option → (set?, flag); "clear" options are kept for completeness of parsing.
FLAGS = {
    "ro": (True, MS_RDONLY), "rw": (False, MS_RDONLY), "nosuid": (True, MS_NOSUID), "suid": (False, MS_NOSUID),
    "nodev": (True, MS_NODEV), "dev": (False, MS_NODEV), "noexec": (True, MS_NOEXEC), "exec": (False, MS_NOEXEC),
    "sync": (True, MS_SYNCHRONOUS), "async": (False, MS_SYNCHRONOUS), "dirsync": (True, MS_DIRSYNC),
    "remount": (True, MS_REMOUNT), "mand": (True, MS_MANDLOCK), "nomand": (False, MS_MANDLOCK),
    "atime": (False, MS_NOATIME), "noatime": (True, MS_NOATIME), "diratime": (False, MS_NODIRATIME),
    "nodiratime": (True, MS_NODIRATIME), "bind": (True, MS_BIND), "rbind": (True, MS_BIND | MS_REC),
    "relatime": (True, MS_RELATIME), "norelatime": (False, MS_RELATIME),
    "strictatime": (True, MS_STRICTATIME), "nostrictatime": (False, MS_STRICTATIME),
}
PROPAGATION = {
    "private": MS_PRIVATE, "rprivate": MS_PRIVATE | MS_REC, "shared": MS_SHARED, "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE, "rslave": MS_SLAVE | MS_REC, "unbindable": MS_UNBINDABLE,
    "runbindable": MS_UNBINDABLE | MS_REC,
}
_ST_TO_MS = {2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME, 2048: MS_NODIRATIME,
             4096: MS_RELATIME, 1: MS_RDONLY}


def parse_options(options: list[str]) -> tuple[int, int, str]:
    """→ (mount flags, propagation flags, data string of the remaining options)."""
    flags = prop = 0
    data = []
    for opt in options:
        if opt in FLAGS:
            on, bit = FLAGS[opt]
            flags = flags | bit if on else flags & ~bit
        elif opt in PROPAGATION:
            prop |= PROPAGATION[opt]
        elif opt not in ("tmpcopyup", "idmap", "ridmap"):
            data.append(opt)
    return flags, prop, ",".join(data)


def secure_join(root: str, dest: str, field: str, _depth: int = 0) -> str:
    """Resolve ``dest`` under ``root`` following symlinks inside it; escaping is an error."""
    parts = [p for p in dest.split("/") if p and p != "."]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if not resolved:
                raise SpecError(f'config.json: {field} "{dest}": escapes the rootfs')
            resolved.pop()
            continue
        cur = root + "/" + "/".join([*resolved, part])
        if os.path.islink(cur):
            links += 1
            if links > 40:
                raise SpecError(f'config.json: {field} "{dest}": too many levels of symbolic links')
            target = os.readlink(cur)
            if target.startswith("/"):
                resolved = []
            elif _climbs_out(resolved, target):
                raise SpecError(f'config.json: {field} "{dest}": escapes the rootfs through symlink '
                                f"{'/' + '/'.join([*resolved, part])} -> {target}")
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        resolved.append(part)
    return root + "/" + "/".join(resolved) if resolved else root


def _climbs_out(base: list[str], target: str) -> bool:
    depth = len(base)
    for p in target.split("/"):
        if p == "..":
            depth -= 1
            if depth < 0:
                return True
        elif p and p != ".":
            depth += 1
    return False


def prepare_root(rootfs: str, propagation: str | None) -> None:
    libc.mount(None, "/", None, MS_REC | PROPAGATION.get(propagation or "rslave", MS_SLAVE))
    if propagation in ("shared", "rshared"):
        libc.mount(None, "/", None, MS_REC | MS_SLAVE)
    libc.mount(rootfs, rootfs, None, MS_BIND | MS_REC)


def _ensure(path: str, is_dir: bool) -> None:
    if os.path.lexists(path):
        return
    if is_dir:
        os.makedirs(path, 0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
        open(path, "a").close()


def mount_all(rootfs: str, mounts: list[dict[str, Any]], cgroup_dirs: list[str], *, userns: bool) -> None:
    for i, m in enumerate(mounts):
        field = f"mounts[{i}].destination"
        dest = secure_join(rootfs, m["destination"], field)
        flags, prop, data = parse_options(m.get("options") or [])
        kind = m.get("type") or ("bind" if flags & MS_BIND else "")
        try:
            if flags & MS_BIND or kind == "bind":
                src = m.get("source") or ""
                _ensure(dest, os.path.isdir(src))
                libc.mount(src, dest, None, flags | MS_BIND)
                rest = flags & ~(MS_BIND | MS_REC | MS_REMOUNT)
                if rest:
                    libc.mount(None, dest, None, rest | MS_BIND | MS_REMOUNT | _locked(dest))
            elif kind == "cgroup":
                _ensure(dest, True)
                _mount_cgroups(dest, flags, cgroup_dirs)
            else:
                _ensure(dest, True)
                _mount_fs(m.get("source") or kind, dest, kind, flags, data, userns)
            if prop:
                libc.mount(None, dest, None, prop)
        except OSError as e:
            raise SpecError(f"config.json: mounts[{i}] ({kind} on {m['destination']}): {e.strerror}") from None


def _mount_fs(src: str, dest: str, kind: str, flags: int, data: str, userns: bool) -> None:
    try:
        libc.mount(src, dest, kind, flags, data)
    except OSError:
        if kind not in ("sysfs", "mqueue") or not userns:
            raise
        # A user namespace without its own netns may not mount sysfs: bind the host's, as runc does.
        host = "/sys" if kind == "sysfs" else "/dev/mqueue"
        libc.mount(host, dest, None, MS_BIND | MS_REC)
        libc.mount(None, dest, None, (flags & ~MS_REMOUNT) | MS_BIND | MS_REMOUNT | _locked(dest))


def _mount_cgroups(dest: str, flags: int, cgroup_dirs: list[str]) -> None:
    """A tmpfs with the container's own directory of each v1 hierarchy bind-mounted in.

    As runc on a hybrid host: the tmpfs itself stays writable, the hierarchies take the mount's
    flags, and the (controller-less) unified tree is not shown.  On a v2-only host the
    container's own directory of the unified tree is bind-mounted at the destination."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers") and len(cgroup_dirs) == 1:
        libc.mount(cgroup_dirs[0], dest, None, MS_BIND | MS_REC)
        libc.mount(None, dest, None, flags | MS_BIND | MS_REMOUNT | _locked(dest))
        return
    libc.mount("tmpfs", dest, "tmpfs", flags & ~MS_RDONLY, "mode=755")
    for d in cgroup_dirs:
        rel = d[len("/sys/fs/cgroup/"):] if d.startswith("/sys/fs/cgroup/") else d.lstrip("/")
        name = rel.split("/", 1)[0]
        if name == "unified":
            continue
        sub = os.path.join(dest, name)
        os.makedirs(sub, exist_ok=True)
        libc.mount(d, sub, None, MS_BIND | MS_REC)
        libc.mount(None, sub, None, flags | MS_BIND | MS_REMOUNT | _locked(sub))


def _locked(path: str) -> int:
    """The flags a bind remount must keep (inside a user namespace they are locked)."""
    st = os.statvfs(path).f_flag
    return sum(ms for stf, ms in _ST_TO_MS.items() if st & stf and ms != MS_RDONLY)


def pivot(rootfs: str, *, no_pivot: bool) -> None:
    os.chdir(rootfs)
    if no_pivot:
        libc.mount(rootfs, "/", None, MS_MOVE)
        os.chroot(".")
    else:
        libc.pivot_root(".", ".")
        # The old root is now stacked under "."; make it a slave so unmounting it stays private.
        libc.mount(None, ".", None, MS_SLAVE | MS_REC)
        libc.umount2(".", libc.MNT_DETACH)
    os.chdir("/")


def readonly_root() -> None:
    libc.mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | _locked("/"))


def mask(paths: list[str]) -> None:
    for p in paths:
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                libc.mount("tmpfs", p, "tmpfs", MS_RDONLY)
            else:
                libc.mount("/dev/null", p, None, MS_BIND)
        except FileNotFoundError:
            continue


def readonly(paths: list[str]) -> None:
    for p in paths:
        try:
            libc.mount(p, p, None, MS_BIND | MS_REC)
        except FileNotFoundError:
            continue
        libc.mount(None, p, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | _locked(p))
