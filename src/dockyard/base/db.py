"""SQLite as dockyard's durable store: WAL, synchronous=FULL, schema versions.

Every layer that keeps state that must not be lost (image names, containers, IP allocations,
cluster objects) opens its database through :func:`connect`, so all of them share one policy:
a write acknowledged to a caller has been fsynced, and a process killed with SIGKILL leaves a
database that opens cleanly with every acknowledged write in it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path, *, migrations: Sequence[str] = (), timeout: float = 30.0) -> sqlite3.Connection:
    """Open (creating) the database at *path* and bring its schema up to date.

    *migrations* is the ordered list of schema scripts; ``PRAGMA user_version`` records how many
    have run, so adding a script to the end of the list upgrades existing databases.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")  # first: the others may wait on a lock
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    # Checkpoint every 64 pages, not SQLite's 1000.  The CLI ends with os._exit (no checkpoint on
    # close), so the next process to open the file rebuilds the WAL index by reading every frame
    # since the last checkpoint: with 1000 pages that is up to 4 MB and ~5 ms on each `dockyard run`;
    # with 64 it stays under 0.3 ms, for a small checkpoint every few runs.
    conn.execute("PRAGMA wal_autocheckpoint=64")
    conn.execute("PRAGMA foreign_keys=ON")
    if conn.execute("PRAGMA user_version").fetchone()[0] < len(migrations):
        # Re-read the version under the write lock: another process or thread opening the same
        # new database may have run the migrations since we looked.
        with transaction(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for i, script in enumerate(migrations[version:], start=version + 1):
                _run_script(conn, script)
                conn.execute(f"PRAGMA user_version={i}")
    return conn


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run *script* inside the caller's open transaction, one statement at a time.

    executescript() would COMMIT that transaction first, so the migration and its user_version
    bump would no longer be atomic.  A ';' ends a statement only where SQLite says so
    (:func:`sqlite3.complete_statement`): not inside a string literal, a quoted name, a comment
    or a ``CREATE TRIGGER … BEGIN … END`` body.
    """
    for statement in split_statements(script):
        conn.execute(statement)


def split_statements(script: str) -> list[str]:
    """The SQL statements of *script*, each ending in ';' (an unfinished tail is kept as it is,
    for SQLite to reject when it runs)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    # Left over: the final piece and a ';' the script did not have, when that does not finish it.
    statements.append(pending[:-1])
    return [s for s in statements if s.strip(" \t\r\n;")]


@contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: writers serialise up front instead of failing at commit."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
