"""A container's root file system: the image's layers as read-only snapshots, plus a writable one.

``prepare`` makes sure every layer of the image is unpacked once into a committed snapshot (keyed
by chain ID and shared by all images and containers that have it), prepares an active snapshot
keyed by the container id on top (overlayfs: the container's own upper dir), and mounts it at the
bundle's ``rootfs``.  ``release`` undoes it, tolerating any half-done state, so it is also the
sweep for a create that was interrupted.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from dockyard.base import log

_log = log.get("engine.rootfs")
MNT_DETACH = 2


def snapshotter(data_root: Path):
    """Overlay as root; without root (no mount rights outside a user namespace) full copies.

    The engine opens one per process and keeps it: each open and close of its database costs a
    WAL checkpoint (fsyncs) on the path of every container start.
    """
    if os.geteuid() != 0:
        from dockyard.oci.snapshot.copy import CopySnapshotter

        return CopySnapshotter(data_root / "snapshots-copy")
    from dockyard.oci.snapshot.overlay import OverlaySnapshotter

    return OverlaySnapshotter(data_root / "snapshots")


def prepare(snap, images, manifest, config: dict, key: str, target: Path, *, volatile: bool = False,
            id_base: int | None = None) -> None:
    """Mount the container's rootfs at *target*.

    *volatile* (for ``--rm`` containers, whose writable layer is thrown away) mounts overlayfs
    with ``volatile``: no sync of the upper dir at unmount, which otherwise costs ~100 ms of
    journal flush on ext4 at the end of every short-lived container.  *id_base* (``--userns
    private``) shows the rootfs root-owned to a container whose root is host uid *id_base*.
    """
    parent = _top_layer_if_unpacked(snap, config)
    if parent is None:
        from dockyard.oci.snapshot.layers import ensure_layers  # the unpacking machinery: costly import

        parent = ensure_layers(snap, images.content, manifest, config)
    mounts = snap.prepare(key, parent, labels={"dockyard.container": key})
    if os.geteuid() != 0:
        # Rootless: the copy snapshot is a plain directory; the bundle's rootfs points at it.
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(mounts[0].source)
        return
    target.mkdir(parents=True, exist_ok=True)
    if volatile:
        mounts = [m.replace(options=(*m.options, "volatile")) if m.type == "overlay" else m for m in mounts]
    _mount_all(snap, mounts, target, id_base)


def _mount_all(snap, mounts, target: Path, id_base: int | None) -> None:
    if id_base is None:
        for m in mounts:
            m.mount(target)
        return
    from dockyard.engine import userns

    if userns.idmap_enabled() and all(m.type == "overlay" for m in mounts):
        try:
            _mount_idmapped(snap, mounts, target, id_base)
            return
        except OSError as e:
            _log.info("idmapped layers unavailable (%s); chowning the rootfs instead", e)
    for m in mounts:
        m.mount(target)
    userns.chown_tree(target, id_base)


def _mount_idmapped(snap, mounts, target: Path, id_base: int) -> None:
    """Overlay over idmapped views of the shared layers; the upper dir stays plain (see userns)."""
    from dockyard.engine import userns

    layers = Path(snap.dirs)
    view = target.parent / ".idmap"
    view.mkdir(exist_ok=True)
    try:
        userns.idmapped_bind(layers, view, id_base)
        for m in mounts:
            opts = []
            for o in m.options:
                if o.startswith("lowerdir="):
                    lowers = o[len("lowerdir="):].split(":")
                    o = "lowerdir=" + ":".join(str(view / Path(p).relative_to(layers)) for p in lowers)
                elif o.startswith("upperdir="):
                    upper = o[len("upperdir="):]
                    st = os.stat(upper)
                    if st.st_uid < userns.SIZE:  # the new, empty upper dir: make its root container root's
                        os.chown(upper, st.st_uid + id_base, st.st_gid + id_base)
                opts.append(o)
            m.replace(options=tuple(opts)).mount(target)
    finally:
        umount(view)
        view.rmdir()


def ensure_mounted(snap, key: str, target: Path, *, id_base: int | None = None) -> None:
    """Mount an existing snapshot again (the machine rebooted since the container was created)."""
    if os.geteuid() != 0 or target.is_symlink() or os.path.ismount(target):
        return
    _mount_all(snap, snap.mounts(key), target, id_base)


def _top_layer_if_unpacked(snap, config: dict) -> str | None:
    """The image's top chain ID when its snapshot is already committed (the common, fast case)."""
    from dockyard.base.digest import sha256_hex
    from dockyard.oci.snapshot import Kind, SnapshotNotFound

    diff_ids = ((config.get("rootfs") or {}).get("diff_ids")) or []
    if not diff_ids:
        return None
    chain = diff_ids[0]
    for diff_id in diff_ids[1:]:
        chain = "sha256:" + sha256_hex(f"{chain} {diff_id}".encode())
    try:
        return chain if snap.stat(chain).kind == Kind.COMMITTED else None
    except SnapshotNotFound:
        return None


def release(snap, key: str, target: Path) -> None:
    if target.is_symlink():
        target.unlink()
    elif target.exists() and os.path.ismount(target):
        umount(target)
    from dockyard.oci.snapshot import SnapshotNotFound

    try:
        snap.remove(key)
    except SnapshotNotFound:
        pass  # never made: the create failed before it


def umount(target: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(os.fsencode(str(target)), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (22, 2):  # EINVAL: not a mount point; ENOENT: gone already
            raise OSError(err, f"umount {target}: {os.strerror(err)}")
