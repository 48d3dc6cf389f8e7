"""The cluster's memory (etcd's role): a revisioned key-value store with compare-and-swap and watch.

:mod:`.store` defines the protocol every backend implements; :mod:`.sqlite` is the default backend,
:mod:`.etcd` talks to a real etcd, and :func:`open_store` picks one from a ``--datastore`` URL.
"""

from dockyard.cluster.store.store import (
    Compacted,
    Event,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionConflict,
    Store,
    open_store,
)

__all__ = [
    "Compacted",
    "Event",
    "KeyExists",
    "KeyNotFound",
    "KeyValue",
    "RevisionConflict",
    "Store",
    "open_store",
]
