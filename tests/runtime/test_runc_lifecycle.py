"""create/start/state/kill/delete/run/list/exec through the real CLI, as the engine drives it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.privileged


def test_run_prints_and_returns_exit_code(runtime):
    b = runtime.bundle(["sh", "-c", "echo hello; hostname; exit 7"])
    res = runtime.run(b)
    assert res.returncode == 7, res.stderr
    assert res.stdout.split() == ["hello", "dockyard"]


def test_create_start_state_kill_delete(runtime, tmp_path):
    b = runtime.bundle(["sleep", "60"])
    cid = runtime.new_id()
    pid_file = tmp_path / "init.pid"
    runtime("create", "--bundle", str(b), "--pid-file", str(pid_file), cid, check=True)
    state = json.loads(runtime("state", cid, check=True).stdout)
    assert state["status"] == "created"
    assert state["pid"] == int(pid_file.read_text()) > 0
    assert state["bundle"] == str(b) and state["id"] == cid
    assert set(state) >= {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"}
    # The init waits on the exec fifo: it is not yet running the container's program.
    assert Path(f"/proc/{state['pid']}/cmdline").read_bytes().split(b"\0")[0] != b"sleep"
    runtime("start", cid, check=True)
    assert json.loads(runtime("state", cid).stdout)["status"] == "running"
    for _ in range(500):  # `start` returns once the init is released; exec follows at once
        if b"sleep" in Path(f"/proc/{state['pid']}/cmdline").read_bytes():
            break
        time.sleep(0.01)
    assert b"sleep" in Path(f"/proc/{state['pid']}/cmdline").read_bytes()
    listed = json.loads(runtime("list", "--format", "json", check=True).stdout)
    assert [c["id"] for c in listed] == [cid]
    refused = runtime("delete", cid)
    assert refused.returncode == 1 and "running" in refused.stderr
    runtime("kill", cid, "KILL", check=True)
    for _ in range(200):
        if json.loads(runtime("state", cid).stdout)["status"] == "stopped":
            break
        time.sleep(0.01)
    assert json.loads(runtime("state", cid).stdout)["status"] == "stopped"
    runtime("delete", cid, check=True)
    assert runtime("state", cid).returncode == 1


def test_start_twice_is_refused(runtime):
    b = runtime.bundle(["sleep", "60"])
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(b), cid, check=True)
    res = runtime("start", cid)
    assert res.returncode == 1 and "running state" in res.stderr
    runtime("delete", "--force", cid, check=True)


def test_delete_of_created_container_kills_init(runtime):
    b = runtime.bundle(["true"])
    cid = runtime.new_id()
    runtime("create", "--bundle", str(b), cid, check=True)
    pid = json.loads(runtime("state", cid).stdout)["pid"]
    runtime("delete", cid, check=True)
    assert not os.path.exists(f"/proc/{pid}") or b"Z" in Path(f"/proc/{pid}/stat").read_bytes().split(b")")[1][:3]


def test_exec_joins_namespaces_and_cgroup(runtime):
    b = runtime.bundle(["sleep", "60"])
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(b), cid, check=True)
    res = runtime("exec", cid, "sh", "-c", "hostname; cat /proc/1/cmdline; echo; grep pids /proc/self/cgroup; exit 4")
    assert res.returncode == 4, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "dockyard" and lines[1].startswith("sleep") and lines[2].endswith(f"/{cid}")
    missing = runtime("exec", cid, "no-such-program")
    assert missing.returncode == 1 and "executable file not found" in missing.stderr
    runtime("delete", "--force", cid, check=True)


def test_exec_with_process_json(runtime, tmp_path):
    b = runtime.bundle(["sleep", "60"])
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(b), cid, check=True)
    proc = {"args": ["sh", "-c", "id -u; pwd; echo $FOO"], "env": ["FOO=bar", "PATH=/bin"], "cwd": "/tmp",
            "user": {"uid": 65534, "gid": 65534}}
    (tmp_path / "p.json").write_text(json.dumps(proc))
    res = runtime("exec", "--process", str(tmp_path / "p.json"), cid, check=True)
    assert res.stdout.split() == ["65534", "/tmp", "bar"]
    runtime("delete", "--force", cid, check=True)


def test_signals_reach_the_container_under_run(runtime):
    import signal
    import subprocess

    b = runtime.bundle(["sh", "-c", "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done"])
    cid = runtime.new_id()
    proc = subprocess.Popen([*runtime.argv, "--root", str(runtime.root), "run", "--bundle", str(b), cid],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 3 and "got-term" in out


def test_process_settings(runtime):
    def edit(cfg):
        cfg["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 0o077}
        cfg["process"]["cwd"] = "/tmp"
        cfg["process"]["env"].append("GREETING=hi there")
        cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]
        cfg["process"]["oomScoreAdj"] = 500

    b = runtime.bundle(["sh", "-c", "id; pwd; echo $GREETING; umask; ulimit -n; ulimit -Hn; "
                                    "cat /proc/self/oom_score_adj; grep NoNewPrivs /proc/self/status"], edit)
    res = runtime.run(b)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "uid=1000 gid=1000 groups=10,20"
    assert lines[1:] == ["/tmp", "hi there", "0077", "123", "456", "500", "NoNewPrivs:\t1"]


def test_masked_and_readonly_paths(runtime):
    b = runtime.bundle(["sh", "-c", "cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; "
                                    "echo 1 > /proc/sys/kernel/domainname && echo wrote; touch /x && echo wrote-root; "
                                    "touch /tmp/y && echo wrote-tmp"])
    res = runtime.run(b)
    out = res.stdout.split()
    assert out[:2] == ["0", "0"]
    assert "wrote" not in out and "wrote-root" not in out
    assert "Read-only file system" in res.stderr


def test_console_socket_gets_the_pty_master(runtime, tmp_path):
    import socket

    from dockyard.runtime import console

    sock_path = str(tmp_path / "c.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(1)
    b = runtime.bundle(["sh", "-c", "tty; stty size"], lambda c: c["process"].update(terminal=True))
    cid = runtime.new_id()
    res = runtime("create", "--bundle", str(b), "--console-socket", sock_path, cid)
    assert res.returncode == 0, res.stderr
    conn, _ = server.accept()
    master = console.receive(conn.detach())
    server.close()
    runtime("start", cid, check=True)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert out.decode().split()[0].startswith("/dev/pts/")
    runtime("delete", "--force", cid, check=True)


def test_user_namespace_with_mappings(runtime, state_dir):
    from tests.runtime.runc_fixtures import build_rootfs

    # The mapped root (host uid 100000) must be able to reach the rootfs: the state dir is 0711.
    rootfs = build_rootfs(state_dir / "userns-rootfs")

    def edit(cfg):
        cfg["root"]["path"] = str(rootfs)
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        cfg["mounts"] = [m for m in cfg["mounts"] if m["type"] != "cgroup"]

    b = runtime.bundle(["sh", "-c", "id -u; cat /proc/self/uid_map"], edit)
    res = runtime.run(b)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["0", "0", "100000", "65536"]


def test_joins_a_network_namespace_by_path(runtime, unique_name):
    import subprocess

    subprocess.run(["ip", "netns", "add", unique_name], check=True)
    try:
        subprocess.run(["ip", "-n", unique_name, "link", "add", "dy0", "type", "veth", "peer", "name", "dy1"], check=True)

        def edit(cfg):
            for ns in cfg["linux"]["namespaces"]:
                if ns["type"] == "network":
                    ns["path"] = f"/var/run/netns/{unique_name}"

        res = runtime.run(runtime.bundle(["sh", "-c", "ls /sys/class/net"], edit))
        assert res.returncode == 0, res.stderr
        assert "dy0" in res.stdout.split()
    finally:
        subprocess.run(["ip", "netns", "del", unique_name], check=True)


def test_hooks_run_with_state_on_stdin(runtime, tmp_path):
    log = tmp_path / "hooks.log"
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\nread state\necho \"$1 $state\" >> {log}\n")
    script.chmod(0o755)

    def edit(cfg):
        cfg["hooks"] = {k: [{"path": str(script), "args": ["hook.sh", k]}]
                        for k in ("prestart", "createRuntime", "poststart", "poststop")}

    res = runtime.run(runtime.bundle(["true"], edit))
    assert res.returncode == 0, res.stderr
    kinds = [line.split(" ", 1)[0] for line in log.read_text().splitlines()]
    assert kinds == ["prestart", "createRuntime", "poststart", "poststop"]
    assert all('"id": "t' in line for line in log.read_text().splitlines())


def test_spec_and_features(runtime, tmp_path):
    runtime("spec", "--bundle", str(tmp_path), check=True)
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["process"]["args"] == ["sh"] and cfg["root"]["path"] == "rootfs"
    again = runtime("spec", "--bundle", str(tmp_path))
    assert again.returncode != 0 and "exists" in again.stderr
    feats = json.loads(runtime("features", check=True).stdout)
    assert "CAP_SYS_ADMIN" in feats["linux"]["capabilities"] and feats["linux"]["cgroup"]["v1"]


def test_rootless_run_as_an_unprivileged_user(state_dir, rootfs):
    """A non-root user runs a `spec --rootless` bundle: user namespace, no cgroup, same CLI."""
    import shutil
    import subprocess
    import sys

    import dockyard

    home = state_dir / "rootless"
    shutil.copytree(rootfs, home / "b" / "rootfs", symlinks=True)
    subprocess.run(["chown", "-R", "65534:65534", str(home)], check=True)
    src = str(Path(dockyard.__file__).parent.parent)
    # The venv's interpreter may live under /root; the system one of the same version is reachable.
    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    script = (f"cd {home}/b && export HOME={home} PYTHONPATH={src} && "
              f"{python} -m dockyard.runtime.cli spec --rootless && "
              f"sed -i 's/\"terminal\": true/\"terminal\": false/; s/\"sh\"$/\"id\"/' config.json && "
              f"{python} -m dockyard.runtime.cli --root {home}/state run r1 && ls -A {home}/state")
    res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["uid=0(root)", "gid=0(root)"]  # the rootfs has an /etc/passwd


def test_runtime_killed_mid_create_leaves_a_deletable_container(runtime, tmp_path):
    """SIGKILL the runtime while a createRuntime hook blocks: the init goes away by itself, and
    `delete` removes the cgroup and state dir (the fixture then sweeps for leftovers)."""
    import subprocess

    gate = tmp_path / "gate"
    hook = tmp_path / "hook.sh"
    # The hook holds create up until the test removes the gate, then ends by itself.
    hook.write_text(f"#!/bin/sh\ntouch {gate}\nwhile [ -e {gate} ]; do sleep 0.05; done\n")
    hook.chmod(0o755)
    b = runtime.bundle(["true"], lambda c: c.update(hooks={"createRuntime": [{"path": str(hook)}]}))
    cid = runtime.new_id()
    proc = subprocess.Popen([*runtime.argv, "--root", str(runtime.root), "create", "--bundle", str(b), cid],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1000):
        if gate.exists():
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    gate.unlink()
    assert json.loads(runtime("state", cid, check=True).stdout)["status"] == "stopped"
    runtime("delete", cid, check=True)
