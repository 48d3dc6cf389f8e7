"""Nothing stray after a crash, and what live pods miss comes back: reconcile from net.db."""

from __future__ import annotations

import os
import signal
import urllib.request

import pytest

from dockyard.net import bridge, ipam, nat, procs, sandbox
from tests.engine import netenv

pytestmark = pytest.mark.privileged


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def test_crash_leftovers_are_swept(net) -> None:
    """A daemon that died mid-way: the kernel has a pod the database no longer knows."""
    a = net.attach("a" * 64, name="lost", ports=["127.0.0.1::80", "81"])
    host_if = bridge.host_ifname(net.config.instance, a.pod_id, "bridge")
    with net.ctx.store.write() as c:  # the crash: the rows are gone, the kernel objects are not
        c.execute("DELETE FROM sandboxes")
    report = net.reconcile()
    assert not bridge.link_exists(host_if)
    assert not a.netns_path.exists() and not sandbox.is_mounted(a.netns_path)
    assert procs.find("proxy", net.config.instance) == {}
    assert "dnat to" not in nat.rules(net.config.instance)
    assert ipam.leases(net.ctx.store, "bridge") == {}
    assert any(r.startswith("link") for r in report.removed)


def test_dead_pods_are_torn_down(net) -> None:
    keep = net.attach("b" * 64)
    gone = net.attach("c" * 64, ports=["127.0.0.1::80"])
    net.reconcile(live={keep.pod_id})
    assert [s.pod_id for s in net.ctx.store.sandboxes()] == [keep.pod_id]
    assert not gone.netns_path.exists()
    assert set(ipam.leases(net.ctx.store, "bridge")) == {keep.ip}


def test_missing_pieces_of_live_pods_come_back(make_net, httpd) -> None:
    net = make_net()
    a = net.attach("d" * 64, name="web", ports=["127.0.0.1::80", "80"])
    body = httpd(a)
    loop_port = next(p for p in a.ports if p.host_ip == "127.0.0.1")
    host_if = bridge.host_ifname(net.config.instance, a.pod_id, "bridge")
    # Damage: proxy killed, host veth deleted, nft table flushed, the DNS process killed.
    netenv.kill(loop_port.proxy_pid)
    bridge.delete_link(host_if)
    nat.drop(net.config.instance)
    netenv.kill(net.ctx.store.dns_pid("bridge"))
    # A "restarted daemon": a new Net on the same data root reconciles.
    again = make_net()
    report = again.reconcile(live={a.pod_id})
    assert f"veth {host_if}" in report.restored
    assert get(f"http://127.0.0.1:{loop_port.host_port}/") == body
    assert "dnat to" in nat.rules(net.config.instance)
    assert procs.is_ours(again.ctx.store.dns_pid("bridge"), "dns", net.config.instance)
    # Same address after the restart, and a new pod does not get it.
    assert again.attachment(a.pod_id).ip == a.ip
    assert again.attach("e" * 64).ip != a.ip


def test_stray_netns_file_and_link_of_ours_are_removed(net) -> None:
    path = sandbox.create(net.config.netns_dir / "orphan")
    bridge.ensure_bridge("dyorphan0", "10.199.255.1", 30, instance=net.config.instance)
    report = net.reconcile()
    assert not path.exists()
    assert not bridge.link_exists("dyorphan0")
    assert "link dyorphan0" in report.removed


KILLED_ENGINE = """
import os, sys
from pathlib import Path
from dockyard.net import Net, NetConfig
cfg = NetConfig(data_root=Path(sys.argv[1]), state_dir=Path(sys.argv[2]), instance=sys.argv[3],
                default_subnet=sys.argv[4], default_bridge=sys.argv[3], dns_upstreams=(sys.argv[5],))
a = Net(cfg).attach("f" * 64, name="orphan", ports=["127.0.0.1::80"])
print(a.ports[0].host_port, flush=True)
os.kill(os.getpid(), 9)
"""


def test_engine_killed_mid_flight(net, tmp_path) -> None:
    """The process that attached a pod dies by SIGKILL: its proxy lives on; a restart sweeps it."""
    import subprocess
    import sys

    cfg = net.config
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_ENGINE, str(cfg.data_root), str(cfg.state_dir), cfg.instance,
         cfg.default_subnet, cfg.dns_upstreams[0]], capture_output=True, text=True, timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(procs.find("proxy", cfg.instance)) == 1  # outlived the engine, as shims do
    net.reconcile(live=set())  # the engine found no live pod "f…"
    assert procs.find("proxy", cfg.instance) == {}
    assert not (cfg.netns_dir / ("f" * 64)).exists()
    assert list(bridge.owned_links(cfg.instance)) == [cfg.default_bridge]


def test_lost_netns_file_of_a_running_pod_is_repinned(net, httpd) -> None:
    """The pin was unmounted (a reboot of /run, an admin) while the pod runs: re-pin its netns."""
    a = net.attach("9" * 64, name="web")
    httpd(a)
    pid = next(int(p) for p in os.listdir("/proc") if p.isdigit() and _in_netns(int(p), a.netns_path))
    sandbox.remove(a.netns_path)
    net.reconcile(live={a.pod_id: pid})
    assert sandbox.is_mounted(a.netns_path)
    assert _in_netns(pid, a.netns_path)  # the same namespace, not a new one
    assert get(f"http://{a.ip}/").startswith("hello")


def _in_netns(pid: int, path) -> bool:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(path).st_ino
    except OSError:
        return False
