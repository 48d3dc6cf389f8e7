"""A private ``dockyard.net`` instance for engine and CLI tests, chosen through ``DOCKYARD_NET_*``.

Each test gets its own instance name (nft table, interface tag, helper processes), its own
bridge for the ``bridge`` network, a 10.2xx.y.0/24 subnet no host route uses, and a DNS upstream
on loopback where nothing listens; so tests run in parallel with each other, with tests/net and
with a real ``dockyard0``.  Teardown purges the instance and asserts nothing of it is left.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pyroute2 import IPRoute

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


@dataclass
class NetEnv:
    instance: str
    subnet: str
    data_root: Path
    state_dir: Path
    #: user networks' pool: eight /24s, so a test's networks (or one it left) never exhaust it
    pool: str = field(default_factory=lambda: free_subnet(21))

    @property
    def gateway(self) -> str:
        return str(next(ipaddress.IPv4Network(self.subnet).hosts()))

    def env(self) -> dict[str, str]:
        return {"DOCKYARD_NET_INSTANCE": self.instance, "DOCKYARD_NET_BRIDGE": self.instance,
                "DOCKYARD_NET_SUBNET": self.subnet, "DOCKYARD_NET_POOL": self.pool,
                "DOCKYARD_NET_DNS": "127.0.0.1:9"}

    def stray(self) -> list[str]:
        """Everything of this instance still in the kernel, besides the networks themselves."""
        from dockyard.net import bridge, procs

        left = [f"link {n}" for n in bridge.owned_links(self.instance) if n.startswith("dyv")]
        netns = self.state_dir / "netns"
        if netns.is_dir():
            left += [f"netns {p}" for p in netns.iterdir()]
        left += [f"proxy pid {pid}" for pid in procs.find("proxy", self.instance)]
        table = subprocess.run(["nft", "list", "table", "ip", self.instance], capture_output=True, text=True)
        left += [f"nft: {line.strip()}" for line in table.stdout.splitlines() if " dnat to " in line]
        return left

    def purge(self) -> list[str]:
        """Remove every network and pod of the instance; returns what is still left in the kernel."""
        from dockyard.net import Net, NetConfig, bridge, nat, procs

        cfg = NetConfig(data_root=self.data_root, state_dir=self.state_dir, instance=self.instance)
        net = Net(cfg)
        try:
            net.purge()
            nat.drop(self.instance, cfg.firewall)
        finally:
            net.close()
        left = [f"link {n}" for n in bridge.owned_links(self.instance)]
        left += [f"pid {pid}" for m in ("proxy", "dns") for pid in procs.find(m, self.instance)]
        if nat.exists(self.instance):
            left.append(f"nft table ip {self.instance}")
        return left


def free_subnet(prefix: int = 24) -> str:
    """A random 10.2xx.y.0/*prefix* (16 < prefix ≤ 24) that no host route overlaps."""
    with IPRoute() as ipr:
        routes = [ipaddress.IPv4Network(f"{r.get('RTA_DST')}/{r['dst_len']}", strict=False)
                  for r in ipr.get_routes(family=2) if r.get("RTA_DST") and r["dst_len"]]
    step = 1 << (24 - prefix)
    for _ in range(100):
        third = random.randrange(0, 256, step)
        net = ipaddress.IPv4Network(f"10.{random.randrange(200, 255)}.{third}.0/{prefix}")
        if not any(net.overlaps(r) for r in routes):
            return str(net)
    raise RuntimeError(f"no free 10.2xx.y.0/{prefix} test subnet")


def make(data_root: Path, state_dir: Path) -> NetEnv:
    return NetEnv(f"dy{uuid.uuid4().hex[:8]}", free_subnet(), data_root, state_dir)


def kill(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL *pid* and wait until it has exited (and let go of its sockets): a crash in the past."""
    import os
    import signal
    import time

    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)  # our child (a helper a test's own Net started)
        return
    except ChildProcessError:
        pass
    deadline = time.monotonic() + timeout  # someone else's child: gone once its parent reaps it
    while Path(f"/proc/{pid}").exists():
        stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}").exists() else ""
        if stat.rpartition(")")[2].split()[:1] == ["Z"] or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(host: str, port: int, path: str = "/", timeout: float = 10.0) -> str:
    """GET with retries while the server starts (connection refused/reset)."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=2) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
