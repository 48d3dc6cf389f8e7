"""``dockyard network …`` and ``run -p/-P/--network`` end to end, as a user types them.

A private ``dockyard.net`` instance per test (tests/engine/netenv.py), passed to the CLI through
``DOCKYARD_NET_*``; traffic goes only to loopback and to the containers' own namespaces.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine import netenv

pytestmark = [pytest.mark.privileged, pytest.mark.e2e]


class Yard:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([netenv.DOCKYARD, *args], env=self.env, capture_output=True, text=True,
                              timeout=60, input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"dockyard {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc


@pytest.fixture
def yard(data_root: Path, state_dir: Path, tmp_path: Path) -> Iterator[tuple[Yard, netenv.NetEnv]]:
    ne = netenv.make(data_root, state_dir)
    y = Yard({**os.environ, **ne.env(), "DOCKYARD_RUNTIME": "runc"})
    y("image", "bootstrap", "busybox")
    yield y, ne
    ids = y("ps", "-aq", "--no-trunc", check=False).stdout.split()
    if ids:
        y("rm", "-f", *ids, check=False)
    assert ne.stray() == []
    assert ne.purge() == []


def test_network_verbs_ports_and_names(yard: tuple[Yard, netenv.NetEnv]) -> None:
    y, ne = yard
    subnet = netenv.free_subnet()
    net_id = y("network", "create", "--subnet", subnet, "--label", "team=a", "appnet").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", net_id)
    ls = y("network", "ls").stdout.splitlines()
    assert ls[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert ls[1].split() == [net_id[:12], "appnet", "bridge", "local"]
    assert [row.split()[1:] for row in ls[2:]] == [["bridge", "bridge", "local"], ["host", "host", "local"],
                                                   ["none", "null", "local"]]
    assert y("network", "ls", "-q").stdout.split() == [row.split()[0] for row in ls[1:]]
    (doc,) = json.loads(y("network", "inspect", "appnet").stdout)
    assert (doc["Id"], doc["IPAM"]["Config"][0]["Subnet"], doc["Labels"]) == (net_id, subnet, {"team": "a"})

    port = netenv.free_port()
    web = y("run", "-d", "--name", "web", "--network", "appnet", "-p", f"127.0.0.1:{port}:80",
            "busybox", "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()
    assert netenv.http_get("127.0.0.1", port, "/hostname") == f"{web[:12]}\n"
    ps = y("ps").stdout.splitlines()
    assert ps[0].index("PORTS") == ps[1].index(f"127.0.0.1:{port}->80/tcp")
    ip = y("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web").stdout.strip()
    assert ip == subnet.replace(".0/24", ".2")
    (doc,) = json.loads(y("network", "inspect", "appnet").stdout)
    assert doc["Containers"][web]["Name"] == "web" and doc["Containers"][web]["IPv4Address"] == f"{ip}/24"
    by_name = y("run", "--rm", "--network", "appnet", "busybox", "wget", "-qO-", "http://web/hostname")
    assert by_name.stdout == f"{web[:12]}\n"

    # a second network, joined while running, with an alias there
    y("network", "connect", "--alias", "api", "bridge", "web")
    assert "eth1" in y("exec", "web", "ls", "/sys/class/net").stdout.split()
    by_alias = y("run", "--rm", "--network", "bridge", "busybox", "wget", "-qO-", "http://api/hostname")
    assert by_alias.stdout == f"{web[:12]}\n"
    y("network", "disconnect", "bridge", "web")
    assert y("exec", "web", "ls", "/sys/class/net").stdout.split() == ["eth0", "lo"]

    busy = y("network", "rm", "appnet", check=False)
    assert busy.returncode == 1 and "active endpoints" in busy.stderr
    y("rm", "-f", "web")
    assert ne.stray() == []
    y("network", "create", "spare")
    assert y("network", "prune", "-f").stdout == "Deleted Networks:\nappnet\nspare\n"
    assert [line.split()[1] for line in y("network", "ls").stdout.splitlines()[1:]] == ["bridge", "host", "none"]


def test_publish_all_container_mode_and_bad_input(yard: tuple[Yard, netenv.NetEnv], tmp_path: Path) -> None:
    y, ne = yard
    (tmp_path / "Dockerfile").write_text("FROM busybox\nEXPOSE 80\n")
    y("build", "-q", "-t", "exposer", str(tmp_path))
    y("run", "-d", "--name", "web", "--network", "bridge", "-P", "exposer", "httpd", "-f", "-p", "80", "-h", "/etc")
    ports = json.loads(y("inspect", "-f", "{{.NetworkSettings.Ports}}", "web").stdout)
    (binding,) = ports["80/tcp"]
    assert binding["HostIp"] == "0.0.0.0" and int(binding["HostPort"]) > 0
    # the wildcard binding answers on loopback through its proxy
    assert netenv.http_get("127.0.0.1", int(binding["HostPort"]), "/hostname").strip() == y(
        "inspect", "-f", "{{.Id}}", "web").stdout.strip()[:12]
    shared = y("run", "--rm", "--network", "container:web", "busybox", "wget", "-qO-", "http://127.0.0.1/hostname")
    assert shared.stdout.strip() == y("inspect", "-f", "{{.Id}}", "web").stdout.strip()[:12]
    for bad, message in [
        (["--network", "nosuchnet"], "nosuchnet"),
        (["--network", "none", "-p", "8080:80"], "cannot be published"),
        (["--network", "bridge", "-p", "80:80:80:80"], "invalid"),
    ]:
        proc = y("run", "--rm", *bad, "busybox", "true", check=False)
        assert proc.returncode == 125, proc.stderr
        assert proc.stderr.startswith("Error: ") and proc.stderr.count("\n") == 1 and message in proc.stderr
    assert len(y("ps", "-aq").stdout.split()) == 1
    y("rm", "-f", "web")
    assert ne.stray() == []


def test_run_without_network_flag_joins_the_bridge_as_docker(yard: tuple[Yard, netenv.NetEnv]) -> None:
    y, ne = yard
    y.env.pop("DOCKYARD_NETWORK", None)  # the built-in default, not an override
    srv = y("run", "-d", "--name", "srv", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()
    assert y("inspect", "-f", "{{.HostConfig.NetworkMode}}", "srv").stdout.strip() == "bridge"
    ip = y("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "srv").stdout.strip()
    prefix = ne.subnet.rpartition(".")[0] + "."
    assert ip.startswith(prefix)
    mine = y("run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0").stdout
    assert f"inet {prefix}" in mine and ip not in mine
    # by address, as a docker user would on the default bridge (ours also resolves names there)
    assert y("run", "--rm", "busybox", "wget", "-qO-", f"http://{ip}/hostname").stdout == f"{srv[:12]}\n"
    y("rm", "-f", "srv")
    assert ne.stray() == []


def test_fresh_root_lists_the_predefined_networks_without_making_the_bridge(
        data_root: Path, state_dir: Path) -> None:
    from dockyard.net import bridge

    ne = netenv.make(data_root, state_dir)
    y = Yard({**os.environ, **ne.env()})
    try:
        ls = y("network", "ls").stdout.splitlines()
        assert ls[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
        rows = [row.split() for row in ls[1:]]
        assert [r[1:] for r in rows] == [["bridge", "bridge", "local"], ["host", "host", "local"],
                                         ["none", "null", "local"]]
        assert all(re.fullmatch(r"[0-9a-f]{12}", r[0]) for r in rows)
        assert y("network", "ls", "-q").stdout.split() == [r[0] for r in rows]  # the same ids each time
        assert not bridge.link_exists(ne.instance)  # listing is not a first use of the bridge
        (host,) = json.loads(y("network", "inspect", "host").stdout)
        assert (host["Name"], host["Driver"], host["IPAM"]["Config"], host["Id"][:12]) == (
            "host", "host", [], rows[1][0])
        for name in ("bridge", "host", "none"):
            refused = y("network", "rm", name, check=False)
            assert refused.returncode == 1 and f"{name} is a pre-defined network" in refused.stderr
        assert y("network", "prune", "-f").stdout == ""
        assert not bridge.link_exists(ne.instance)
        (br,) = json.loads(y("network", "inspect", "bridge").stdout)  # shown as it will be made
        assert br["Id"][:12] == rows[0][0] and br["IPAM"]["Config"][0]["Subnet"] == ne.subnet
        assert not bridge.link_exists(ne.instance)
    finally:
        assert ne.purge() == []
