"""The API server on a real etcd (``--datastore etcd://``): same behaviour as on SQLite."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
import requests

pytestmark = pytest.mark.e2e


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def etcd(tmp_path):
    binary = shutil.which("etcd")
    if binary is None:
        pytest.fail("etcd is not installed; apt-get install etcd-server")
    client, peer = _port(), _port()
    url = f"http://127.0.0.1:{client}"
    proc = subprocess.Popen([binary, "--data-dir", str(tmp_path / "etcd"), "--listen-client-urls", url,
                             "--advertise-client-urls", url, "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-cluster", f"default=http://127.0.0.1:{peer}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    yield f"etcd://127.0.0.1:{client}"
    proc.kill()
    proc.wait()


def test_crud_watch_and_kubectl_on_etcd(own_server, etcd) -> None:
    s = own_server("--datastore", etcd)
    base = s.url + "/api/v1/namespaces/default/configmaps"
    start = requests.get(base).json()["metadata"]["resourceVersion"]
    created = requests.post(base, json={"metadata": {"name": "a"}, "data": {"k": "1"}}).json()
    stale = {**created, "data": {"k": "2"}}
    assert requests.put(base + "/a", json=stale).status_code == 200
    assert requests.put(base + "/a", json=stale).status_code == 409  # CAS through an etcd txn
    requests.delete(base + "/a")
    with requests.get(base, params={"watch": "1", "resourceVersion": start, "timeoutSeconds": "1"},
                      stream=True) as r:
        events = [json.loads(line)["type"] for line in r.iter_lines() if line]
    assert events == ["ADDED", "MODIFIED", "DELETED"]
    s.kubectl("create", "secret", "generic", "pw", "--from-literal=p=topsecret")
    assert json.loads(s.kubectl("get", "secret", "pw", "-o", "json").stdout)["data"]["p"] == "dG9wc2VjcmV0"
    table = s.kubectl("get", "secret").stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "DATA", "AGE"] and table[1].split()[:3] == ["pw", "Opaque", "1"]
