"""Fixtures for networking tests: a private ``Net`` instance per test, swept afterwards.

Each test gets its own instance name (nft table ``ip dy…``, interface tag), its own bridge and a
random 10.2xx.y.0/24 subnet, and its DNS forwards only to a fake resolver on loopback; so tests run
in parallel with each other and with a real daemon, and no packet leaves the namespaces they make.
"""

from __future__ import annotations

import random
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.base.errors import Conflict


class FakeUpstream:
    """A UDP resolver on 127.0.0.1 that answers every A query with 192.0.2.99 (TEST-NET-1)."""

    ADDRESS = "192.0.2.99"

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from dockyard.net import dns

        while True:
            try:
                msg, addr = self.sock.recvfrom(4096)
            except OSError:
                return
            q = dns.parse_question(msg)
            if q is not None:
                self.queries.append(q[0])
                self.sock.sendto(dns.answer(msg, q[2], [self.ADDRESS], q[1]), addr)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fake_upstream() -> Iterator[FakeUpstream]:
    up = FakeUpstream()
    yield up
    up.close()


def stray(instance: str, netns_dir: Path) -> list[str]:
    """Everything of *instance* still in the kernel: the cleanup assertion of every test."""
    from dockyard.net import bridge, nat, procs

    left = [f"link {name}" for name in bridge.owned_links(instance)]
    if nat.exists(instance):
        left.append(f"nft table ip {instance}")
    if netns_dir.is_dir():
        left += [f"netns {p}" for p in netns_dir.iterdir()]
    with open("/proc/self/mountinfo") as f:
        left += [f"mount {line.split()[4]}" for line in f if str(netns_dir) in line]
    left += [f"pid {pid}" for m in ("proxy", "dns") for pid in procs.find(m, instance)]
    return left


@pytest.fixture
def make_net(data_root: Path, state_dir: Path, fake_upstream: FakeUpstream):
    """Factory for ``Net`` objects sharing this test's instance, bridge and subnet (a "restart")."""
    from dockyard.net import Net, NetConfig

    instance = f"dy{uuid.uuid4().hex[:8]}"
    made: list = []
    subnet = f"10.{random.randrange(200, 255)}.{random.randrange(0, 256)}.0/24"

    def factory(**kw: object):
        cfg = NetConfig(data_root=data_root, state_dir=state_dir, instance=instance,
                        default_subnet=subnet, default_bridge=instance,
                        dns_upstreams=(f"127.0.0.1:{fake_upstream.port}",), **kw)  # type: ignore[arg-type]
        net = Net(cfg)
        made.append(net)
        return net

    yield factory
    if made:
        from dockyard.net import nat

        made[-1].purge()
        for firewall in {n.config.firewall for n in made}:  # a test may have used both backends
            nat.drop(instance, firewall)
        assert stray(instance, state_dir / "netns") == []
    for net in made:
        net.close()


@pytest.fixture
def net(make_net):
    """A ``Net`` whose ``bridge`` network exists (retrying if its random subnet is taken)."""
    n = make_net()
    for _ in range(5):
        try:
            n.inspect_network("bridge")
            return n
        except Conflict:
            n = make_net(default_subnet=f"10.{random.randrange(200, 255)}.{random.randrange(0, 256)}.0/24")
    pytest.fail("no free test subnet found")


@pytest.fixture
def run_in():
    """``run_in(netns, *argv)``: run a command inside a namespace (``ip netns exec``'s job)."""
    from dockyard.net import sandbox

    def run(netns: Path, *argv: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, preexec_fn=sandbox.enter(netns), capture_output=True, text=True,
                              timeout=timeout)

    return run


@pytest.fixture
def start_in():
    """``start_in(netns, *argv)``: a background process inside a namespace, killed at teardown."""
    from dockyard.net import sandbox

    procs: list[subprocess.Popen[bytes]] = []

    def start(netns: Path, *argv: str) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(argv, preexec_fn=sandbox.enter(netns), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait()


def wait_port(ip: str, port: int, timeout: float = 5.0) -> None:
    """Poll until *ip*:*port* accepts a TCP connection (from the host namespace)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((ip, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@pytest.fixture
def httpd(start_in, tmp_path: Path):
    """``httpd(attachment)``: busybox httpd on port 80 in the pod, serving ``hello from <pod>``."""

    def start(att) -> str:
        www = tmp_path / f"www-{att.pod_id[:8]}"
        www.mkdir()
        body = f"hello from {att.pod_id[:8]}\n"
        (www / "index.html").write_text(body)
        start_in(att.netns_path, "busybox", "httpd", "-f", "-p", "80", "-h", str(www))
        wait_port(att.ip, 80)
        return body

    return start


@pytest.fixture
def outside(net, data_root: Path):
    """A namespace acting as a remote client: veth to the host, 10.2xx.y.2 → host side .1.

    Returns (netns path, host-side address).  Tagged with the test's instance, so the test's
    sweep removes it like any of our links.
    """
    from pyroute2 import IPRoute

    from dockyard.net import bridge, sandbox

    cfg = net.config
    ns = sandbox.create(cfg.netns_dir / "outside")
    host_if = f"dyo{uuid.uuid4().hex[:8]}"
    for _ in range(20):
        third = random.randrange(0, 256)
        host_ip, peer_ip = f"10.199.{third}.1", f"10.199.{third}.2"
        with IPRoute() as ipr:
            if not any(r.get("RTA_DST") == f"10.199.{third}.0" for r in ipr.get_routes(family=2)):
                break
    with IPRoute() as ipr:
        ipr.link("add", ifname=host_if, kind="veth", peer={"ifname": "eth0", "net_ns_fd": str(ns)})
        idx = ipr.link_lookup(ifname=host_if)[0]
        ipr.link("set", index=idx, ifalias=bridge.alias(cfg.instance, "test-outside"), state="up")
        ipr.addr("add", index=idx, address=host_ip, prefixlen=30)
    def configure(n: IPRoute) -> None:
        idx = n.link_lookup(ifname="eth0")[0]
        n.addr("add", index=idx, address=peer_ip, prefixlen=30)
        n.link("set", index=idx, state="up")
        n.route("add", dst="0.0.0.0/0", gateway=host_ip)

    sandbox.netlink(ns, configure)
    return ns, host_ip
