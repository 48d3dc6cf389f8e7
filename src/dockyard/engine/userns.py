"""User-namespace remapping for root engines (``--userns private``): root inside, nobody outside.

Each such container gets its own block of 65536 subordinate ids, so container uid 0 is host uid
``base``.  Blocks come from ``/etc/subuid`` lines owned by ``dockyard`` (podman's ``--userns=auto``
takes its ids from ``containers`` the same way); without one, from a fixed range far above
ordinary accounts.  An allocation is a file ``<data root>/userns/<base>`` holding the container
id, made with O_EXCL so two engines never hand out the same block; removing the container
removes it.

The rootfs must look root-owned inside.  The image's layers are shared read-only directories, so
they are seen through an idmapped mount (``mount_setattr`` with ``MOUNT_ATTR_IDMAP``) and
overlayfs is mounted on top with a plain upper dir whose root is chowned to ``base``: files the
container creates are stored with host ids in the block, as copy-ups are.  An idmapped mount of
the overlay itself is refused by the kernel (EINVAL), and an idmapped upper dir fails with
EOVERFLOW, because overlayfs writes it with the mounter's uid 0 which the map lacks.  Where
idmapped mounts do not work, the rootfs is mounted plain and every file is chowned into the block
(a full copy-up into the container's own upper dir: slower, but correct).
"""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path

from dockyard.base import log
from dockyard.base.errors import FailedPrecondition

_log = log.get("engine.userns")
MODES = ("private", "auto", "remap")
SIZE = 65536
DEFAULT_RANGE = (1_000_000_000, SIZE * 4096)     # when /etc/subuid names no dockyard ranges
SUBUID = Path("/etc/subuid")

_SYS_OPEN_TREE, _SYS_MOVE_MOUNT, _SYS_MOUNT_SETATTR = 428, 429, 442   # x86_64 and aarch64 alike
_OPEN_TREE_CLONE, _OPEN_TREE_CLOEXEC, _AT_FDCWD = 1, 0o2000000, -100
_AT_EMPTY_PATH, _MOVE_MOUNT_F_EMPTY_PATH, _MOUNT_ATTR_IDMAP = 0x1000, 0x4, 0x100000
_CLONE_NEWUSER = 0x10000000
_libc = ctypes.CDLL(None, use_errno=True)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def wanted(mode: str | None) -> bool:
    return mode in MODES


def ranges(subuid: Path = SUBUID) -> list[tuple[int, int]]:
    """The ``dockyard:START:COUNT`` lines of /etc/subuid, or the fixed default range."""
    out = []
    try:
        lines = subuid.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] == "dockyard" and parts[1].isdigit() and parts[2].isdigit():
            out.append((int(parts[1]), int(parts[2])))
    return out or [DEFAULT_RANGE]


def _dir(data_root: Path) -> Path:
    return data_root / "userns"


def check_reachable(path: Path) -> None:
    """The runtime mounts the rootfs as the container's root, an unprivileged host uid: every
    directory above the bundles must let others search it (as docker needs of /var/lib/docker)."""
    for p in [path, *path.parents]:
        try:
            mode = os.stat(p).st_mode
        except FileNotFoundError:
            continue
        if not mode & stat.S_IXOTH:
            raise FailedPrecondition(f"--userns private: {p} is not searchable by the container's remapped "
                                     f"root; chmod o+x {p}, or use a data root others may traverse")


def allocate(data_root: Path, cid: str) -> int:
    """Claim a free block for *cid*; returns its first host id."""
    check_reachable(data_root)
    d = _dir(data_root)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    for start, count in ranges():
        for base in range(start, start + count - SIZE + 1, SIZE):
            try:
                fd = os.open(d / str(base), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w") as f:
                f.write(cid)
            return base
    raise FailedPrecondition("--userns private: every subordinate id range is in use; remove containers "
                             "or add a dockyard:START:COUNT line to /etc/subuid")


def lookup(data_root: Path, cid: str) -> int | None:
    try:
        entries = list(_dir(data_root).iterdir())
    except OSError:
        return None
    for path in entries:
        try:
            if path.read_text() == cid:
                return int(path.name)
        except (OSError, ValueError):
            continue
    return None


def release(data_root: Path, cid: str) -> None:
    base = lookup(data_root, cid)
    if base is not None:
        (_dir(data_root) / str(base)).unlink(missing_ok=True)


def id_maps(base: int) -> tuple[list[dict], list[dict]]:
    m = [{"containerID": 0, "hostID": base, "size": SIZE}]
    return m, [dict(m[0])]


def _check(rc: int, what: str) -> int:
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return rc


def userns_fd(base: int) -> int:
    """An fd of a user namespace mapping 0..SIZE to base..base+SIZE (what MOUNT_ATTR_IDMAP needs).

    A forked child unshares and waits while we write its maps; its namespace lives on in the fd.
    """
    up_r, up_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child does nothing but unshare and wait: safe after fork
        ok = _libc.unshare(_CLONE_NEWUSER) == 0
        os.write(up_w, b"1" if ok else b"0")
        os.read(go_r, 1)
        os._exit(0)
    try:
        os.close(up_w)
        if os.read(up_r, 1) != b"1":
            raise OSError(1, "unshare(CLONE_NEWUSER) failed")
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write(f"0 {base} {SIZE}\n")
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.write(go_w, b"x")
        for fd in (up_r, go_r, go_w):
            os.close(fd)
        os.waitpid(pid, 0)


def idmapped_bind(source: Path, target: Path, base: int) -> None:
    """Attach an idmapped clone of *source* at *target* (on-disk id N appears as base+N)."""
    ns = userns_fd(base)
    try:
        tree = _check(_libc.syscall(_SYS_OPEN_TREE, _AT_FDCWD, os.fsencode(source),
                                    _OPEN_TREE_CLONE | _OPEN_TREE_CLOEXEC), f"open_tree {source}")
        try:
            attr = _MountAttr(_MOUNT_ATTR_IDMAP, 0, 0, ns)
            _check(_libc.syscall(_SYS_MOUNT_SETATTR, tree, b"", _AT_EMPTY_PATH, ctypes.byref(attr),
                                 ctypes.sizeof(attr)), f"mount_setattr idmap {source}")
            _check(_libc.syscall(_SYS_MOVE_MOUNT, tree, b"", _AT_FDCWD, os.fsencode(target),
                                 _MOVE_MOUNT_F_EMPTY_PATH), f"move_mount {target}")
        finally:
            os.close(tree)
    finally:
        os.close(ns)


def chown_tree(root: Path, base: int) -> None:
    """Shift every id under *root* into the block (the fallback); ids already shifted stay put,
    so hard links and a second pass are harmless.  Modes are restored: chown clears set-id bits."""
    def shift(path: str) -> None:
        st = os.lstat(path)
        if st.st_uid >= SIZE and st.st_gid >= SIZE:
            return
        uid = st.st_uid + base if st.st_uid < SIZE else st.st_uid
        gid = st.st_gid + base if st.st_gid < SIZE else st.st_gid
        os.lchown(path, uid, gid)
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(path, stat.S_IMODE(st.st_mode))

    shift(str(root))
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            shift(os.path.join(dirpath, name))


def idmap_enabled() -> bool:
    """``DOCKYARD_USERNS_IDMAP=0`` forces the chown fallback (for kernels where idmapping misbehaves)."""
    return os.environ.get("DOCKYARD_USERNS_IDMAP", "1") != "0"
