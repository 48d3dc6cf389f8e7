"""Published ports answer through the loopback proxy and through kernel DNAT; conflicts are clean."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request

import pytest

from dockyard.base.errors import Conflict
from dockyard.net import bridge, nat, procs

pytestmark = pytest.mark.privileged


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def test_loopback_and_dnat_paths(net, httpd, outside, run_in) -> None:
    a = net.attach("a" * 64, name="web", ports=["80"])  # -p 80: a free host port on all addresses
    body = httpd(a)
    (port,) = [p.host_port for p in a.ports]
    assert get(f"http://127.0.0.1:{port}/") == body  # userland proxy
    assert f"dport {port} dnat to {a.ip}:80" in nat.rules(net.config.instance)
    ns, host_ip = outside
    # From another namespace, to the host's address: prerouting DNAT, forwarded to the pod.
    got = run_in(ns, "busybox", "wget", "-qO-", f"http://{host_ip}:{port}/")
    assert got.stdout == body, got.stderr
    assert get(f"http://{host_ip}:{port}/") == body  # host to its own address: output-chain DNAT
    # A sibling pod through the published port on the gateway (hairpin: DNAT + masquerade).
    b = net.attach("9" * 64)
    assert run_in(b.netns_path, "busybox", "wget", "-qO-", f"http://{b.gateway}:{port}/").stdout == body


def test_bound_to_loopback_only(net, httpd, outside, run_in) -> None:
    a = net.attach("b" * 64, ports=["127.0.0.1::80"])
    body = httpd(a)
    port = a.ports[0].host_port
    assert get(f"http://127.0.0.1:{port}/") == body
    assert f"dport {port}" not in nat.rules(net.config.instance)
    ns, host_ip = outside
    assert run_in(ns, "busybox", "wget", "-qO-", "-T", "2", f"http://{host_ip}:{port}/").returncode != 0


def test_udp_through_the_proxy(net, start_in) -> None:
    a = net.attach("c" * 64, ports=["127.0.0.1::7/udp"])
    echo = ("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 7))\n"
            "while True: d, a = s.recvfrom(100); s.sendto(d, a)")
    start_in(a.netns_path, sys.executable, "-c", echo)
    port = a.ports[0].host_port
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        for _ in range(20):  # the echo server may not be up yet: retry the datagram
            s.sendto(b"ping", ("127.0.0.1", port))
            try:
                assert s.recvfrom(100)[0] == b"ping"
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("no UDP echo through the proxy")
    finally:
        s.close()


def test_port_in_use_is_a_clear_error_and_nothing_is_left(net) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        with pytest.raises(Conflict, match=f"127.0.0.1:{port}/tcp: already in use"):
            net.attach("d" * 64, ports=["127.0.0.1::81", f"127.0.0.1:{port}:80"])
    finally:
        holder.close()
    assert net.ctx.store.sandboxes() == [] and net.ctx.store.ports() == []
    assert net.inspect_network("bridge").containers == {}
    cfg = net.config
    assert list(bridge.owned_links(cfg.instance)) == [cfg.default_bridge]  # no veth left
    assert procs.find("proxy", cfg.instance) == {}  # the first port's proxy was stopped
    assert list(cfg.netns_dir.iterdir()) == []
    assert "dnat to" not in nat.rules(cfg.instance)


def test_publish_all(net) -> None:
    a = net.attach("e" * 64, publish_all=["80/tcp", "53/udp"])
    assert {(p.proto, p.container_port) for p in a.ports} == {("tcp", 80), ("udp", 53)}
    assert all(p.host_port > 0 for p in a.ports)


def test_iptables_fallback(make_net, httpd, outside, run_in) -> None:
    """Hosts without nft: the same rules as chains of our own, and none left afterwards."""
    from dockyard.net import iptables

    before = _nft_tables()
    net = make_net(firewall="iptables")
    a = net.attach("f" * 64, ports=["80"])
    body = httpd(a)
    port = a.ports[0].host_port
    assert f"--dport {port} -j DNAT --to-destination {a.ip}:80" in iptables.rules(net.config.instance)
    ns, host_ip = outside
    assert run_in(ns, "busybox", "wget", "-qO-", f"http://{host_ip}:{port}/").stdout == body
    net.purge()
    assert iptables.rules(net.config.instance) == ""
    # iptables-nft made the shared ``ip nat``/``ip filter`` tables for us: remove them if still empty.
    for table in ({"nat", "filter"} & _nft_tables()) - before:
        listing = json.loads(subprocess.run(["nft", "-j", "list", "table", "ip", table],
                                            capture_output=True, text=True, check=True).stdout)
        if not any("rule" in item for item in listing["nftables"]):
            subprocess.run(["nft", "delete", "table", "ip", table], check=True)


def _nft_tables() -> set[str]:
    out = json.loads(subprocess.run(["nft", "-j", "list", "tables", "ip"], capture_output=True, text=True,
                                    check=True).stdout)
    return {item["table"]["name"] for item in out["nftables"] if "table" in item}
