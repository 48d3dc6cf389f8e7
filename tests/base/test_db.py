import multiprocessing
import os
import signal
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
