"""The overlayfs snapshotter: one read-only directory per layer, an upper/work pair per container.

Layout under the root: ``snapshots/<id>/fs`` holds a committed layer's files (with overlay
whiteouts: 0/0 character devices and ``trusted.overlay.opaque``) or an active snapshot's upper
dir; ``snapshots/<id>/work`` is overlayfs scratch space, present only while the snapshot is
active.  A committed layer directory is never written again, which is what lets every image and
container that has that layer share it.

Mounts, as containerd's overlay snapshotter gives them:

* active, no parent: a bind mount of its (empty) ``fs``;
* active over a parent: ``overlay`` with ``lowerdir`` = the parent chain (nearest first),
  ``upperdir`` = ``fs``, ``workdir`` = ``work``;
* view or committed: a read-only bind mount of the single layer, or a read-only ``overlay`` of
  the chain (overlayfs needs two lower dirs to mount without an upper).

Layers are unpacked straight into the new snapshot's upper dir with overlay-style whiteouts
(:meth:`apply_dir`), so no mount is needed to unpack.  Needs root (overlayfs and
``trusted.*`` xattrs).
"""

from __future__ import annotations

import os
from pathlib import Path

from dockyard.base import fsutil
from dockyard.oci.snapshot import Kind
from dockyard.oci.snapshot.base import SnapshotterBase
from dockyard.oci.snapshot.mount import Mount


class OverlaySnapshotter(SnapshotterBase):
    kind_name = "overlay snapshot"

    def __init__(self, root: Path) -> None:
        super().__init__(root)

    def _populate(self, sid: int, kind: Kind, chain: list[int]) -> None:
        base = self._dir(sid)
        (base / "fs").mkdir(mode=0o755)
        if kind == Kind.ACTIVE:
            (base / "work").mkdir(mode=0o700)

    def _committed(self, path: Path) -> None:
        fsutil.rmtree(path / "work", ignore_errors=True)

    def _whiteout_mode(self, has_parent: bool) -> str:
        # The base layer has nothing below it to hide: deleting is the same and leaves no devices.
        return "overlay" if has_parent else "apply"

    def _mounts(self, sid: int, kind: Kind, chain: list[int]) -> list[Mount]:
        own = str(self._dir(sid) / "fs")
        lowers = [str(self._dir(p) / "fs") for p in chain]
        if kind == Kind.ACTIVE:
            if not lowers:
                return [Mount("bind", own, ("rbind", "rw"))]
            return [Mount("overlay", "overlay", (
                f"lowerdir={':'.join(lowers)}", f"upperdir={own}", f"workdir={self._dir(sid) / 'work'}",
                "index=off",
            ))]
        if kind == Kind.COMMITTED:
            lowers = [own, *lowers]
        if len(lowers) <= 1:
            return [Mount("bind", lowers[0] if lowers else own, ("rbind", "ro"))]
        return [Mount("overlay", "overlay", (f"lowerdir={':'.join(lowers)}", "ro", "index=off"))]


def overlay_supported() -> bool:
    """Root and a kernel with overlayfs: what this snapshotter needs to mount and to unpack."""
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/filesystems") as f:
            return any(line.split()[-1] == "overlay" for line in f if line.strip())
    except OSError:
        return False


def open_snapshotter(root: Path) -> SnapshotterBase:
    """The overlay snapshotter where it works, else the copy snapshotter (each in its own folder:
    their directories mean different things, so they never share a root)."""
    if overlay_supported():
        return OverlaySnapshotter(root)
    from dockyard.oci.snapshot.copy import CopySnapshotter

    return CopySnapshotter(Path(root).with_name(Path(root).name + "-copy"))
