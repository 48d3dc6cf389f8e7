"""Snapshots: the root filesystems containers run on, built from image layers, shared when equal.

The model is containerd's.  A snapshotter holds *snapshots*, each identified by a *key*, of three
kinds:

* **active** -- writable, made by :meth:`Snapshotter.prepare` on top of a committed *parent* (or
  empty).  A container's rootfs, or a layer being unpacked.
* **view** -- read-only, made by :meth:`Snapshotter.view` over a committed parent.
* **committed** -- read-only and immutable, made by :meth:`Snapshotter.commit` from an active
  snapshot under a new name.  Image layers live here, named by their *chain ID* (the OCI image
  spec's digest of the layer's diff ID and every diff ID below it), so every image that has the
  same layers on the same base shares one copy.

Lifecycle::

    prepare(key, parent) ──▶ active ──commit(name, key)──▶ committed ──prepare/view(child)──▶ …
    view(key, parent)    ──▶ view
    remove(key): any kind, but never a snapshot that is the parent of another

:meth:`Snapshotter.mounts` returns the :class:`~dockyard.oci.snapshot.mount.Mount` list that
assembles a snapshot (overlay with a ``lowerdir`` chain, or a bind mount); the caller mounts it
wherever it likes, or hands it to a runtime.  Writes to an active snapshot are never visible in its
parent.  :func:`~dockyard.oci.snapshot.layers.ensure_layers` unpacks an image's layers into
committed snapshots, each once.

Implementations: :class:`~dockyard.oci.snapshot.overlay.OverlaySnapshotter` (one directory per
layer, overlayfs on top; root) and :class:`~dockyard.oci.snapshot.copy.CopySnapshotter` (a full
copy per snapshot; works anywhere).  ``tests/oci/test_snapshot_conformance.py`` runs one suite
against both.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path

from dockyard.base.errors import AlreadyExists, FailedPrecondition, NotFound
from dockyard.base.record import Frozen
from dockyard.oci.snapshot.mount import Mount

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # typing costs ~2 ms on every `dockyard run`; protocols matter to type checkers only


class Kind(enum.StrEnum):
    ACTIVE = "active"
    VIEW = "view"
    COMMITTED = "committed"


class Info(Frozen):
    """What a snapshotter knows of one snapshot: key, kind, parent, creation time, labels."""

    _fields = ("key", "kind", "parent", "created", "labels")
    __slots__ = _fields
    _compared = ("key", "kind", "parent", "created")
    key: str
    kind: Kind
    parent: str | None
    created: float
    labels: dict[str, str]

    def __init__(self, key: str, kind: Kind, parent: str | None, created: float,
                 labels: dict[str, str] | None = None) -> None:
        self._set(key=key, kind=kind, parent=parent, created=created, labels={} if labels is None else labels)


class Usage(Frozen):
    """The disk use of one snapshot alone."""

    _fields = ("size", "inodes")
    __slots__ = _fields
    size: int  # bytes held by this snapshot alone (its layer or upper dir)
    inodes: int

    def __init__(self, size: int, inodes: int) -> None:
        self._set(size=size, inodes=inodes)


class SnapshotNotFound(NotFound):
    pass


class SnapshotExists(AlreadyExists):
    pass


class SnapshotInUse(FailedPrecondition):
    """Removing a snapshot others depend on, or committing one that is not active."""


class Snapshotter(Protocol):
    def prepare(self, key: str, parent: str | None = None, *, labels: dict[str, str] | None = None) -> list[Mount]: ...
    def view(self, key: str, parent: str | None = None, *, labels: dict[str, str] | None = None) -> list[Mount]: ...
    def commit(self, name: str, key: str, *, labels: dict[str, str] | None = None) -> None: ...
    def remove(self, key: str) -> None: ...
    def mounts(self, key: str) -> list[Mount]: ...
    def stat(self, key: str) -> Info: ...
    def walk(self) -> Iterator[Info]: ...
    def usage(self, key: str) -> Usage: ...
    def apply_dir(self, key: str) -> tuple[str, str]:
        """Where to unpack a layer into active snapshot *key*, and the whiteout mode to use."""
        ...
    def cleanup(self) -> list[Path]:
        """Remove what a crash left on disk without a record."""
        ...
    def close(self) -> None: ...


__all__ = [
    "Info",
    "Kind",
    "Mount",
    "SnapshotExists",
    "SnapshotInUse",
    "SnapshotNotFound",
    "Snapshotter",
    "Usage",
]
