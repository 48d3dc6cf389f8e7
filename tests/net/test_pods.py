"""Pods on a bridge reach each other, resolve each other by name, and leave nothing behind."""

from __future__ import annotations

import pytest

from dockyard.base.errors import AlreadyExists
from dockyard.net import sandbox

pytestmark = pytest.mark.privileged


def test_two_pods_ping_and_http(net, httpd, run_in) -> None:
    a = net.attach("a" * 64, name="web")
    b = net.attach("b" * 64, name="client")
    assert a.netns_path is not None and sandbox.is_mounted(a.netns_path)
    assert a.ip != b.ip and a.gateway == b.gateway
    assert run_in(b.netns_path, "busybox", "ping", "-c1", "-W2", a.ip).returncode == 0
    body = httpd(a)
    got = run_in(b.netns_path, "busybox", "wget", "-qO-", f"http://{a.ip}/")
    assert got.stdout == body
    route = run_in(b.netns_path, "busybox", "ip", "route").stdout  # read-only look at the pod
    assert f"default via {a.gateway}" in route


def test_name_resolution_between_pods(net, run_in, fake_upstream) -> None:
    net.create_network("appnet", subnet=None)
    a = net.attach("c" * 64, network="appnet", name="db", aliases=["postgres"])
    b = net.attach("d" * 64, network="appnet", name="api")
    nameserver = b.resolv_conf.split()[1]
    assert nameserver == b.gateway
    for name in ("db", "postgres", "db.appnet"):
        out = run_in(b.netns_path, "busybox", "nslookup", name, nameserver).stdout
        assert f"Address: {a.ip}" in out, out
    # Anything else goes to the host's resolvers: here, the fake one on loopback.
    out = run_in(b.netns_path, "busybox", "nslookup", "example.test", nameserver).stdout
    assert f"Address: {fake_upstream.ADDRESS}" in out
    assert "example.test" in fake_upstream.queries


def test_none_network_has_only_loopback(net, run_in) -> None:
    a = net.attach("e" * 64, network="none")
    links = run_in(a.netns_path, "busybox", "ip", "-o", "link").stdout
    assert "lo:" in links and "eth0" not in links
    assert a.ip == ""


def test_host_network_has_no_namespace(net) -> None:
    assert net.attach("f" * 64, network="host").netns_path is None


def test_connect_and_disconnect(net, run_in) -> None:
    other = net.create_network("backend", labels={"team": "x"})
    a = net.attach("1" * 64, name="multi")
    addr = net.connect("backend", a.pod_id, aliases=["m"])
    assert net.inspect_network("backend").containers == {a.pod_id: addr}
    assert f"{addr}/" in run_in(a.netns_path, "busybox", "ip", "-o", "addr").stdout
    with pytest.raises(AlreadyExists):
        net.connect("backend", a.pod_id)
    net.disconnect("backend", a.pod_id)
    assert net.inspect_network("backend").containers == {}
    assert "eth1" not in run_in(a.netns_path, "busybox", "ip", "-o", "link").stdout
    assert other.labels == {"team": "x"}


def test_detach_releases_everything(net) -> None:
    from dockyard.net import bridge, ipam

    a = net.attach("2" * 64, name="gone", ports=["127.0.0.1::80"])
    host_if = bridge.host_ifname(net.config.instance, a.pod_id, "bridge")
    assert bridge.link_exists(host_if)
    net.detach(a.pod_id)
    net.detach(a.pod_id)  # idempotent
    assert not bridge.link_exists(host_if)
    assert not a.netns_path.exists()
    assert ipam.leases(net.ctx.store, "bridge") == {}
    assert net.ctx.store.ports() == []


CONCURRENT = """
import sys
from pathlib import Path
from dockyard.net import Net, NetConfig
cfg = NetConfig(data_root=Path(sys.argv[1]), state_dir=Path(sys.argv[2]), instance=sys.argv[3],
                default_subnet=sys.argv[4], default_bridge=sys.argv[3], dns_upstreams=(sys.argv[5],))
net = Net(cfg)
for i in range(3):
    net.attach(f"{sys.argv[6]}{i}".ljust(64, "0"), ports=["80"])
"""


def test_two_processes_attach_at_once(net) -> None:
    """A daemon and a daemonless CLI at the same time: unique addresses, every DNAT rule kept."""
    import subprocess
    import sys

    from dockyard.net import nat

    cfg = net.config
    argv = [sys.executable, "-c", CONCURRENT, str(cfg.data_root), str(cfg.state_dir), cfg.instance,
            cfg.default_subnet, cfg.dns_upstreams[0]]
    procs = [subprocess.Popen([*argv, who]) for who in ("a", "b")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    ips = [net.attachment(s.pod_id).ip for s in net.ctx.store.sandboxes()]
    assert len(ips) == 6 and len(set(ips)) == 6
    net.attach("c" * 64, ports=["127.0.0.1::80"])  # loopback-only: proxy, no DNAT rule
    assert nat.rules(cfg.instance).count("dnat to") == 6
    assert len(net.ctx.store.ports()) == 7
