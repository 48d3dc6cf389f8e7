"""The copy snapshotter: every snapshot is a whole tree, for where overlayfs is not available.

``snapshots/<id>/fs`` holds the complete root filesystem of the snapshot.  Preparing an active
snapshot copies its parent's tree (``cp -a --reflink=auto``: instant on btrfs/XFS, a real copy
elsewhere); a view is a read-only bind of the parent's tree; committing only changes the record.
Costs disk and time per container, but needs no kernel feature, so it also works unprivileged
(layers are unpacked with ordinary deletes for whiteouts).
"""

from __future__ import annotations

import subprocess

from dockyard.base.errors import Internal
from dockyard.oci.snapshot import Kind
from dockyard.oci.snapshot.base import SnapshotterBase
from dockyard.oci.snapshot.mount import Mount


class CopySnapshotter(SnapshotterBase):
    kind_name = "copy snapshot"

    def _populate(self, sid: int, kind: Kind, chain: list[int]) -> None:
        fs = self._dir(sid) / "fs"
        if kind == Kind.VIEW or not chain:
            fs.mkdir(mode=0o755)
            return
        parent = self._dir(chain[0]) / "fs"
        proc = subprocess.run(["cp", "-a", "--reflink=auto", "--", str(parent), str(fs)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise Internal(f"{self.kind_name}: copying {parent} failed: {proc.stderr.strip()}")

    def _mounts(self, sid: int, kind: Kind, chain: list[int]) -> list[Mount]:
        if kind == Kind.VIEW and chain:
            return [Mount("bind", str(self._dir(chain[0]) / "fs"), ("rbind", "ro"))]
        mode = "rw" if kind == Kind.ACTIVE else "ro"
        return [Mount("bind", str(self._dir(sid) / "fs"), ("rbind", mode))]
