"""The registry's own records, in SQLite at ``data_root/registry.db``.

The content store knows blobs by digest and nothing else; a registry also needs to know which
repository may serve which blob (a blob is visible in a repository only once pushed or mounted
there, as in distribution), which manifests and tags a repository has, what refers to what
(the referrers API), and which upload sessions are open.  ``owned`` lists the blobs the registry
brought into the content store: garbage collection only ever considers those, so it can never
delete a blob the engine pulled or built itself.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dockyard.base import db

MIGRATIONS = [
    """
    CREATE TABLE repos (name TEXT PRIMARY KEY, created REAL NOT NULL);
    CREATE TABLE blob_links (repo TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, digest));
    CREATE TABLE manifests (
        repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
        artifact_type TEXT, subject TEXT, annotations TEXT, refs TEXT NOT NULL, created REAL NOT NULL,
        PRIMARY KEY (repo, digest));
    CREATE INDEX manifests_subject ON manifests (repo, subject);
    CREATE TABLE tags (repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, tag));
    CREATE TABLE uploads (uuid TEXT PRIMARY KEY, repo TEXT NOT NULL, started REAL NOT NULL);
    CREATE TABLE owned (digest TEXT PRIMARY KEY)
    """,
]


@dataclass(frozen=True, slots=True)
class ManifestRow:
    repo: str
    digest: str
    media_type: str
    size: int
    artifact_type: str | None
    subject: str | None
    annotations: dict[str, str] | None
    refs: list[str]


class RegistryState:
    def __init__(self, path: Path) -> None:
        self.conn = db.connect(path, migrations=MIGRATIONS)

    def close(self) -> None:
        self.conn.close()

    # repositories and blob links -----------------------------------------------------------
    def _ensure_repo(self, repo: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO repos VALUES (?, ?)", (repo, time.time()))

    def repo_exists(self, repo: str) -> bool:
        return self.conn.execute("SELECT 1 FROM repos WHERE name=?", (repo,)).fetchone() is not None

    def repos(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        return _page(self.conn, "SELECT name FROM repos WHERE name > ? ORDER BY name", (last or "",), n)

    def link_blob(self, repo: str, digest: str, *, owned: bool = True) -> None:
        with db.transaction(self.conn):
            self._ensure_repo(repo)
            self.conn.execute("INSERT OR IGNORE INTO blob_links VALUES (?, ?)", (repo, digest))
            if owned:
                self.conn.execute("INSERT OR IGNORE INTO owned VALUES (?)", (digest,))

    def blob_linked(self, repo: str, digest: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM blob_links WHERE repo=? AND digest=? UNION "
            "SELECT 1 FROM manifests WHERE repo=? AND digest=?", (repo, digest, repo, digest)
        ).fetchone()
        return row is not None

    def unlink_blob(self, repo: str, digest: str) -> bool:
        cur = self.conn.execute("DELETE FROM blob_links WHERE repo=? AND digest=?", (repo, digest))
        return cur.rowcount > 0

    # manifests and tags --------------------------------------------------------------------
    def put_manifest(self, row: ManifestRow, tags: Iterable[str] = ()) -> None:
        with db.transaction(self.conn):
            self._ensure_repo(row.repo)
            self.conn.execute(
                "INSERT OR REPLACE INTO manifests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.repo, row.digest, row.media_type, row.size, row.artifact_type, row.subject,
                 json.dumps(row.annotations) if row.annotations else None, json.dumps(row.refs),
                 time.time()),
            )
            self.conn.execute("INSERT OR IGNORE INTO owned VALUES (?)", (row.digest,))
            for tag in tags:
                self.conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", (row.repo, tag, row.digest))

    def manifest(self, repo: str, digest: str) -> ManifestRow | None:
        r = self.conn.execute("SELECT * FROM manifests WHERE repo=? AND digest=?", (repo, digest)).fetchone()
        return _row(r) if r else None

    def resolve_tag(self, repo: str, tag: str) -> str | None:
        r = self.conn.execute("SELECT digest FROM tags WHERE repo=? AND tag=?", (repo, tag)).fetchone()
        return r[0] if r else None

    def tags(self, repo: str, *, last: str | None = None, n: int | None = None) -> list[str]:
        return _page(self.conn, "SELECT tag FROM tags WHERE repo=? AND tag > ? ORDER BY tag",
                     (repo, last or ""), n)

    def delete_tag(self, repo: str, tag: str) -> bool:
        return self.conn.execute("DELETE FROM tags WHERE repo=? AND tag=?", (repo, tag)).rowcount > 0

    def delete_manifest(self, repo: str, digest: str) -> bool:
        with db.transaction(self.conn):
            self.conn.execute("DELETE FROM tags WHERE repo=? AND digest=?", (repo, digest))
            cur = self.conn.execute("DELETE FROM manifests WHERE repo=? AND digest=?", (repo, digest))
        return cur.rowcount > 0

    def referrers(self, repo: str, subject: str) -> list[ManifestRow]:
        rows = self.conn.execute(
            "SELECT * FROM manifests WHERE repo=? AND subject=? ORDER BY created, digest", (repo, subject)
        )
        return [_row(r) for r in rows]

    # upload sessions -----------------------------------------------------------------------
    def start_upload(self, uuid: str, repo: str) -> None:
        self.conn.execute("INSERT INTO uploads VALUES (?, ?, ?)", (uuid, repo, time.time()))

    def upload_repo(self, uuid: str) -> str | None:
        r = self.conn.execute("SELECT repo FROM uploads WHERE uuid=?", (uuid,)).fetchone()
        return r[0] if r else None

    def end_upload(self, uuid: str) -> None:
        self.conn.execute("DELETE FROM uploads WHERE uuid=?", (uuid,))

    def stale_uploads(self, older_than: float) -> list[str]:
        rows = self.conn.execute("SELECT uuid FROM uploads WHERE started < ?", (older_than,))
        return [r[0] for r in rows]

    # garbage collection --------------------------------------------------------------------
    def unreferenced_owned(self) -> list[str]:
        """Blobs the registry stored that no repository links and no stored manifest refers to."""
        referenced: set[str] = set()
        for (refs,) in self.conn.execute("SELECT refs FROM manifests"):
            referenced.update(json.loads(refs))
        linked = {r[0] for r in self.conn.execute("SELECT digest FROM blob_links UNION SELECT digest FROM manifests")}
        owned = [r[0] for r in self.conn.execute("SELECT digest FROM owned")]
        return [d for d in owned if d not in referenced and d not in linked]

    def held(self) -> set[str]:
        """Every blob the registry stored, links from a repository or refers to from a manifest:
        what a collector of the shared content store other than the registry's own must keep."""
        held = {r[0] for r in self.conn.execute(
            "SELECT digest FROM owned UNION SELECT digest FROM blob_links UNION SELECT digest FROM manifests")}
        for (refs,) in self.conn.execute("SELECT refs FROM manifests"):
            held.update(json.loads(refs))
        return held

    def disown(self, digests: Iterable[str]) -> None:
        with db.transaction(self.conn):
            self.conn.executemany("DELETE FROM owned WHERE digest=?", [(d,) for d in digests])


def _page(conn: sqlite3.Connection, sql: str, args: tuple, n: int | None) -> list[str]:
    if n is not None:
        sql += " LIMIT ?"
        args = (*args, n)
    return [r[0] for r in conn.execute(sql, args)]


def _row(r: sqlite3.Row) -> ManifestRow:
    return ManifestRow(
        repo=r["repo"], digest=r["digest"], media_type=r["media_type"], size=r["size"],
        artifact_type=r["artifact_type"], subject=r["subject"],
        annotations=json.loads(r["annotations"]) if r["annotations"] else None, refs=json.loads(r["refs"]),
    )
