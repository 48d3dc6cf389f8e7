"""docker-py's high-level API against ``dockyard serve``."""

from __future__ import annotations

import io

import docker
import pytest

from tests.dockerapi.daemonproc import Daemon


@pytest.fixture
def client(daemon: Daemon):
    c = docker.DockerClient(base_url=f"unix://{daemon.sock}", version="auto", timeout=60)
    yield c
    c.close()


def test_run_logs_and_remove(client) -> None:
    assert client.containers.run("busybox", ["echo", "from docker-py"], remove=True) == b"from docker-py\n"
    c = client.containers.run("busybox", ["sh", "-c", "echo a; echo b >&2"], detach=True, labels={"t": "py"})
    assert c.wait()["StatusCode"] == 0
    assert c.logs(stdout=True, stderr=False) == b"a\n" and c.logs(stdout=False, stderr=True) == b"b\n"
    assert [x.id for x in client.containers.list(all=True, filters={"label": "t=py"})] == [c.id]
    c.remove()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(c.id)


def test_exec_run_and_stats(client) -> None:
    c = client.containers.run("busybox", ["sleep", "300"], detach=True)
    try:
        c.reload()
        assert c.status == "running"
        code, out = c.exec_run(["sh", "-c", "echo $((1+2))"])
        assert (code, out) == (0, b"3\n")
        code, _ = c.exec_run(["false"])
        assert code == 1
        stats = c.stats(stream=False)
        assert stats["pids_stats"]["current"] >= 1 and stats["memory_stats"]["usage"] > 0
    finally:
        c.remove(force=True)


def test_images_build_and_list(client) -> None:
    dockerfile = b'FROM busybox\nRUN echo py > /py.txt\nCMD ["cat", "/py.txt"]\n'
    image, logs = client.images.build(fileobj=io.BytesIO(dockerfile), tag="py-built")
    assert "py-built:latest" in image.tags
    assert any("Successfully built" in line.get("stream", "") for line in logs)
    assert client.containers.run("py-built", remove=True) == b"py\n"
    assert any("busybox:latest" in i.tags for i in client.images.list())
    client.images.remove("py-built")


def test_networks_and_volumes_listed(client) -> None:
    names = {n.name for n in client.networks.list()}
    assert {"host", "none"} <= names
    v = client.volumes.create("pyvol")
    assert v.attrs["Driver"] == "local"
    v.remove()
