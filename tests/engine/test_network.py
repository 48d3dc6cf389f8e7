"""Containers on networks through the engine's Python API: real netns, bridges, nftables, proxies.

Each test runs on a private ``dockyard.net`` instance (tests/engine/netenv.py); traffic goes only to
loopback and to the namespaces of the containers it starts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.base.errors import Conflict, NotFound
from dockyard.engine import logs, network
from dockyard.engine.engine import Engine
from dockyard.engine.options import RunOptions
from tests.engine import netenv

pytestmark = [pytest.mark.privileged, pytest.mark.e2e]

HTTPD = ["httpd", "-f", "-p", "80", "-h", "/etc"]  # serves /etc/hostname: who answered


@pytest.fixture
def env(data_root: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[netenv.NetEnv]:
    ne = netenv.make(data_root, state_dir)
    for k, v in {**ne.env(), "DOCKYARD_RUNTIME": "runc"}.items():
        monkeypatch.setenv(k, v)
    subprocess.run([netenv.DOCKYARD, "image", "bootstrap", "busybox"], check=True, capture_output=True)
    yield ne
    assert ne.purge() == []


@pytest.fixture
def engine(env: netenv.NetEnv) -> Iterator[Engine]:
    e = Engine(data_root=env.data_root, state_dir=env.state_dir)
    yield e
    for rec in e.list():
        e.remove(rec, force=True)
    assert env.stray() == []
    e.close()


def start(engine: Engine, **kw) -> object:
    rec = engine.create(RunOptions(image="busybox", **kw))
    engine.start(rec)
    return rec


def run(engine: Engine, *argv: str, **kw) -> tuple[int, str]:
    """Run a container to completion; its exit code and output."""
    rec = start(engine, command=list(argv), **kw)
    code = engine.wait(rec, timeout=30)
    out = "".join(line.text for line in logs.read(engine.log_path(rec.id)))
    engine.remove(rec, force=True)
    return code, out


def test_published_port_answers_on_loopback_and_through_dnat(engine: Engine, env: netenv.NetEnv) -> None:
    lo_port, gw_port = netenv.free_port(), netenv.free_port()
    web = start(engine, name="web", network="bridge", command=HTTPD,
                ports=[f"127.0.0.1:{lo_port}:80", f"{env.gateway}:{gw_port}:80/tcp"])
    hostname = web.id[:12]
    assert netenv.http_get("127.0.0.1", lo_port, "/hostname") == f"{hostname}\n"  # the userland proxy
    # Another container asks the gateway's published port: prerouting DNAT back onto the bridge.
    code, out = run(engine, "wget", "-qO-", f"http://{env.gateway}:{gw_port}/hostname", network="bridge")
    assert (code, out) == (0, f"{hostname}\n")
    ns = network.settings(engine, web)
    assert ns["Ports"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(lo_port)},
                                      {"HostIp": env.gateway, "HostPort": str(gw_port)}]}
    assert ns["Gateway"] == env.gateway and ns["Networks"]["bridge"]["IPAddress"] == ns["IPAddress"]
    assert sorted(network.ports_by_container(engine, [web])[web.id].split(", ")) == sorted(
        [f"127.0.0.1:{lo_port}->80/tcp", f"{env.gateway}:{gw_port}->80/tcp"])
    hosts = (engine.bundle(web.id) / "hosts").read_text()
    assert f"{ns['IPAddress']}\t{hostname}\n" in hosts
    engine.kill(web)  # stopped and started again: same namespace, same address, same port
    engine.wait(web, timeout=10)
    engine.start(web)
    assert netenv.http_get("127.0.0.1", lo_port, "/hostname") == f"{hostname}\n"
    assert network.settings(engine, web)["IPAddress"] == ns["IPAddress"]
    engine.remove(web, force=True)
    assert env.stray() == []  # no veth, netns, proxy or DNAT rule of the container
    with pytest.raises(OSError):
        netenv.http_get("127.0.0.1", lo_port, timeout=0)


def test_user_network_resolves_names_and_aliases_and_reuses_addresses(engine: Engine) -> None:
    subnet = netenv.free_subnet()
    engine_net = network.net(engine)
    engine_net.create_network("appnet", subnet=subnet)
    web = start(engine, name="web", network="appnet", network_aliases=["www"], command=HTTPD)
    ip = network.settings(engine, web)["IPAddress"]
    assert ip == subnet.replace(".0/24", ".2")
    code, out = run(engine, "sh", "-c", "nslookup web; wget -qO- http://www/hostname", network="appnet")
    assert code == 0, out
    assert f"Address: {ip}" in out and out.endswith(f"{web.id[:12]}\n")
    resolv = (engine.bundle(web.id) / "resolv.conf").read_text()
    assert resolv.startswith(f"nameserver {subnet.replace('.0/24', '.1')}")
    with pytest.raises(Conflict):  # in use
        engine_net.remove_network("appnet")
    engine.remove(web, force=True)
    again = start(engine, name="again", network="appnet", command=["sleep", "30"])
    assert network.settings(engine, again)["IPAddress"] == ip  # released on rm, handed out again
    fixed = start(engine, name="fixed", network="appnet", ip=subnet.replace(".0/24", ".9"), command=["sleep", "30"])
    assert network.settings(engine, fixed)["IPAddress"] == subnet.replace(".0/24", ".9")
    engine.remove(fixed, force=True)
    engine.remove(again, force=True)
    engine_net.remove_network("appnet")


def test_container_network_mode_joins_the_peer_namespace(engine: Engine) -> None:
    web = start(engine, name="web", network="bridge", command=HTTPD)
    probe = "readlink /proc/self/ns/net; wget -qO- http://127.0.0.1/hostname; cat /etc/resolv.conf"
    code, out = run(engine, "sh", "-c", probe, network="container:web")
    pid = engine.status(web).pid
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == str(Path(f"/proc/{pid}/ns/net").readlink())
    assert lines[1] == web.id[:12]
    assert "\n".join(lines[2:]) + "\n" == (engine.bundle(web.id) / "resolv.conf").read_text()


def test_failed_create_leaves_nothing(engine: Engine, env: netenv.NetEnv) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(Conflict, match=f"127.0.0.1:{port}/tcp: already in use"):
            engine.create(RunOptions(image="busybox", command=["true"], network="bridge",
                                     ports=[f"127.0.0.1:{port}:80"]))
    with pytest.raises(NotFound, match="nosuchnet"):
        engine.create(RunOptions(image="busybox", command=["true"], network="nosuchnet"))
    assert engine.list() == []
    assert env.stray() == []
    assert not list((env.data_root / "containers").glob("*"))


def test_sweep_reconciles_lost_and_orphaned_network_state(engine: Engine, env: netenv.NetEnv) -> None:
    from dockyard.net import procs, sandbox

    port = netenv.free_port()
    web = start(engine, name="web", network="bridge", command=HTTPD, ports=[f"127.0.0.1:{port}:80"])
    netenv.http_get("127.0.0.1", port, "/hostname")
    # A reboot-like loss: the pinned namespace file is gone while the container runs.
    sandbox.remove(env.state_dir / "netns" / web.id)
    # A crash-like orphan: a sandbox whose container record vanished.
    engine_net = network.net(engine)
    engine_net.attach("f" * 64, network="bridge")
    engine.sweep()
    assert engine_net.ctx.store.sandbox("f" * 64) is None
    assert sandbox.is_mounted(env.state_dir / "netns" / web.id)  # re-pinned from the running container
    # A killed proxy comes back with a forced reconcile (what a daemon does at start).
    (row,) = engine_net.ctx.store.ports(pod_id=web.id)
    procs.stop(row.proxy_pid, "proxy", env.instance)
    network.reconcile(engine, force=True)
    assert netenv.http_get("127.0.0.1", port, "/hostname") == f"{web.id[:12]}\n"
