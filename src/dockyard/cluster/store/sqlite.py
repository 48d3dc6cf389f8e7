"""SQLite backend: the default store, one file under the data root.

Two tables: ``kv`` holds the current value of each key (what get and list read), ``log`` holds
every revision (what watch replays and what a list at a past revision reads), like kine's table
but with the current state kept apart so that the common reads never group by key.

Writes are *group-committed*: every write waiting when the writer becomes free goes into one
``BEGIN IMMEDIATE`` … ``COMMIT`` with ``synchronous=FULL``, so one fsync (~2 ms here) covers many
writes instead of one each.  Each write still checks its own preconditions inside the
transaction, in arrival order, and is acknowledged (and published to watchers) only after the
COMMIT returned — after ``kill -9`` every acknowledged write is there and revisions continue where
they stopped.  The commit runs on one dedicated writer thread with its own connection, so the event
loop keeps parsing requests (which is what lets the next batch form) while the disk syncs; reads use
a second connection on the loop and, under WAL, see only committed data.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dockyard.base import db
from dockyard.cluster.store.store import (
    Compacted,
    Event,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionConflict,
)
from dockyard.cluster.store.watchhub import WatchHub

MIGRATIONS = [
    """
    CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, create_rev INTEGER NOT NULL,
                     mod_rev INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE log (rev INTEGER PRIMARY KEY, key TEXT NOT NULL, value BLOB NOT NULL,
                      create_rev INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX log_key_rev ON log (key, rev);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta VALUES ('compact_rev', 0)
    """,
]

Op = tuple[Callable[[sqlite3.Connection, int], Event], "asyncio.Future[Event]"]


class SqliteStore:
    def __init__(self, path: Path, *, history: int = 1000) -> None:
        self.path = path
        self._hub = WatchHub(window=history)
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._pending: list[Op] = []
        self._flushing = False
        self._rev = 0  # newest revision published (loop side)
        self._next_rev = 0  # newest revision written (writer side)

    async def start(self) -> None:
        self._writer = db.connect(self.path, migrations=MIGRATIONS)
        self._reader = db.connect(self.path)
        self._rev = max(self._scalar("SELECT coalesce(max(rev), 0) FROM log"), self._compact_rev())
        self._next_rev = self._rev
        self._hub.last_rev = self._rev

    async def close(self) -> None:
        while self._flushing or self._pending:
            await asyncio.sleep(0.01)
        self._pool.shutdown(wait=True)
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._reader is None:
            raise RuntimeError("store not started")
        return self._reader

    def _scalar(self, sql: str, *args: Any) -> Any:
        return self.conn.execute(sql, args).fetchone()[0]

    def _compact_rev(self) -> int:
        return self._scalar("SELECT value FROM meta WHERE name='compact_rev'")

    # -- reads (loop thread, reader connection) -------------------------------------------------

    async def revision(self) -> int:
        return self._rev

    async def get(self, key: str) -> KeyValue | None:
        row = self.conn.execute("SELECT key, value, create_rev, mod_rev FROM kv WHERE key=?", (key,)).fetchone()
        return KeyValue(*row) if row else None

    async def count(self, prefix: str) -> int:
        return self._scalar("SELECT count(*) FROM kv WHERE key >= ? AND key < ?", prefix, _prefix_end(prefix))

    async def list(
        self, prefix: str, *, start_after: str = "", limit: int = 0, revision: int = 0
    ) -> tuple[list[KeyValue], int, bool]:
        lo = max(prefix, start_after + "\x00") if start_after else prefix
        hi = _prefix_end(prefix)
        lim = limit + 1 if limit > 0 else -1
        with db.transaction(self.conn, immediate=False):  # one snapshot for the rows and the revision
            current = self._scalar("SELECT coalesce(max(rev), 0) FROM log")
            if revision and revision < current:
                if revision < self._compact_rev():
                    raise Compacted(f"revision {revision}: compacted", compact_rev=self._compact_rev())
                rows = self.conn.execute(
                    "SELECT key, value, create_rev, rev, deleted FROM log WHERE rev IN "
                    "(SELECT max(rev) FROM log WHERE key >= ? AND key < ? AND rev <= ? GROUP BY key) "
                    "ORDER BY key LIMIT ?",
                    (lo, hi, revision, lim),
                ).fetchall()
                items = [KeyValue(r[0], r[1], r[2], r[3]) for r in rows if not r[4]]
                read_at = revision
            else:
                rows = self.conn.execute(
                    "SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?",
                    (lo, hi, lim),
                ).fetchall()
                items = [KeyValue(*r) for r in rows]
                read_at = max(current, self._compact_rev())
        more = limit > 0 and len(rows) > limit
        if more:
            items = items[:limit]
        return items, read_at, more

    # -- writes (queued, group-committed on the writer thread) ----------------------------------

    async def create(self, key: str, value: bytes) -> KeyValue:
        def op(c: sqlite3.Connection, rev: int) -> Event:
            if c.execute("SELECT 1 FROM kv WHERE key=?", (key,)).fetchone():
                raise KeyExists(f"key {key!r}: already exists")
            c.execute("INSERT INTO kv VALUES (?, ?, ?, ?)", (key, value, rev, rev))
            c.execute("INSERT INTO log VALUES (?, ?, ?, ?, 0)", (rev, key, value, rev))
            return Event("ADDED", key, value, rev, rev)

        return _kv(await self._submit(op))

    async def update(self, key: str, value: bytes, *, expected_rev: int = 0) -> KeyValue:
        def op(c: sqlite3.Connection, rev: int) -> Event:
            current = _current(c, key, expected_rev)
            c.execute("UPDATE kv SET value=?, mod_rev=? WHERE key=?", (value, rev, key))
            c.execute("INSERT INTO log VALUES (?, ?, ?, ?, 0)", (rev, key, value, current.create_rev))
            return Event("MODIFIED", key, value, rev, current.create_rev, current.value)

        return _kv(await self._submit(op))

    async def delete(self, key: str, *, expected_rev: int = 0) -> KeyValue:
        def op(c: sqlite3.Connection, rev: int) -> Event:
            current = _current(c, key, expected_rev)
            c.execute("DELETE FROM kv WHERE key=?", (key,))
            c.execute("INSERT INTO log VALUES (?, ?, ?, ?, 1)", (rev, key, current.value, current.create_rev))
            return Event("DELETED", key, current.value, rev, current.create_rev)

        return _kv(await self._submit(op))

    async def _submit(self, op: Callable[[sqlite3.Connection, int], Event]) -> Event:
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    outcomes = await loop.run_in_executor(self._pool, self._commit, [op for op, _ in batch])
                except Exception as e:  # the COMMIT itself failed: nothing in the batch happened
                    outcomes = [e] * len(batch)
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if isinstance(outcome, Event):
                        # Only after COMMIT returned: watchers never see a write that could roll back.
                        self._rev = outcome.rev
                        self._hub.publish(outcome)
                    if not future.done():
                        if isinstance(outcome, Exception):
                            future.set_exception(outcome)
                        else:
                            future.set_result(outcome)
        finally:
            self._flushing = False

    def _commit(self, ops: list[Callable[[sqlite3.Connection, int], Event]]) -> list[Event | Exception]:
        assert self._writer is not None
        outcomes: list[Event | Exception] = []
        rev = self._next_rev
        try:
            with db.transaction(self._writer):
                for op in ops:
                    try:
                        outcomes.append(op(self._writer, rev + 1))
                        rev += 1
                    except (KeyExists, KeyNotFound, RevisionConflict) as e:  # checked before writing
                        outcomes.append(e)
        except Exception:
            raise
        self._next_rev = rev
        return outcomes

    # -- watch and compaction -------------------------------------------------------------------

    async def watch(self, prefix: str, *, after_rev: int) -> AsyncIterator[Event]:
        compact = self._compact_rev()
        if after_rev < compact:  # even if the memory cache still holds it: etcd's semantics
            raise Compacted(f"revision {after_rev}: compacted (oldest is {compact})", compact_rev=compact)
        async for event in self._hub.watch(prefix, after_rev, self._history):
            yield event

    async def _history(self, prefix: str, after_rev: int, upto: int) -> list[Event]:
        compact = self._compact_rev()
        if after_rev < compact:
            raise Compacted(f"revision {after_rev}: compacted (oldest is {compact})", compact_rev=compact)
        rows = self.conn.execute(
            "SELECT rev, key, value, create_rev, deleted FROM log WHERE rev > ? AND rev <= ? "
            "AND key >= ? AND key < ? ORDER BY rev",
            (after_rev, upto, prefix, _prefix_end(prefix)),
        ).fetchall()
        return [Event(_event_type(r), r[1], r[2], r[0], r[3]) for r in rows]

    async def compact(self, revision: int) -> None:
        """Forget history before *revision*, keeping each key's value as of that revision."""
        revision = min(revision, self._rev)

        def op(c: sqlite3.Connection) -> None:
            with db.transaction(c):
                c.execute(
                    "DELETE FROM log WHERE rev < ? AND (deleted = 1 OR EXISTS (SELECT 1 FROM log AS newer "
                    "WHERE newer.key = log.key AND newer.rev > log.rev AND newer.rev <= ?))",
                    (revision, revision),
                )
                c.execute("UPDATE meta SET value=max(value, ?) WHERE name='compact_rev'", (revision,))

        await asyncio.get_running_loop().run_in_executor(self._pool, op, self._writer)


def _current(c: sqlite3.Connection, key: str, expected_rev: int) -> KeyValue:
    row = c.execute("SELECT key, value, create_rev, mod_rev FROM kv WHERE key=?", (key,)).fetchone()
    if row is None:
        raise KeyNotFound(f"key {key!r}: not found")
    current = KeyValue(*row)
    if expected_rev and current.mod_rev != expected_rev:
        raise RevisionConflict(f"key {key!r}: modified at revision {current.mod_rev}, not {expected_rev}",
                               current=current)
    return current


def _kv(event: Event) -> KeyValue:
    return KeyValue(event.key, event.value, event.create_rev, event.rev)


def _event_type(row: sqlite3.Row) -> str:
    if row[4]:
        return "DELETED"
    return "ADDED" if row[0] == row[3] else "MODIFIED"


def _prefix_end(prefix: str) -> str:
    # The smallest string greater than every string starting with prefix.
    return prefix + "\U0010ffff"
