"""Issue #6 audit: docker-py's high-level API doing what the docker CLI tests do (published port,
user network + names, ``docker cp``, ``logs -f``, ``rm -f``), and testcontainers waiting for a port."""

from __future__ import annotations

import io
import tarfile
import time
import urllib.request

import docker
import pytest

from tests.dockerapi.daemonproc import Daemon


@pytest.fixture
def client(daemon: Daemon):
    c = docker.DockerClient(base_url=f"unix://{daemon.sock}", version="auto", timeout=60)
    yield c
    c.close()


def _get(url: str) -> bytes:
    for _ in range(50):
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url}: no answer")


def test_dockerpy_port_network_names_archive_follow_and_force_remove(client, free_port: int) -> None:
    web = client.containers.run("busybox", ["httpd", "-f", "-p", "80", "-h", "/etc"], detach=True, name="pyweb",
                                ports={"80/tcp": ("127.0.0.1", free_port)})
    net = client.networks.create("pynet")
    peer = None
    try:
        assert _get(f"http://127.0.0.1:{free_port}/hostname")
        web.reload()
        assert web.ports["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(free_port)}]
        net.connect(web, aliases=["www"])
        ip = client.containers.get("pyweb").attrs["NetworkSettings"]["Networks"]["pynet"]["IPAddress"]
        peer = client.containers.run("busybox", ["sleep", "300"], detach=True, network="pynet")
        for name in ("pyweb", "www"):
            code, out = peer.exec_run(["nslookup", name])
            assert code == 0 and ip.encode() in out, out
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("note.txt")
            info.size = 5
            tar.addfile(info, io.BytesIO(b"hello"))
        assert peer.put_archive("/tmp", buf.getvalue())
        stream, stat = peer.get_archive("/tmp/note.txt")
        assert stat["name"] == "note.txt" and stat["size"] == 5
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            assert tar.extractfile("note.txt").read() == b"hello"
        talker = client.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo t$i; sleep 0.1; done"],
                                       detach=True)
        assert b"".join(talker.logs(stream=True, follow=True)) == b"t1\nt2\nt3\n"
        talker.remove()
    finally:
        for c in (web, peer):
            if c is not None:
                c.remove(force=True)  # running: rm -f
        net.remove()
    assert not client.containers.list(all=True, filters={"name": "pyweb"})
    with pytest.raises(docker.errors.NotFound):
        client.networks.get("pynet")


def test_testcontainers_waits_for_a_published_port(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    from testcontainers.core.config import ConnectionMode, testcontainers_config
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    monkeypatch.setenv("DOCKER_HOST", f"unix://{daemon.sock}")
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")  # no reaper image offline
    # This test itself may run inside a container, where testcontainers would dial the bridge
    # gateway; what a user on the host gets is the docker_host mode: the published port on loopback.
    monkeypatch.setattr(testcontainers_config, "connection_mode_override", ConnectionMode.docker_host)
    container = (DockerContainer("busybox")
                 .with_command(["sh", "-c", "echo starting; sleep 0.5; httpd -f -v -p 80 -h /etc"])
                 .with_exposed_ports(80).waiting_for(LogMessageWaitStrategy("starting").with_startup_timeout(30)))
    with container:
        host, port = container.get_container_host_ip(), int(container.get_exposed_port(80))
        assert _get(f"http://{host}:{port}/hostname")
    assert daemon.docker("ps", "-q").stdout == ""


def test_dockerpy_exec_inspect_and_resize_and_a_stats_stream(client) -> None:
    c = client.containers.run("busybox", ["sleep", "300"], detach=True)
    try:
        api = client.api
        exec_id = api.exec_create(c.id, ["sh", "-c", "sleep 1; stty size"], tty=True)["Id"]
        sock = api.exec_start(exec_id, tty=True, socket=True)
        for _ in range(50):  # a resize before the process runs is dropped (see the audit report)
            if api.exec_inspect(exec_id)["Running"]:
                break
            time.sleep(0.02)
        api.exec_resize(exec_id, height=24, width=91)
        out = b""
        raw = getattr(sock, "_sock", sock)
        while chunk := raw.recv(4096):
            out += chunk
        raw.close()
        assert out.split() == [b"24", b"91"]
        doc = api.exec_inspect(exec_id)
        assert (doc["Running"], doc["ExitCode"], doc["ContainerID"]) == (False, 0, c.id)
        samples = []
        for sample in c.stats(stream=True, decode=True):
            samples.append(sample)
            if len(samples) == 2:
                break
        assert all(s["pids_stats"]["current"] >= 1 for s in samples) and samples[1]["precpu_stats"]
    finally:
        c.remove(force=True)
