"""What a bridge costs a container: start-up time, and HTTP throughput through published ports.

Start-up (no extra tools):
* ``dockyard run --rm busybox true`` on the default network (``bridge``) vs ``--network none``;
* importing the netlink client we use (``pyroute2.iproute.linux``, :mod:`dockyard.net.netlink`)
  vs ``import pyroute2`` (a whole interpreter start each);
* ``Net.attach`` + ``detach`` of a pod (netns, veth, address, no port) vs the same steps with
  iproute2 (``ip netns add``, ``ip link add … type veth``, …), as a shell CNI plugin would.

Throughput: HTTP requests/s to busybox httpd in a pod, through a published port vs the pod's own
address.

Two comparisons, each measured side by side with wrk (``apt-get install wrk``):
* DNAT path — wrk in a second namespace acting as an outside client, to ``host_ip:PORT``
  (prerouting DNAT, forwarded to the bridge) vs the same client to ``pod_ip:80`` (forwarded, no
  NAT).  Target: >= 0.8x direct.
* loopback proxy path — wrk on the host to ``127.0.0.1:PORT`` (the userland proxy) vs the host
  to ``pod_ip:80``.  No target (docker-proxy is known to be slower than DNAT; we report it).
  busybox httpd listens with a tiny backlog, and the proxy's bursts of upstream connects overflow
  it now and then (ListenDrops in the pod), so this path also measures some 1 s SYN retries.

Every packet stays on loopback or in namespaces made here; everything is purged at the end.

    .venv/bin/python bench/run.py net
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import Result, median_time, time_command

DOCKYARD = str(Path(sys.executable).parent / "dockyard")

SECONDS = 3
CONNECTIONS = 16
ROUNDS = 3  # each pair measured alternately ROUNDS times; medians reported


def _wrk(url: str, netns: Path | None) -> float:
    from dockyard.net import sandbox

    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=SECONDS * 4,
                         preexec_fn=sandbox.enter(netns) if netns else None).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"wrk: no figure in output:\n{out}")
    return float(m.group(1))


def _pair(reference: tuple[str, Path | None], ours: tuple[str, Path | None]) -> tuple[float, float]:
    refs, mine = [], []
    for _ in range(ROUNDS):
        refs.append(_wrk(*reference))
        mine.append(_wrk(*ours))
    return statistics.median(refs), statistics.median(mine)


def _outside(cfg, instance: str, name: str) -> tuple[Path, str]:
    from pyroute2 import IPRoute

    from dockyard.net import bridge, sandbox

    ns = sandbox.create(cfg.netns_dir / name)
    host_if = f"dyo{uuid.uuid4().hex[:8]}"
    third = random.randrange(0, 256)
    host_ip, peer_ip = f"10.198.{third}.1", f"10.198.{third}.2"
    with IPRoute() as ipr:
        ipr.link("add", ifname=host_if, kind="veth", peer={"ifname": "eth0", "net_ns_fd": str(ns)})
        idx = ipr.link_lookup(ifname=host_if)[0]
        ipr.link("set", index=idx, ifalias=bridge.alias(instance, "bench-outside"), state="up")
        ipr.addr("add", index=idx, address=host_ip, prefixlen=30)
    def configure(n: IPRoute) -> None:
        idx = n.link_lookup(ifname="eth0")[0]
        n.addr("add", index=idx, address=peer_ip, prefixlen=30)
        n.link("set", index=idx, state="up")
        n.route("add", dst="0.0.0.0/0", gateway=host_ip)

    sandbox.netlink(ns, configure)
    return ns, host_ip


def run() -> list[Result]:
    results = _startup()
    if shutil.which("wrk") is None:
        print("bench_net: HTTP figures skipped: wrk is not installed (apt-get install -y wrk)")
        return results
    return results + _http()


def _private(tmp: Path) -> tuple[dict[str, str], object]:
    """Environment for the CLI and a NetConfig, both on a private instance with its own subnet."""
    from dockyard.net import NetConfig

    instance = f"dyb{uuid.uuid4().hex[:6]}"
    subnet = f"10.{random.randrange(200, 255)}.{random.randrange(256)}.0/24"
    env = {**os.environ, "DOCKYARD_ROOT": str(tmp / "root"), "DOCKYARD_STATE": str(tmp / "state"),
           "DOCKYARD_NET_INSTANCE": instance, "DOCKYARD_NET_BRIDGE": instance, "DOCKYARD_NET_SUBNET": subnet,
           "DOCKYARD_NET_DNS": "127.0.0.1:9"}
    env.pop("DOCKYARD_NETWORK", None)
    cfg = NetConfig(data_root=tmp / "root", state_dir=tmp / "state", instance=instance, default_subnet=subnet,
                    default_bridge=instance, dns_upstreams=("127.0.0.1:9",))
    return env, cfg


def _startup() -> list[Result]:
    from dockyard.net import Net

    tmp = Path(tempfile.mkdtemp(prefix="dy-bench-netrun-"))
    env, cfg = _private(tmp)
    net = Net(cfg)  # type: ignore[arg-type]
    try:
        subprocess.run([DOCKYARD, "image", "bootstrap", "busybox"], env=env, check=True, capture_output=True)
        bridge_run = time_command([DOCKYARD, "run", "--rm", "busybox", "true"], env=env, runs=15, warmup=2)
        none_run = time_command([DOCKYARD, "run", "--rm", "--network", "none", "busybox", "true"], env=env,
                                runs=15, warmup=2)
        ours_import = time_command([sys.executable, "-c", "from dockyard.net import netlink; netlink.iproute().close()"],
                                   runs=15)
        full_import = time_command([sys.executable, "-c", "import pyroute2; pyroute2.IPRoute().close()"], runs=15)
        net.inspect_network("bridge")
        pods = iter(f"{i:064x}" for i in range(1000))
        attach = median_time(lambda: net.detach(net.attach(next(pods)).pod_id), runs=15)
        ip = median_time(lambda: _iproute2_pod(cfg), runs=15)
    finally:
        net.purge()
        net.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return [
        Result("run --rm busybox true (default bridge)", bridge_run, none_run, "--network none"),
        Result("import netlink client + open a socket", ours_import, full_import, "import pyroute2"),
        Result("pod attach+detach (netns, veth, address)", attach, ip, "iproute2 commands"),
    ]


def _iproute2_pod(cfg) -> None:
    """The reference: the same netns + veth + address + route, made and removed with ``ip``."""
    ns, host = f"dybref{os.getpid()}", f"dyr{os.getpid()}"
    gw = cfg.default_subnet.replace(".0/24", ".1")
    steps = [["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"],
             ["ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns],
             ["ip", "link", "set", host, "master", cfg.default_bridge, "up"],
             ["ip", "-n", ns, "addr", "add", cfg.default_subnet.replace(".0/24", ".200/24"), "dev", "eth0"],
             ["ip", "-n", ns, "link", "set", "eth0", "up"],
             ["ip", "-n", ns, "route", "add", "default", "via", gw],
             ["ip", "link", "del", host], ["ip", "netns", "del", ns]]
    try:
        for argv in steps:
            subprocess.run(argv, check=True)
    except BaseException:
        subprocess.run(["ip", "link", "del", host], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        raise


def _http() -> list[Result]:
    from dockyard.net import Net, NetConfig, sandbox

    tmp = Path(tempfile.mkdtemp(prefix="dy-bench-net-"))
    instance = f"dyb{uuid.uuid4().hex[:6]}"
    cfg = NetConfig(data_root=tmp / "root", state_dir=tmp / "state", instance=instance,
                    default_subnet=f"10.{random.randrange(200, 255)}.{random.randrange(256)}.0/24",
                    default_bridge=instance, dns_upstreams=("127.0.0.1:9",))
    net = Net(cfg)
    httpd = None
    try:
        pod = net.attach("b" * 64, name="web", ports=["80"])
        www = tmp / "www"
        www.mkdir()
        (www / "index.html").write_text("hello\n" * 100)
        httpd = subprocess.Popen(["busybox", "httpd", "-f", "-p", "80", "-h", str(www)],
                                 preexec_fn=sandbox.enter(pod.netns_path))
        time.sleep(0.3)
        port = pod.ports[0].host_port
        # One client namespace per path: a client reusing a source port for the other path would
        # collide with the earlier flow's conntrack entry (still in TIME_WAIT) and measure that.
        ns_direct, _ = _outside(cfg, instance, "client-direct")
        ns_dnat, host_ip = _outside(cfg, instance, "client-dnat")
        direct_out, dnat = _pair((f"http://{pod.ip}/", ns_direct), (f"http://{host_ip}:{port}/", ns_dnat))
        direct_host, proxy = _pair((f"http://{pod.ip}/", None), (f"http://127.0.0.1:{port}/", None))
    finally:
        if httpd is not None:
            httpd.kill()
            httpd.wait()
        net.purge()
        net.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return [
        Result("http via published port (DNAT, outside ns)", dnat, direct_out, "pod ip direct",
               unit="req/s", lower_is_better=False, target="target >= 0.8x"),
        Result("http via 127.0.0.1 port (userland proxy)", proxy, direct_host, "pod ip direct",
               unit="req/s", lower_is_better=False, target="(reported)"),
    ]
