"""Root file systems for build steps, on the same overlay snapshots the engine runs containers on.

Each layer of a stage lives once as a committed snapshot named by its chain ID (shared with the
engine and every image that has it).  A RUN or COPY step prepares an active snapshot over the
stage's top layer, mounts it, changes it, and unmounts; the snapshot's upper dir *is* the step's
diff, which :mod:`dockyard.build.diff` turns into a layer blob, and committing the snapshot under
the new chain ID makes it the parent of the next step -- no layer is unpacked again.  Layers that
came from the cache or a base image are unpacked from their blobs only when a step needs them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.base.digest import Digest

if TYPE_CHECKING:  # the snapshot modules load only when a step misses the cache
    from dockyard.oci.content import ContentStore
    from dockyard.oci.images import LayerBlob

_OPEN_LOCK = threading.Lock()


@dataclass(slots=True)
class Active:
    key: str
    merged: Path
    upper: Path
    parent: str | None


class Rootfs:
    """Snapshots and mounts for one stage (one per thread: the snapshotter holds a DB handle)."""

    def __init__(self, data_root: Path, scratch: Path, content: ContentStore) -> None:
        self.root = Path(data_root) / "snapshots"  # the engine's snapshotter root: layers are shared
        self.scratch = scratch  # <state>/build/b-<build id>, held locked by the running build
        self.build_id = scratch.name.removeprefix("b-")
        self.content = content
        self._snap = None

    @property
    def snap(self):
        # opened on first use: a fully cached build never touches a snapshot
        if self._snap is None:
            from dockyard.oci.snapshot.overlay import OverlaySnapshotter

            if os.geteuid() != 0:
                from dockyard.base.errors import FailedPrecondition

                raise FailedPrecondition("this step runs on an overlay snapshot, which needs root; "
                                         "run `dockyard build` as root (rootless builds are not supported yet)")

            with _OPEN_LOCK:  # two stage threads must not both create the database's schema
                self._snap = OverlaySnapshotter(self.root)
                sweep_stale(self._snap, self.scratch.parent, self.build_id)
        return self._snap

    def close(self) -> None:
        if self._snap is not None:
            self._snap.close()

    def ensure(self, layers: Sequence[LayerBlob]) -> str | None:
        """Every layer committed as a snapshot (unpacking the missing ones); the top chain ID."""
        if not layers:
            return None
        from dockyard.oci import mediatypes
        from dockyard.oci.manifest import Descriptor, Manifest
        from dockyard.oci.snapshot.layers import ensure_layers

        manifest = Manifest(Descriptor(mediatypes.OCI_CONFIG, layers[0].digest, 0),
                            [Descriptor(layer.media_type, layer.digest, layer.size) for layer in layers])
        config = {"rootfs": {"type": "layers", "diff_ids": [str(layer.diff_id) for layer in layers]}}
        return ensure_layers(self.snap, self.content, manifest, config)

    def _mountpoint(self) -> Path:
        path = self.scratch / f"m-{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        return path

    @contextmanager
    def active(self, layers: Sequence[LayerBlob]) -> Iterator[Active]:
        """A writable rootfs over *layers*, mounted; removed again unless :meth:`commit` took it."""
        from dockyard.oci.snapshot import SnapshotNotFound
        from dockyard.oci.snapshot.mount import unmount

        parent = self.ensure(layers)
        key = f"build-{self.build_id}-{uuid.uuid4().hex[:12]}"
        mounts = self.snap.prepare(key, parent, labels={"dockyard.build": "1"})
        merged = self._mountpoint()
        upper, _ = self.snap.apply_dir(key)
        try:
            for m in mounts:
                m.mount(merged)
            try:
                yield Active(key, merged, Path(upper), parent)
            finally:
                unmount(merged)
                merged.rmdir()
        finally:
            try:
                self.snap.remove(key)
            except SnapshotNotFound:
                pass  # committed: it is a layer now

    def commit(self, active: Active, layer: LayerBlob) -> None:
        """Keep *active*'s upper dir as the committed snapshot of *layer* on its parent."""
        from dockyard.oci.snapshot import SnapshotExists
        from dockyard.oci.snapshot.layers import chain_ids

        chain = str(layer.diff_id)
        if active.parent:
            # chain_ids treats its first element as a diff ID; a chain ID works the same way there
            chain = str(chain_ids([Digest.parse(active.parent), layer.diff_id])[-1])
        try:
            self.snap.commit(chain, active.key)
        except SnapshotExists:
            pass  # an identical step of another build got there first; ours is removed on exit

    @contextmanager
    def view(self, layers: Sequence[LayerBlob]) -> Iterator[Path]:
        """*layers* mounted read-only (a previous stage for ``COPY --from`` or a bind mount)."""
        from dockyard.oci.snapshot.mount import unmount

        parent = self.ensure(layers)
        merged = self._mountpoint()
        if parent is None:
            try:
                yield merged
            finally:
                merged.rmdir()
            return
        key = f"build-{self.build_id}-view-{uuid.uuid4().hex[:12]}"
        mounts = self.snap.view(key, parent, labels={"dockyard.build": "1"})
        try:
            for m in mounts:
                m.mount(merged)
            try:
                yield merged
            finally:
                unmount(merged)
        finally:
            self.snap.remove(key)
            shutil.rmtree(merged, ignore_errors=True)


def build_alive(build_dir: Path, build_id: str) -> bool:
    """Is build *build_id* still running?  Its process holds ``b-<id>.lock`` while it is."""
    lock = build_dir / f"b-{build_id}.lock"
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def sweep_stale(snap, build_dir: Path, own_id: str) -> None:
    """Remove what builds killed mid-step left behind: their mounts, snapshots and scratch dirs."""
    from dockyard.oci.snapshot import Kind, SnapshotNotFound
    from dockyard.oci.snapshot.mount import unmount

    dead: set[str] = set()
    for info in list(snap.walk()):
        parts = info.key.split("-")
        if parts[0] != "build" or len(parts) < 3 or info.kind == Kind.COMMITTED or parts[1] == own_id:
            continue
        if parts[1] not in dead and build_alive(build_dir, parts[1]):
            continue
        dead.add(parts[1])
        scratch = build_dir / f"b-{parts[1]}"
        if scratch.is_dir():
            for mnt in scratch.iterdir():
                if os.path.ismount(mnt):
                    unmount(mnt, lazy=True)
        try:
            snap.remove(info.key)
        except (SnapshotNotFound, OSError):
            continue
    for bid in dead:
        shutil.rmtree(build_dir / f"b-{bid}", ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (build_dir / f"b-{bid}.lock").unlink()
