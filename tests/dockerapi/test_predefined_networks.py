"""``docker network ls`` on a fresh data root lists bridge, host and none, as docker's does, with
stable ids and without making the bridge in the kernel; none of the three can be removed."""

from __future__ import annotations

import json
import re

from tests.dockerapi.daemonproc import Daemon


def _rows(daemon: Daemon) -> list[list[str]]:
    out = daemon.docker("network", "ls", "--format", "{{.ID}} {{.Name}} {{.Driver}} {{.Scope}}").stdout
    return [line.split() for line in out.splitlines()]


def test_fresh_root_lists_the_three_predefined_networks(daemon: Daemon) -> None:
    from dockyard.net import bridge

    rows = _rows(daemon)
    assert [r[1:] for r in rows] == [["bridge", "bridge", "local"], ["host", "host", "local"],
                                     ["none", "null", "local"]]
    assert all(re.fullmatch(r"[0-9a-f]{12}", r[0]) for r in rows)
    assert _rows(daemon) == rows  # stable ids
    assert not bridge.link_exists(daemon.net.instance)  # listing did not make the bridge

    docs = {d["Name"]: d for d in json.loads(daemon.docker("network", "inspect", "host", "none").stdout)}
    assert {n: (d["Driver"], d["Scope"], d["IPAM"]["Config"], d["Id"][:12]) for n, d in docs.items()} == {
        "host": ("host", "local", [], rows[1][0]), "none": ("null", "local", [], rows[2][0])}
    for name in ("bridge", "host", "none"):
        refused = daemon.docker("network", "rm", name, check=False)
        assert refused.returncode != 0
        assert f"{name} is a pre-defined network and cannot be removed" in refused.stderr
    daemon.docker("network", "prune", "-f")
    assert _rows(daemon) == rows
    assert not bridge.link_exists(daemon.net.instance)

    # the first use makes the bridge, under the id already listed
    daemon.docker("run", "--rm", "--network", "bridge", "busybox", "true")
    assert bridge.link_exists(daemon.net.instance)
    assert _rows(daemon) == rows


def test_leaving_the_first_network_points_dns_at_the_one_still_joined(daemon: Daemon) -> None:
    daemon.docker("network", "create", "r-one")
    daemon.docker("network", "create", "r-two")
    try:
        daemon.docker("run", "-d", "--name", "r-target", "--network", "r-two", "busybox", "sleep", "300")
        daemon.docker("run", "-d", "--name", "r-c", "--network", "r-one", "busybox", "sleep", "300")
        inode = daemon.docker("exec", "r-c", "stat", "-c", "%i", "/etc/resolv.conf").stdout
        daemon.docker("network", "connect", "r-two", "r-c")
        daemon.docker("network", "disconnect", "r-one", "r-c")
        two = json.loads(daemon.docker("network", "inspect", "r-two").stdout)[0]["IPAM"]["Config"][0]
        resolv = daemon.docker("exec", "r-c", "cat", "/etc/resolv.conf").stdout
        assert f"nameserver {two['Gateway']}" in resolv
        assert daemon.docker("exec", "r-c", "stat", "-c", "%i", "/etc/resolv.conf").stdout == inode
        target_ip = daemon.docker("inspect", "-f", '{{(index .NetworkSettings.Networks "r-two").IPAddress}}',
                                  "r-target").stdout.strip()
        answer = daemon.docker("exec", "r-c", "nslookup", "r-target").stdout
        assert target_ip and target_ip in answer.split("Name:", 1)[-1]
    finally:
        daemon.docker("rm", "-f", "r-c", "r-target", check=False)
        daemon.docker("network", "rm", "r-one", "r-two", check=False)
