"""Container records: what was asked for and where things are, in ``<data root>/containers.db``.

The record is the engine's durable memory (name, image, options, runtime, pod, snapshot); the
live state (running, exit code, pid) belongs to the pod's shim and is asked for, not stored.  A
record is inserted in state ``creating`` with the creating process's pid before anything is built,
so that a CLI killed half-way leaves a row that the next engine recognises and sweeps.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

from dockyard.base import db
from dockyard.base.errors import AlreadyExists, InvalidArgument, NotFound
from dockyard.base.record import Mutable
from dockyard.engine.options import RunOptions

MIGRATIONS = [
    """
    CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        pod TEXT NOT NULL,
        image TEXT NOT NULL,
        image_id TEXT NOT NULL,
        runtime TEXT NOT NULL,
        options TEXT NOT NULL,
        phase TEXT NOT NULL,
        creator_pid INTEGER NOT NULL,
        created REAL NOT NULL,
        restarts INTEGER NOT NULL DEFAULT 0,
        sandbox INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX containers_pod ON containers(pod)
    """,
]

CREATING, READY, REMOVING = "creating", "ready", "removing"


class ContainerRecord(Mutable):
    """A container's durable record: what was asked for, where it lives, its lifecycle phase."""

    _fields = ("id", "name", "pod", "image", "image_id", "runtime", "options", "phase", "creator_pid", "created",
               "restarts", "sandbox")
    __slots__ = _fields

    def __init__(self, id: str, name: str, pod: str, image: str, image_id: str, runtime: str,
                 options: RunOptions, phase: str = CREATING, creator_pid: int | None = None,
                 created: float | None = None, restarts: int = 0, sandbox: bool = False) -> None:
        self.id = id
        self.name = name
        self.pod = pod
        self.image = image
        self.image_id = image_id
        self.runtime = runtime
        self.options = options
        self.phase = phase
        self.creator_pid: int = os.getpid() if creator_pid is None else creator_pid
        self.created: float = time.time() if created is None else created
        self.restarts = restarts
        self.sandbox = sandbox

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ContainerRecord:
        return cls(
            id=row["id"], name=row["name"], pod=row["pod"], image=row["image"], image_id=row["image_id"],
            runtime=row["runtime"], options=RunOptions.from_json(json.loads(row["options"])),
            phase=row["phase"], creator_pid=row["creator_pid"], created=row["created"],
            restarts=row["restarts"], sandbox=bool(row["sandbox"]),
        )


class ContainerStore:
    def __init__(self, data_root: Path) -> None:
        self.conn = db.connect(data_root / "containers.db", migrations=MIGRATIONS)
        # WAL + NORMAL still survives a killed process (the WAL is in the page cache); only a power
        # loss can lose the last records — and a power loss ends the containers they describe.
        # FULL would put three fsyncs on the path of every `dockyard run`.
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def insert(self, rec: ContainerRecord) -> None:
        try:
            with db.transaction(self.conn):
                self.conn.execute(
                    "INSERT INTO containers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (rec.id, rec.name, rec.pod, rec.image, rec.image_id, rec.runtime,
                     json.dumps(rec.options.to_json()), rec.phase, rec.creator_pid, rec.created,
                     rec.restarts, int(rec.sandbox)),
                )
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(f'container name "{rec.name}": already in use; remove that container '
                                "or choose another --name") from e

    def set_phase(self, cid: str, phase: str) -> None:
        with db.transaction(self.conn):
            self.conn.execute("UPDATE containers SET phase=? WHERE id=?", (phase, cid))

    def bump_restarts(self, cid: str) -> None:
        with db.transaction(self.conn):
            self.conn.execute("UPDATE containers SET restarts=restarts+1 WHERE id=?", (cid,))

    def rename(self, cid: str, new_name: str) -> None:
        try:
            with db.transaction(self.conn):
                self.conn.execute("UPDATE containers SET name=? WHERE id=?", (new_name, cid))
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(f'container name "{new_name}": already in use') from e

    def delete(self, cid: str) -> None:
        with db.transaction(self.conn):
            self.conn.execute("DELETE FROM containers WHERE id=?", (cid,))

    def list(self, *, include_sandboxes: bool = False) -> list[ContainerRecord]:
        rows = self.conn.execute("SELECT * FROM containers ORDER BY created DESC").fetchall()
        recs = [ContainerRecord.from_row(r) for r in rows]
        return recs if include_sandboxes else [r for r in recs if not r.sandbox]

    def in_pod(self, pod: str) -> list[ContainerRecord]:
        rows = self.conn.execute("SELECT * FROM containers WHERE pod=? ORDER BY created", (pod,)).fetchall()
        return [ContainerRecord.from_row(r) for r in rows]

    def get(self, ref: str) -> ContainerRecord:
        """By full id, unique id prefix, or name — docker's lookup order."""
        if not ref:
            raise InvalidArgument("container reference: empty; give a name or an id")
        row = self.conn.execute("SELECT * FROM containers WHERE id=? OR name=?", (ref, ref)).fetchone()
        if row is None and all(c in "0123456789abcdef" for c in ref):
            rows = self.conn.execute("SELECT * FROM containers WHERE id LIKE ?", (ref + "%",)).fetchall()
            if len(rows) > 1:
                raise InvalidArgument(f'container "{ref}": ambiguous id prefix; give more characters')
            row = rows[0] if rows else None
        if row is None:
            raise NotFound(f'container "{ref}": not found; `dockyard ps -a` lists containers')
        return ContainerRecord.from_row(row)

    def close(self) -> None:
        self.conn.close()
