"""Issue #6 audit: the docker CLI verbs the other modules leave out (save/load/history/prune, events,
system df/prune, stats, port forms, network modes and aliases, a taken port)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.dockerapi.daemonproc import Daemon


def test_image_save_load_history_and_prune(daemon: Daemon, tmp_path: Path) -> None:
    daemon.docker("tag", "busybox", "audit/bb:1")
    rows = daemon.docker("history", "--format", "{{.CreatedBy}}", "audit/bb:1").stdout.splitlines()
    assert rows and all(isinstance(r, str) for r in rows)
    archive = tmp_path / "bb.tar"
    daemon.docker("save", "-o", str(archive), "audit/bb:1")
    assert archive.stat().st_size > 100_000
    daemon.docker("rmi", "audit/bb:1")
    assert "audit/bb" not in daemon.docker("images", "--format", "{{.Repository}}").stdout
    loaded = daemon.docker("load", "-i", str(archive)).stdout
    assert "audit/bb:1" in loaded
    assert daemon.docker("run", "--rm", "audit/bb:1", "echo", "loaded").stdout == "loaded\n"
    assert daemon.docker("image", "prune", "-f").returncode == 0
    assert "audit/bb" in daemon.docker("images", "--format", "{{.Repository}}").stdout  # tagged: kept
    daemon.docker("rmi", "audit/bb:1")


def test_events_stream_system_df_and_system_prune(daemon: Daemon) -> None:
    events = subprocess.Popen(["docker", "events", "--format", "{{json .}}", "--filter", "type=container"],
                              env=daemon.env, stdout=subprocess.PIPE, text=True)
    guard = threading.Timer(30, events.kill)  # a missing event fails the test instead of hanging it
    guard.start()
    try:
        time.sleep(0.3)  # the stream is open before the container exists
        daemon.docker("run", "--rm", "--name", "evt", "busybox", "true")
        seen: list[str] = []
        while "destroy" not in seen:
            line = events.stdout.readline()
            assert line, f"stream ended after {seen}"
            doc = json.loads(line)
            if doc["Actor"]["Attributes"].get("name") == "evt":
                seen.append(doc["Action"])
        assert seen[0] == "create" and {"start", "die"} <= set(seen)  # docker also sends attach
    finally:
        guard.cancel()
        events.kill()
        events.wait()
    df = daemon.docker("system", "df", "--format", "{{json .}}").stdout.splitlines()
    assert {json.loads(line)["Type"] for line in df} >= {"Images", "Containers", "Local Volumes"}
    daemon.docker("create", "--name", "stale", "busybox", "true")
    out = daemon.docker("system", "prune", "-f").stdout  # containers, networks, images, build cache
    assert "stale" not in daemon.docker("ps", "-a", "--format", "{{.Names}}").stdout
    assert "Total reclaimed space" in out


def test_stats_top_and_resize(daemon: Daemon) -> None:
    daemon.docker("run", "-d", "-t", "--name", "st", "busybox", "sleep", "300")
    try:
        row = json.loads(daemon.docker("stats", "--no-stream", "--format", "{{json .}}", "st").stdout)
        assert row["Name"] == "st" and row["PIDs"] == "1"
        import docker

        client = docker.DockerClient(base_url=f"unix://{daemon.sock}", version="auto")
        try:
            client.api.resize("st", height=33, width=101)
        finally:
            client.close()
        size = daemon.docker("exec", "st", "stty", "-F", "/proc/1/fd/0", "size").stdout
        assert size.split() == ["33", "101"]
    finally:
        daemon.docker("rm", "-f", "st")


def test_port_forms_udp_publish_all_and_network_modes(daemon: Daemon, free_port: int) -> None:
    daemon.docker("run", "-d", "--name", "ports", "-p", f"127.0.0.1:{free_port}:53/udp", "-P", "--expose", "8080",
                  "busybox", "sleep", "300")
    daemon.docker("run", "-d", "--name", "iso", "--network", "none", "busybox", "sleep", "300")
    try:
        ports = json.loads(daemon.docker("inspect", "-f", "{{json .NetworkSettings.Ports}}", "ports").stdout)
        assert ports["53/udp"][0] == {"HostIp": "127.0.0.1", "HostPort": str(free_port)}
        assert int(ports["8080/tcp"][0]["HostPort"]) > 0  # -P: a free host port
        assert daemon.docker("port", "ports", "8080/tcp").stdout.strip()
        assert daemon.docker("inspect", "-f", "{{.HostConfig.PublishAllPorts}}", "ports").stdout == "true\n"
        links = daemon.docker("exec", "iso", "ls", "/sys/class/net").stdout.split()
        assert links == ["lo"]
        # container:NAME shares the peer's namespace: the same interfaces and address
        mac = ["cat", "/sys/class/net/eth0/address"]
        peer = daemon.docker("run", "--rm", "--network", "container:ports", "busybox", *mac).stdout
        assert peer.strip() and peer == daemon.docker("exec", "ports", *mac).stdout
        # --network host: the host's interfaces (parallel tests add and remove veths meanwhile, so
        # only those present both before and after must be seen, and nothing outside either list)
        before = {p.name for p in Path("/sys/class/net").iterdir()}
        host = set(daemon.docker("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net").stdout.split())
        after = {p.name for p in Path("/sys/class/net").iterdir()}
        assert before & after <= host <= before | after, (host, before, after)
    finally:
        daemon.docker("rm", "-f", "ports", "iso")


def test_network_alias_connect_and_disconnect(daemon: Daemon) -> None:
    daemon.docker("network", "create", "aliasnet")
    daemon.docker("run", "-d", "--name", "aliased", "--network", "aliasnet", "--network-alias", "db",
                  "busybox", "sleep", "300")
    daemon.docker("run", "-d", "--name", "later", "busybox", "sleep", "300")
    try:
        ip = daemon.docker("inspect", "-f", "{{.NetworkSettings.Networks.aliasnet.IPAddress}}",
                           "aliased").stdout.strip()
        out = daemon.docker("run", "--rm", "--network", "aliasnet", "busybox", "nslookup", "db").stdout
        assert ip in out
        daemon.docker("network", "connect", "aliasnet", "later")
        nets = json.loads(daemon.docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", "later").stdout)
        assert "aliasnet" in nets
        later_ip = nets["aliasnet"]["IPAddress"]
        assert later_ip in daemon.docker("exec", "aliased", "nslookup", "later").stdout
        daemon.docker("network", "disconnect", "aliasnet", "later")
        nets = json.loads(daemon.docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", "later").stdout)
        assert "aliasnet" not in nets
    finally:
        daemon.docker("rm", "-f", "aliased", "later")
        daemon.docker("network", "rm", "aliasnet")


def test_a_taken_host_port_is_a_docker_error_and_leaves_nothing_running(daemon: Daemon, free_port: int) -> None:
    before = daemon.docker("ps", "-aq").stdout
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port))
        taken.listen()
        r = daemon.docker("run", "--rm", "-p", f"127.0.0.1:{free_port}:80", "busybox", "true", check=False)
    assert r.returncode == 125 and str(free_port) in r.stderr, r
    assert daemon.docker("ps", "-aq").stdout == before
    assert daemon.net.stray() == []  # no veth, netns, port proxy or DNAT rule left behind


def test_container_verbs_attach_restart_rename_and_prunes(daemon: Daemon) -> None:
    daemon.docker("run", "-d", "--name", "verbs", "-p", "127.0.0.1::80", "busybox", "sh", "-c",
                  "trap 'echo got-usr1' USR1; echo up; while true; do sleep 0.1; done")
    try:
        assert daemon.docker("port", "verbs", "80").stdout.startswith("127.0.0.1:")  # a free port, resolved
        daemon.docker("kill", "-s", "USR1", "verbs")
        daemon.docker("restart", "-t", "1", "verbs")
        daemon.docker("rename", "verbs", "verbs2")
        assert daemon.docker("inspect", "-f", "{{.State.Running}} {{.Name}}", "verbs2").stdout == "true /verbs2\n"
        assert "got-usr1" in daemon.docker("logs", "verbs2").stdout
    finally:
        daemon.docker("rm", "-f", "verbs", "verbs2", check=False)
    daemon.docker("run", "-d", "--name", "att", "busybox", "sh", "-c", "sleep 0.5; echo attached")
    assert daemon.docker("attach", "att").stdout == "attached\n"
    assert daemon.docker("start", "-a", "att").stdout == "attached\n"
    daemon.docker("volume", "create", "prunable")
    daemon.docker("container", "prune", "-f")
    assert "prunable" in daemon.docker("volume", "prune", "-af").stdout
    assert daemon.docker("ps", "-aq").stdout == "" and daemon.docker("volume", "ls", "-q").stdout == ""


def test_dns_is_honoured_and_flags_we_cannot_honour_are_refused(daemon: Daemon) -> None:
    out = daemon.docker("run", "--rm", "--dns", "192.0.2.53", "busybox", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 192.0.2.53" in out
    before = daemon.docker("ps", "-aq").stdout
    for flags in (["--add-host", "foo:192.0.2.1"], ["--ulimit", "nofile=100:100"], ["--pid", "host"],
                  ["--sysctl", "net.ipv4.ip_forward=1"], ["--dns-search", "example.org"]):
        r = daemon.docker("run", "--rm", *flags, "busybox", "true", check=False)
        assert r.returncode == 125 and "not supported by dockyard" in r.stderr, (flags, r.stderr)
    assert daemon.docker("ps", "-aq").stdout == before


def test_conflicts_are_docker_shaped(daemon: Daemon) -> None:
    from tests.dockerapi.test_raw_api import call

    daemon.docker("run", "-d", "--name", "busy", "busybox", "sleep", "300")
    try:
        r = daemon.docker("rm", "busy", check=False)
        assert r.returncode == 1 and "Error response from daemon" in r.stderr and "running" in r.stderr
        status, doc = call(daemon, "DELETE", "/v1.47/containers/busy")
        assert status == 409 and doc["message"]
        r = daemon.docker("rmi", "busybox", check=False)
        assert r.returncode == 1 and "conflict: unable to remove repository reference" in r.stderr
        status, _ = call(daemon, "DELETE", "/v1.47/images/busybox")
        assert status == 409
    finally:
        daemon.docker("rm", "-f", "busy")
