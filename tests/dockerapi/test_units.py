"""Unit tests: create-body translation, config files, and the app's error shapes (no engine calls)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dockyard.base.errors import InvalidArgument
from dockyard.dockerapi import config, translate
from dockyard.dockerapi.app import make_app
from dockyard.dockerapi.backend import Backend, Settings


def _plan(body: dict, tmp_path: Path) -> translate.Plan:
    return translate.plan(body, name="/web", volume_dir=lambda v: tmp_path / v)


def test_create_body_becomes_run_options(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    plan = _plan({"Image": "busybox", "Cmd": ["echo", "hi"], "Entrypoint": [""], "Env": ["A=1"], "Tty": True,
                  "HostConfig": {"Binds": [f"{tmp_path}/src:/data:ro", "vol1:/v"], "Memory": 64 << 20,
                                 "NanoCpus": 500_000_000, "PidsLimit": 0, "CapDrop": ["NET_RAW"],
                                 "Tmpfs": {"/run": "size=1m"}, "NetworkMode": "host", "AutoRemove": True}},
                 tmp_path)
    o = plan.options
    assert (o.name, o.command, o.entrypoint, o.env, o.tty) == ("web", ["echo", "hi"], [], ["A=1"], True)
    assert o.volumes == [f"{tmp_path}/src:/data:ro", f"{tmp_path}/vol1:/v:rw"] and plan.volumes == ["vol1"]
    assert (o.memory, o.cpus, o.pids_limit, o.cap_drop) == (64 << 20, 0.5, None, ["NET_RAW"])
    assert (o.tmpfs, o.network, o.auto_remove) == (["/run:size=1m"], "host", True)


@pytest.mark.parametrize(("body", "message"), [
    ({"Cmd": ["true"]}, "Image is required"),
    ({"Image": "busybox", "Bogus": 1}, "unknown field 'Bogus'"),
    ({"Image": "busybox", "HostConfig": {"Privileged": True}}, "Privileged"),
    ({"Image": "busybox", "HostConfig": {"Binds": ["/no/such/dir:/x"]}}, "does not exist"),
    ({"Image": "busybox", "Cmd": "x", "Env": [1]}, "Env"),
])
def test_bad_create_bodies_are_refused(tmp_path: Path, body: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        _plan(body, tmp_path)


def test_config_file_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "dockyard.toml"
    path.write_text('[daemon]\ndata-root = "/srv/dy"\nsocket = "/srv/dy.sock"\n'
                    '[registry]\nlisten = "127.0.0.1:5001"\n[registries]\nmirrors = ["https://m"]\n')
    cfg = config.load(path, socket=tmp_path / "flag.sock")
    assert cfg.data_root == Path("/srv/dy") and cfg.socket == tmp_path / "flag.sock"
    assert cfg.registry_listen == "127.0.0.1:5001" and cfg.mirrors == ["https://m"]
    path.write_text("[nonsense]\n")
    with pytest.raises(InvalidArgument, match="unknown section"):
        config.load(path)


async def test_ping_version_and_docker_shaped_errors(tmp_path: Path) -> None:
    backend = Backend(Settings(tmp_path / "root", tmp_path / "state"))
    async with TestClient(TestServer(make_app(backend))) as client:
        resp = await client.get("/_ping")
        assert await resp.text() == "OK" and resp.headers["API-Version"]
        resp = await client.get("/v1.41/version")
        assert (await resp.json())["ApiVersion"]
        resp = await client.post("/v1.47/containers/create", data=b"{not json")
        assert resp.status == 400 and resp.headers["Content-Type"] == "application/json"
        assert "malformed JSON" in (await resp.json())["message"]
        resp = await client.get("/v1.47/nowhere")
        assert resp.status == 404 and "message" in await resp.json()
    backend.close()
