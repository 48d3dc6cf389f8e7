"""``dockyard serve`` reconciles networking at start: after ``kill -9`` and damage done while no
daemon ran, a live container's published port answers again and a vanished one leaves nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from tests.dockerapi.daemonproc import Daemon
from tests.engine import netenv

# The engine forgets a container without releasing its network: what a crash mid-`rm` (or a lost
# containers.db row) leaves behind — a netns, a veth, an address, a DNAT rule, a port proxy.
FORGET = textwrap.dedent("""
    import sys
    from dockyard.engine import network
    from dockyard.engine.engine import Engine

    network.release = lambda engine, rec: None
    engine = Engine()
    engine.remove(engine.get(sys.argv[1]), force=True)
    engine.close()
""")


def _inspect(daemon: Daemon, fmt: str, name: str) -> str:
    return daemon.docker("inspect", "-f", fmt, name).stdout.strip()


def test_restart_restores_live_networking_and_sweeps_the_dead(daemon: Daemon) -> None:
    from dockyard.net import bridge, procs

    instance = daemon.net.instance
    live_port, dead_port = netenv.free_port(), netenv.free_port()
    httpd = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]
    daemon.docker("run", "-d", "--name", "srv", "-p", f"127.0.0.1:{live_port}:80", *httpd)
    daemon.docker("run", "-d", "--name", "gone", "-p", f"127.0.0.1:{dead_port}:80", *httpd)
    srv, gone = _inspect(daemon, "{{.Id}}", "srv"), _inspect(daemon, "{{.Id}}", "gone")
    gone_ip = _inspect(daemon, "{{.NetworkSettings.IPAddress}}", "gone")
    assert netenv.http_get("127.0.0.1", live_port, "/hostname") == f"{srv[:12]}\n"

    daemon.kill(signal.SIGKILL)
    subprocess.run([sys.executable, "-c", FORGET, gone], env=daemon.env, check=True, capture_output=True)
    # and the host loses a live container's pieces: its veth, every port proxy
    bridge.delete_link(bridge.host_ifname(instance, srv, "bridge"))
    for pid in procs.find("proxy", instance):
        netenv.kill(pid)
    with pytest.raises(OSError):
        netenv.http_get("127.0.0.1", live_port, "/hostname", timeout=0)

    daemon.start()
    assert netenv.http_get("127.0.0.1", live_port, "/hostname") == f"{srv[:12]}\n"
    assert daemon.docker("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["srv"]
    assert not bridge.link_exists(bridge.host_ifname(instance, gone, "bridge"))
    assert not (daemon.state / "netns" / gone).exists()
    assert f" dnat to {gone_ip}:" not in subprocess.run(["nft", "list", "table", "ip", instance],
                                                        capture_output=True, text=True).stdout
    with pytest.raises(OSError):
        netenv.http_get("127.0.0.1", dead_port, "/", timeout=0)
    daemon.docker("rm", "-f", "srv")
    assert daemon.net.stray() == []
