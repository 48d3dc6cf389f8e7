"""What every snapshotter shares: the SQLite record of snapshots and the rules of their lifecycle.

Each snapshot gets a small integer id and a directory ``<root>/snapshots/<id>/``; keys and names
live only in the database (``<root>/metadata.db``, WAL), so a name can be as long as a chain ID
while mount options stay short.  A change is recorded in the database first and made on disk
second; :meth:`SnapshotterBase.cleanup` removes directories a crash left without a record.

Subclasses say how a snapshot's directory is set up (:meth:`_populate`), how it is assembled
(:meth:`_mounts`) and where a layer is unpacked into it (:meth:`apply_dir`).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from dockyard.base import fsutil
from dockyard.base.clock import SystemClock
from dockyard.base.db import connect, transaction
from dockyard.oci.snapshot import Info, Kind, SnapshotExists, SnapshotInUse, SnapshotNotFound, Usage
from dockyard.oci.snapshot.mount import Mount

_MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT UNIQUE NOT NULL,
        kind TEXT NOT NULL,
        parent_id INTEGER REFERENCES snapshots(id),
        created REAL NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id)
    """,
)


class SnapshotterBase:
    #: Name used in messages ("overlay snapshot "x": not found").
    kind_name = "snapshot"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.dirs = self.root / "snapshots"
        self.dirs.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.db: sqlite3.Connection = connect(self.root / "metadata.db", migrations=_MIGRATIONS)
        self.clock = SystemClock()

    def close(self) -> None:
        self.db.close()

    # -- lifecycle ----------------------------------------------------------------------------
    def prepare(self, key: str, parent: str | None = None, *, labels: dict[str, str] | None = None) -> list[Mount]:
        return self._create(key, parent, Kind.ACTIVE, labels)

    def view(self, key: str, parent: str | None = None, *, labels: dict[str, str] | None = None) -> list[Mount]:
        return self._create(key, parent, Kind.VIEW, labels)

    def commit(self, name: str, key: str, *, labels: dict[str, str] | None = None) -> None:
        with transaction(self.db):
            row = self._row(key)
            if row["kind"] != Kind.ACTIVE:
                raise SnapshotInUse(f'{self.kind_name} "{key}": is {row["kind"]}; only an active snapshot can be committed')
            if self._find(name) is not None:
                raise SnapshotExists(f'{self.kind_name} "{name}": already exists')
            merged = {**json.loads(row["labels"]), **(labels or {})}
            self.db.execute("UPDATE snapshots SET key=?, kind=?, labels=? WHERE id=?",
                            (name, Kind.COMMITTED.value, json.dumps(merged), row["id"]))
        self._committed(self._dir(row["id"]))

    def remove(self, key: str) -> None:
        with transaction(self.db):
            row = self._row(key)
            child = self.db.execute("SELECT key FROM snapshots WHERE parent_id=? LIMIT 1", (row["id"],)).fetchone()
            if child is not None:
                raise SnapshotInUse(f'{self.kind_name} "{key}": is the parent of "{child["key"]}"; remove that first')
            self.db.execute("DELETE FROM snapshots WHERE id=?", (row["id"],))
        self._rmtree(self._dir(row["id"]))

    def mounts(self, key: str) -> list[Mount]:
        row = self._row(key)
        return self._mounts(row["id"], Kind(row["kind"]), self._chain(row["parent_id"]))

    def stat(self, key: str) -> Info:
        return self._info(self._row(key))

    def walk(self) -> Iterator[Info]:
        for row in self.db.execute("SELECT * FROM snapshots ORDER BY id").fetchall():
            yield self._info(row)

    def usage(self, key: str) -> Usage:
        return disk_usage(self._dir(self._row(key)["id"]) / "fs")

    def apply_dir(self, key: str) -> tuple[str, str]:
        row = self._row(key)
        if row["kind"] != Kind.ACTIVE:
            raise SnapshotInUse(f'{self.kind_name} "{key}": is {row["kind"]}; layers go into active snapshots')
        whiteouts = self._whiteout_mode(row["parent_id"] is not None)
        return str(self._dir(row["id"]) / "fs"), whiteouts

    def cleanup(self) -> list[Path]:
        """Remove snapshot directories with no record (left by a crash); returns what went."""
        known = {str(r["id"]) for r in self.db.execute("SELECT id FROM snapshots")}
        gone = [p for p in self.dirs.iterdir() if p.name not in known]
        for p in gone:
            self._rmtree(p)
        return gone

    # -- for subclasses -------------------------------------------------------------------------
    def _populate(self, sid: int, kind: Kind, chain: list[int]) -> None:
        raise NotImplementedError

    def _mounts(self, sid: int, kind: Kind, chain: list[int]) -> list[Mount]:
        raise NotImplementedError

    def _committed(self, path: Path) -> None:
        """Called after an active snapshot became committed (drop scratch space)."""

    def _whiteout_mode(self, has_parent: bool) -> str:
        return "apply"

    def _dir(self, sid: int) -> Path:
        return self.dirs / str(sid)

    def _rmtree(self, path: Path) -> None:
        if os.path.lexists(path):
            fsutil.rmtree(path)

    # -- internals ------------------------------------------------------------------------------
    def _create(self, key: str, parent: str | None, kind: Kind, labels: dict[str, str] | None) -> list[Mount]:
        with transaction(self.db):
            if self._find(key) is not None:
                raise SnapshotExists(f'{self.kind_name} "{key}": already exists')
            parent_id = None
            if parent is not None:
                prow = self._row(parent)
                if prow["kind"] != Kind.COMMITTED:
                    raise SnapshotInUse(f'{self.kind_name} "{parent}": is {prow["kind"]}; only a committed snapshot can be a parent')
                parent_id = prow["id"]
            cur = self.db.execute(
                "INSERT INTO snapshots(key, kind, parent_id, created, labels) VALUES (?,?,?,?,?)",
                (key, kind.value, parent_id, self.clock.now(), json.dumps(labels or {})))
            sid = int(cur.lastrowid or 0)
        chain = self._chain(parent_id)
        try:
            self._dir(sid).mkdir(mode=0o700)
            self._populate(sid, kind, chain)
            return self._mounts(sid, kind, chain)
        except BaseException:
            with transaction(self.db):
                self.db.execute("DELETE FROM snapshots WHERE id=?", (sid,))
            self._rmtree(self._dir(sid))
            raise

    def _chain(self, sid: int | None) -> list[int]:
        """Ids from *sid* down to the base layer (nearest first)."""
        chain = []
        while sid is not None:
            chain.append(sid)
            row = self.db.execute("SELECT parent_id FROM snapshots WHERE id=?", (sid,)).fetchone()
            sid = row["parent_id"] if row else None
        return chain

    def _find(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM snapshots WHERE key=?", (key,)).fetchone()

    def _row(self, key: str) -> sqlite3.Row:
        row = self._find(key)
        if row is None:
            raise SnapshotNotFound(f'{self.kind_name} "{key}": not found')
        return row

    def _info(self, row: sqlite3.Row) -> Info:
        parent = None
        if row["parent_id"] is not None:
            prow = self.db.execute("SELECT key FROM snapshots WHERE id=?", (row["parent_id"],)).fetchone()
            parent = prow["key"]
        return Info(row["key"], Kind(row["kind"]), parent, row["created"], json.loads(row["labels"]))


def disk_usage(path: Path) -> Usage:
    """Bytes allocated and inodes under *path*, each hardlinked inode counted once."""
    seen: set[tuple[int, int]] = set()
    size = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [".", *dirnames, *filenames] if dirpath == str(path) else [*dirnames, *filenames]:
            st = os.lstat(os.path.join(dirpath, name))
            key = (st.st_dev, st.st_ino)
            if key not in seen:
                seen.add(key)
                size += st.st_blocks * 512
    return Usage(size, len(seen))
