"""Server-side field validation in all three modes, malformed YAML bodies, and what lands on disk:
the SQLite store in WAL mode with synchronous=FULL, and Secrets encrypted there and absent from logs."""

from __future__ import annotations

import base64
import json
import sqlite3
import time

import pytest
import requests

from dockyard.cluster.store.sqlite import SqliteStore


def cm(name: str, **extra: object) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}, **extra}


@pytest.mark.e2e
def test_field_validation_warn_ignore_and_unsupported_mode(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    warned = requests.post(base, json=cm("warned", bogus=1), timeout=10)  # Warn is the server's default
    assert warned.status_code == 201 and warned.headers["Warning"] == '299 - "unknown field \\"bogus\\""'
    ignored = requests.post(base + "?fieldValidation=Ignore", json=cm("ignored", bogus=1), timeout=10)
    assert ignored.status_code == 201 and "Warning" not in ignored.headers
    for name in ("warned", "ignored"):  # dropped as decoding drops it, in both modes
        assert "bogus" not in requests.get(f"{base}/{name}", timeout=10).json()
    bad = requests.post(base + "?fieldValidation=Loose", json=cm("loose"), timeout=10)
    assert bad.status_code == 400 and 'Unsupported value: "Loose"' in bad.json()["message"]
    patched = requests.patch(f"{base}/warned?fieldValidation=Strict", data=json.dumps({"nope": 1}), timeout=10,
                             headers={"Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 400 and 'unknown field "nope"' in patched.json()["message"]


@pytest.mark.e2e
def test_malformed_yaml_is_400_and_nothing_is_stored(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    r = requests.post(base, data="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n", timeout=10,
                      headers={"Content-Type": "application/yaml"})
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest" and r.json()["kind"] == "Status"
    assert requests.get(base, timeout=10).json()["items"] == []


@pytest.mark.e2e
def test_sqlite_store_is_wal_full_sync_and_secrets_are_ciphertext_on_disk_and_never_logged(own_server) -> None:
    server = own_server()
    plain = "hunter2-" + server.root.name
    server.kubectl("create", "secret", "generic", "pw", f"--from-literal=password={plain}")
    assert json.loads(server.kubectl("get", "secret", "pw", "-o", "json").stdout)["data"]["password"] == \
        base64.b64encode(plain.encode()).decode()
    db = server.root / "cluster" / "store.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    time.sleep(0.1)
    server.kill()
    on_disk = b"".join(p.read_bytes() for p in db.parent.glob("store.db*"))
    assert b"k8s:enc:aesgcm:v1:key1:" in on_disk
    for needle in (plain.encode(), base64.b64encode(plain.encode())):
        assert needle not in on_disk
    assert server.proc is not None and server.proc.stderr is not None
    assert plain.encode() not in server.proc.stderr.read()


async def test_sqlite_store_connections_use_wal_and_synchronous_full(tmp_path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    await store.start()
    try:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync at every commit
    finally:
        await store.close()
