"""The rest of runc's command line: terminals without a console socket, --log json, kill --all, ps."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

pytestmark = pytest.mark.privileged


def _on_pty(argv: list[str]) -> tuple[int, str]:
    """Run argv with a fresh pty as its stdio (as from a terminal); → (exit code, output)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every slave fd is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return proc.wait(timeout=30), out.decode(errors="replace")


def test_foreground_run_with_terminal_proxies_the_pty(runtime):
    b = runtime.bundle(["sh", "-c", "tty; echo hi; exit 4"], lambda c: c["process"].update(terminal=True))
    code, out = _on_pty([*runtime.argv, "--root", str(runtime.root), "run", "--bundle", str(b), runtime.new_id()])
    assert code == 4
    assert out.split()[:2] == ["/dev/pts/0", "hi"]


def test_exec_tty_without_console_socket(runtime):
    b = runtime.bundle(["sleep", "60"])
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(b), cid, check=True)
    code, out = _on_pty([*runtime.argv, "--root", str(runtime.root), "exec", "-t", cid, "sh", "-c", "tty; exit 6"])
    assert code == 6 and out.split()[0].startswith("/dev/pts/")
    runtime("delete", "--force", cid, check=True)


def test_errors_go_to_the_log_as_json(runtime, tmp_path):
    log = tmp_path / "runc.log"
    res = runtime("--log", str(log), "--log-format", "json", "state", "no-such-container")
    assert res.returncode == 1
    assert res.stderr.strip() == "dockyard-runc: container 'no-such-container': does not exist"
    record = json.loads(log.read_text().splitlines()[-1])
    assert record["level"] == "error" and "does not exist" in record["msg"] and record["time"].endswith("Z")


def test_kill_all_and_ps(runtime):
    b = runtime.bundle(["sh", "-c", "sleep 60 & sleep 60 & wait"])
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(b), cid, check=True)
    pids = []
    for _ in range(200):
        pids = json.loads(runtime("ps", "--format", "json", cid, check=True).stdout)
        if len(pids) == 3:
            break
        time.sleep(0.01)
    assert len(pids) == 3
    table = runtime("ps", cid, check=True).stdout.splitlines()
    assert "PID" in table[0] and len(table) == 4
    runtime("kill", "--all", cid, "KILL", check=True)
    for _ in range(300):
        if json.loads(runtime("state", cid).stdout)["status"] == "stopped":
            break
        time.sleep(0.01)
    assert json.loads(runtime("state", cid).stdout)["status"] == "stopped"
    runtime("delete", cid, check=True)


def test_usage_errors(runtime):
    assert runtime("frobnicate").returncode == 2
    res = runtime("create")
    assert res.returncode == 2 and "requires a container id" in res.stderr
    res = runtime("kill", "x", "SIGNOPE")
    assert res.returncode == 2 and "unknown signal" in res.stderr


def test_delete_force_of_a_missing_container_is_quiet(runtime):
    assert runtime("delete", "--force", "never-was").returncode == 0
    res = runtime("delete", "never-was")
    assert res.returncode == 1 and "does not exist" in res.stderr


def test_no_pivot_uses_chroot(runtime):
    b = runtime.bundle(["sh", "-c", "ls /bin/busybox && cat /proc/self/mountinfo | wc -l"])
    res = runtime("run", "--no-pivot", "--bundle", str(b), runtime.new_id())
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[0] == "/bin/busybox"


def test_only_stdio_and_preserved_fds_reach_the_container(runtime, tmp_path):
    b = runtime.bundle(["sh", "-c", "ls /proc/self/fd"])

    def run_with_fds(*flags: str) -> list[str]:
        # The caller's fds 3 and 4 are open and inheritable, as a shell or an engine would leave them.
        argv = " ".join([*runtime.argv, "--root", str(runtime.root), "run", *flags, "--bundle", str(b),
                         runtime.new_id()])
        res = subprocess.run(["sh", "-c", f"exec 3>{tmp_path}/f3 4>{tmp_path}/f4; exec {argv}"],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        return res.stdout.split()

    # `ls` opens one more fd for the directory it lists.
    assert run_with_fds() == ["0", "1", "2", "3"]
    assert run_with_fds("--preserve-fds", "1") == ["0", "1", "2", "3", "4"]


def test_terminal_and_console_socket_must_agree(runtime, tmp_path):
    tty = runtime.bundle(["true"], lambda c: c["process"].update(terminal=True))
    res = runtime("create", "--bundle", str(tty), runtime.new_id())
    assert res.returncode == 1 and "process.terminal is true" in res.stderr
    plain = runtime.bundle(["true"])
    res = runtime("create", "--bundle", str(plain), "--console-socket", str(tmp_path / "s.sock"), runtime.new_id())
    assert res.returncode == 1 and "process.terminal is false" in res.stderr
