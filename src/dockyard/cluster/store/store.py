"""The Store protocol: what the API server needs from etcd, and nothing more.

Lifecycle of a key, as in etcd: every write (create, update, delete) takes the next value of one
global *revision* counter.  A key remembers the revision that created it (``create_rev``) and the
one that last changed it (``mod_rev``); the API server shows ``mod_rev`` as the object's
``metadata.resourceVersion``.  Updates and deletes may name the ``mod_rev`` they expect
(compare-and-swap) and fail with :class:`RevisionConflict` if someone else wrote first.

A *watch* on a key prefix from revision R yields every change with revision > R, in order.  The
store keeps history back to its *compaction* point; asking for older history raises
:class:`Compacted` (the API server turns that into ``410 Gone``).  A list may also be read *at* a
past revision (for consistent pagination) within the same window.

Every backend runs the conformance suite in ``tests/cluster/store/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dockyard.base.errors import AlreadyExists, Conflict, FailedPrecondition, InvalidArgument, NotFound


class KeyExists(AlreadyExists):
    pass


class KeyNotFound(NotFound):
    pass


class RevisionConflict(Conflict):
    """The key's ``mod_rev`` is not the one the writer expected."""

    def __init__(self, message: str, *, current: KeyValue | None = None) -> None:
        super().__init__(message)
        self.current = current


class Compacted(FailedPrecondition):
    """History before the compaction point was asked for (etcd's ``ErrCompacted``)."""

    http_status = 410

    def __init__(self, message: str, *, compact_rev: int = 0) -> None:
        super().__init__(message)
        self.compact_rev = compact_rev


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_rev: int
    mod_rev: int


@dataclass(frozen=True, slots=True)
class Event:
    """One change.  For ``DELETED`` the value is the key's last value and ``rev`` the delete's."""

    type: str  # "ADDED" | "MODIFIED" | "DELETED"
    key: str
    value: bytes
    rev: int
    create_rev: int
    #: The value before a MODIFIED, when the backend knows it (lets a filtered watch see an object
    #: enter or leave its selector); None when replayed from history without it.
    prev_value: bytes | None = None


class Store(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def revision(self) -> int:
        """The newest revision written (0 for an empty store)."""
        ...

    async def get(self, key: str) -> KeyValue | None: ...

    async def list(
        self, prefix: str, *, start_after: str = "", limit: int = 0, revision: int = 0
    ) -> tuple[list[KeyValue], int, bool]:
        """Keys under *prefix* after *start_after*, sorted, at *revision* (0 = now).

        Returns (items, the revision read at, whether more remain)."""
        ...

    async def count(self, prefix: str) -> int: ...

    async def create(self, key: str, value: bytes) -> KeyValue: ...

    async def update(self, key: str, value: bytes, *, expected_rev: int = 0) -> KeyValue:
        """Replace the value; ``expected_rev`` (if non-zero) must equal the key's ``mod_rev``."""
        ...

    async def delete(self, key: str, *, expected_rev: int = 0) -> KeyValue:
        """Remove the key; returns its last value with the delete's revision as ``mod_rev``."""
        ...

    def watch(self, prefix: str, *, after_rev: int) -> AsyncIterator[Event]:
        """Every change under *prefix* with revision > *after_rev*, in order, until cancelled."""
        ...

    async def compact(self, revision: int) -> None: ...


def open_store(datastore: str | None, *, data_root: Path, history: int = 1000) -> Store:
    """``sqlite`` (default, under *data_root*), ``sqlite:///path/to.db`` or ``etcd://host:port``."""
    if datastore and datastore.startswith(("etcd://", "etcd+http://")):
        from dockyard.cluster.store.etcd import EtcdStore

        endpoint = "http://" + datastore.split("://", 1)[1].rstrip("/")
        return EtcdStore(endpoint, history=history)
    from dockyard.cluster.store.sqlite import SqliteStore

    path = data_root / "cluster" / "store.db"
    if datastore and datastore.startswith("sqlite://"):
        path = Path(datastore.removeprefix("sqlite://"))
    elif datastore not in (None, "", "sqlite"):
        raise InvalidArgument(f"datastore {datastore!r}: unknown; use sqlite, sqlite:///PATH or etcd://HOST:PORT")
    return SqliteStore(path, history=history)
