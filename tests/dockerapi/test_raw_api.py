"""Requests the clients never send but a daemon must survive: malformed JSON, unknown fields."""

from __future__ import annotations

import http.client
import json
import socket

from tests.dockerapi.daemonproc import Daemon


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def call(daemon: Daemon, method: str, path: str, body: bytes | None = None) -> tuple[int, dict | list]:
    conn = UnixHTTP(str(daemon.sock))
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data) if data else {}


def test_malformed_and_unknown_fields_are_400_and_nothing_is_created(daemon: Daemon) -> None:
    status, doc = call(daemon, "POST", "/v1.45/containers/create", b'{"Image": "busybox",')
    assert status == 400 and "malformed JSON" in doc["message"]
    status, doc = call(daemon, "POST", "/containers/create", json.dumps({"Image": "busybox", "Bogus": 1}).encode())
    assert status == 400 and "Bogus" in doc["message"]
    status, doc = call(daemon, "POST", "/containers/create",
                       json.dumps({"Image": "busybox", "HostConfig": {"Memroy": 1}}).encode())
    assert status == 400 and "Memroy" in doc["message"]
    assert call(daemon, "GET", "/containers/json?all=1") == (200, [])


def test_not_found_and_unknown_paths_are_docker_shaped(daemon: Daemon) -> None:
    status, doc = call(daemon, "GET", "/v1.47/containers/nope/json")
    assert status == 404 and doc["message"].startswith("No such container")
    status, doc = call(daemon, "GET", "/v1.47/images/nope:1/json")
    assert status == 404 and doc["message"].startswith("No such image")
    status, doc = call(daemon, "GET", "/v1.47/nothing/here")
    assert status == 404 and "message" in doc


def test_ping_and_info(daemon: Daemon) -> None:
    conn = UnixHTTP(str(daemon.sock))
    conn.request("GET", "/_ping")
    resp = conn.getresponse()
    assert resp.read() == b"OK" and resp.getheader("API-Version")
    status, info = call(daemon, "GET", "/v1.47/info")
    assert status == 200 and info["Images"] >= 1 and info["OSType"] == "linux"
