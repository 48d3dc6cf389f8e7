"""Issue #6 audit gaps in networking, through the real docker CLI and docker-py: ``network prune``
(and ``system prune``) removes unused user networks, names on a network added by ``network connect``
resolve, and ``-P`` does not publish a second time a port ``-p`` already binds."""

from __future__ import annotations

import json
from pathlib import Path

import docker

from tests.dockerapi.daemonproc import Daemon


def _networks(daemon: Daemon) -> set[str]:
    return set(daemon.docker("network", "ls", "--format", "{{.Name}}").stdout.split())


def test_network_prune_removes_unused_user_networks_with_filters(daemon: Daemon) -> None:
    for args in (["--label", "keep=1", "g-keep"], ["g-plain"], ["--label", "tier=old", "g-old"], ["g-used"]):
        daemon.docker("network", "create", *args)
    daemon.docker("create", "--name", "g-user", "--network", "g-used", "busybox", "true")  # stopped: still uses it
    out = daemon.docker("network", "prune", "-f", "--filter", "label!=keep").stdout
    assert "Deleted Networks:" in out and {"g-plain", "g-old"} <= set(out.split())
    assert {"g-keep", "g-used", "host", "none"} <= _networks(daemon)
    assert not {"g-plain", "g-old"} & _networks(daemon)

    client = docker.DockerClient(base_url=f"unix://{daemon.sock}", version="auto")
    try:
        assert client.networks.prune(filters={"until": "24h"}) == {"NetworksDeleted": None}  # made just now
        assert client.networks.prune(filters={"label": "keep=2"}) == {"NetworksDeleted": None}
        assert client.networks.prune(filters={"label": "keep=1"}) == {"NetworksDeleted": ["g-keep"]}
    finally:
        client.close()

    # system prune: the stopped container goes first, then the network it kept in use
    out = daemon.docker("system", "prune", "-f").stdout
    assert "g-used" in out.split()
    assert _networks(daemon) == {"bridge", "host", "none"}
    from dockyard.net import procs

    assert len(procs.find("dns", daemon.net.instance)) <= 1  # the pruned networks' DNS servers are gone
    daemon.docker("network", "create", "g-again")  # the pool has room again (and to spare)
    daemon.docker("network", "create", "g-again2")
    daemon.docker("network", "rm", "g-again", "g-again2")
    refused = daemon.docker("network", "rm", "bridge", check=False)
    assert refused.returncode != 0 and "bridge is a pre-defined network and cannot be removed" in refused.stderr


def test_names_on_a_connected_network_resolve(daemon: Daemon) -> None:
    daemon.docker("network", "create", "d-one")
    daemon.docker("network", "create", "d-two")
    try:
        daemon.docker("run", "-d", "--name", "d-a", "--network", "d-one", "busybox", "sleep", "300")
        daemon.docker("run", "-d", "--name", "d-b", "--network", "d-two", "--network-alias", "bee",
                      "busybox", "sleep", "300")
        daemon.docker("network", "connect", "--alias", "ay", "d-two", "d-a")
        b_ip = daemon.docker("inspect", "-f", '{{(index .NetworkSettings.Networks "d-two").IPAddress}}',
                             "d-b").stdout.strip()
        a_ip2 = daemon.docker("inspect", "-f", '{{(index .NetworkSettings.Networks "d-two").IPAddress}}',
                              "d-a").stdout.strip()
        # d-a's resolv.conf still names d-one's DNS; it answers for d-two's names too
        for name in ("d-b", "bee", "d-b.d-two"):
            assert b_ip in daemon.docker("exec", "d-a", "nslookup", name).stdout
        assert daemon.docker("exec", "d-a", "ping", "-c1", "-W5", "d-b").returncode == 0
        # and the other way round, as before
        assert a_ip2 in daemon.docker("exec", "d-b", "nslookup", "ay").stdout
    finally:
        daemon.docker("rm", "-f", "d-a", "d-b", check=False)
        daemon.docker("network", "rm", "d-one", "d-two", check=False)


def test_publish_all_skips_ports_that_p_binds(daemon: Daemon, free_port: int, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nEXPOSE 80 81/udp 82\n")
    daemon.docker("build", "-q", "-t", "gaps/exposed:1", str(tmp_path), timeout=120)
    try:
        daemon.docker("run", "-d", "--name", "p-run", "-P", "-p", f"127.0.0.1:{free_port}:80", "--expose", "82",
                      "gaps/exposed:1", "sleep", "300")
        ports = json.loads(daemon.docker("inspect", "-f", "{{json .NetworkSettings.Ports}}", "p-run").stdout)
        assert ports["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(free_port)}]
        assert len(ports["81/udp"]) == 1 and len(ports["82/tcp"]) == 1
        assert len(daemon.docker("port", "p-run").stdout.splitlines()) == 3
    finally:
        daemon.docker("rm", "-f", "p-run", check=False)
        daemon.docker("rmi", "gaps/exposed:1", check=False)
    assert daemon.net.stray() == []


def test_until_filter_forms() -> None:
    from dockyard.base.errors import InvalidArgument
    from dockyard.dockerapi.networks import parse_until

    now = 1_700_000_000.0
    assert parse_until("1699999000", now) == 1699999000.0
    assert parse_until("1h30m", now) == now - 5400
    assert parse_until("2023-11-14T22:13:20Z", now) == now
    try:
        parse_until("yesterday", now)
    except InvalidArgument as e:
        assert "until" in str(e)
    else:
        raise AssertionError("a bad until was accepted")
