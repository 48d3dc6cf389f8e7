"""The layer cache: Docker's cache key → the layer a step produced, kept across builds in SQLite.

A step's key is the sha256 of its parent's key, the instruction after variable expansion, the
digest of the files COPY/ADD read, and -- for RUN, whose process sees them in its environment --
the values of the build args in scope.  So, as with docker, a rebuild with nothing changed
executes no step; editing one COPY source rebuilds from that COPY on; changing ``--build-arg``
rebuilds only from the first step that reads it.  Metadata steps (ENV, LABEL, …) are cheap and
recomputed, so only steps with a filesystem result are stored.  An entry whose blob the content
store has lost (garbage-collected) counts as a miss.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from dockyard.base.db import connect, transaction
from dockyard.base.digest import Digest

_MIGRATIONS = (
    """
    CREATE TABLE steps (
        key TEXT PRIMARY KEY,
        digest TEXT,
        diff_id TEXT,
        size INTEGER,
        media_type TEXT,
        created REAL NOT NULL,
        used REAL NOT NULL
    )
    """,
    """
    CREATE TABLE file_hashes (
        root TEXT NOT NULL,
        stat_key TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (root, stat_key)
    )
    """,
)


def step_key(parent: str, *parts: object) -> str:
    """A step's cache key: parent key plus the canonical JSON of what defines the step."""
    h = hashlib.sha256(parent.encode())
    h.update(b"\0")
    h.update(json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode())
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True, slots=True)
class CachedLayer:
    """A step's result: a layer (``digest`` None when the step changed no file)."""

    digest: Digest | None
    diff_id: Digest | None
    size: int
    media_type: str
    created: float


class BuildCache:
    def __init__(self, data_root: Path) -> None:
        self.path = Path(data_root) / "build-cache.db"
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = connect(self.path, migrations=_MIGRATIONS)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def get(self, key: str, *, has_blob=None) -> CachedLayer | None:
        with self._lock:
            row = self.db.execute("SELECT * FROM steps WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        entry = CachedLayer(Digest.parse(row["digest"]) if row["digest"] else None,
                            Digest.parse(row["diff_id"]) if row["diff_id"] else None,
                            row["size"] or 0, row["media_type"] or "", row["created"])
        if entry.digest is not None and has_blob is not None and not has_blob(entry.digest):
            return None
        return entry

    def put(self, key: str, entry: CachedLayer, *, now: float) -> None:
        with self._lock, transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO steps(key, digest, diff_id, size, media_type, created, used)"
                " VALUES (?,?,?,?,?,?,?)",
                (key, str(entry.digest) if entry.digest else None,
                 str(entry.diff_id) if entry.diff_id else None, entry.size, entry.media_type,
                 entry.created, now))

    def file_hashes(self, root: str) -> dict[str, str]:
        """Content hashes of a context's files from earlier builds, keyed by their stat."""
        with self._lock:
            rows = self.db.execute("SELECT stat_key, sha256 FROM file_hashes WHERE root=?", (root,)).fetchall()
        return {r[0]: r[1] for r in rows}

    def save_file_hashes(self, root: str, new: dict[str, str]) -> None:
        if not new:
            return
        with self._lock, transaction(self.db):
            # a changed file gets a new stat key; the stale ones go when a build of that context prunes
            self.db.executemany("INSERT OR REPLACE INTO file_hashes(root, stat_key, sha256) VALUES (?,?,?)",
                                [(root, k, v) for k, v in new.items()])

    def forget_file_hashes(self, root: str, keep: set[str]) -> None:
        with self._lock, transaction(self.db):
            for (key,) in self.db.execute("SELECT stat_key FROM file_hashes WHERE root=?", (root,)).fetchall():
                if key not in keep:
                    self.db.execute("DELETE FROM file_hashes WHERE root=? AND stat_key=?", (root, key))

    def prune(self) -> int:
        """Forget every entry; the layers stay in the content store until image GC."""
        with self._lock, transaction(self.db):
            return self.db.execute("DELETE FROM steps").rowcount
