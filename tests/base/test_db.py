import multiprocessing
import os
import signal
import sqlite3
import time

from dockyard.base import db


def _writer(path, n):
    conn = db.connect(path, migrations=["CREATE TABLE t (i INTEGER)"])
    for i in range(n):
        with db.transaction(conn):
            conn.execute("INSERT INTO t VALUES (?)", (i,))
        with open(str(path) + ".ack", "a") as f:
            f.write(f"{i}\n")
            f.flush()


def test_migrations_run_once_and_in_order(tmp_path):
    path = tmp_path / "x.db"
    db.connect(path, migrations=["CREATE TABLE a (x)"]).close()
    conn = db.connect(path, migrations=["CREATE TABLE a (x)", "CREATE TABLE b (y); CREATE TABLE c (z)"])
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names == {"a", "b", "c"}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_acknowledged_writes_survive_sigkill(tmp_path):
    path = tmp_path / "k.db"
    p = multiprocessing.get_context("fork").Process(target=_writer, args=(path, 100_000))
    p.start()
    ack = tmp_path / "k.db.ack"
    while not ack.exists() or len(ack.read_text().splitlines()) < 50:
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    acked = len(ack.read_text().splitlines())
    conn = db.connect(path)
    stored = conn.execute("SELECT count(*) FROM t").fetchone()[0]
    assert stored >= acked
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_concurrent_first_opens_run_migrations_once(tmp_path):
    import threading

    path = tmp_path / "race.db"
    errors: list[BaseException] = []

    def open_it():
        try:
            db.connect(path, migrations=["CREATE TABLE a (x)", "CREATE TABLE b (y)"]).close()
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2


TRIGGER_SCHEMA = """
    CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT 'a;b');
    CREATE TABLE audit (note INTEGER, what TEXT);
    -- a comment; with a semicolon
    CREATE TRIGGER notes_audit AFTER INSERT ON notes BEGIN
        INSERT INTO audit VALUES (new.id, 'added; ' || new.body);
        INSERT INTO audit VALUES (new.id, "second; statement");
    END;
    INSERT INTO notes (body) VALUES ('x;y');
    INSERT INTO notes DEFAULT VALUES
"""


def test_migration_with_semicolons_in_literals_and_a_trigger_body(tmp_path):
    conn = db.connect(tmp_path / "t.db", migrations=[TRIGGER_SCHEMA])
    assert [r[0] for r in conn.execute("SELECT body FROM notes ORDER BY id")] == ["x;y", "a;b"]
    assert [tuple(r) for r in conn.execute("SELECT note, what FROM audit ORDER BY rowid")] == [
        (1, "added; x;y"), (1, "second; statement"), (2, "added; a;b"), (2, "second; statement")]
    # The trigger is a real one: it fires for writes after the migration too.
    conn.execute("INSERT INTO notes (body) VALUES ('z')")
    assert conn.execute("SELECT count(*) FROM audit WHERE note=3").fetchone()[0] == 2


def test_split_statements_keeps_each_statement_whole():
    assert db.split_statements("SELECT 'a;b'; SELECT 2") == ["SELECT 'a;b';", " SELECT 2;"]
    assert db.split_statements("SELECT 1;;  ;\n") == ["SELECT 1;"]
    assert db.split_statements("/* x; y */ SELECT 1;") == ["/* x; y */ SELECT 1;"]
    assert db.split_statements("SELECT 'open; end") == ["SELECT 'open; end"]


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path):
    path = tmp_path / "f.db"
    db.connect(path, migrations=["CREATE TABLE a (x)"]).close()
    bad = "CREATE TABLE b (y); INSERT INTO a VALUES ('it;s'); INSERT INTO nowhere VALUES (1)"
    try:
        db.connect(path, migrations=["CREATE TABLE a (x)", bad])
    except sqlite3.OperationalError as e:
        assert "nowhere" in str(e)
    else:
        raise AssertionError("the bad migration ran")
    conn = db.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")} == {"a"}
    assert conn.execute("SELECT count(*) FROM a").fetchone()[0] == 0
