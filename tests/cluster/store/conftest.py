"""Runs every store test against each backend: SQLite, and a real etcd started for the session."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dockyard.cluster.store import Store
from dockyard.cluster.store.etcd import EtcdStore
from dockyard.cluster.store.sqlite import SqliteStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def etcd_endpoint() -> Iterator[str]:
    etcd = shutil.which("etcd")
    if etcd is None:
        pytest.fail("etcd is not installed; apt-get install etcd-server")
    data = Path(tempfile.mkdtemp(prefix="dy-etcd-"))
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    proc = subprocess.Popen(
        [etcd, "--data-dir", str(data), "--listen-client-urls", url, "--advertise-client-urls", url,
         "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls",
         f"http://127.0.0.1:{peer}", "--initial-cluster", f"default=http://127.0.0.1:{peer}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        yield url
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", "etcd"])
async def store(request: pytest.FixtureRequest, tmp_path: Path, unique_name: str) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s: Store = SqliteStore(tmp_path / "store.db", history=50)
    else:
        s = EtcdStore(request.getfixturevalue("etcd_endpoint"))
    await s.start()
    s.prefix = f"/{unique_name}/"  # type: ignore[attr-defined]  # etcd is shared by the session
    try:
        yield s
    finally:
        await s.close()
