"""``dockyard run`` and friends end to end: busybox image, overlay snapshot, shim, real runtime.

Every container a test makes is checked to leave nothing behind once removed: no mounts, no
cgroups, no processes, no files under the data root or the state dir.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import support

pytestmark = [pytest.mark.privileged, pytest.mark.e2e]

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


@dataclass
class Yard:
    root: Path
    state: Path
    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run([DOCKYARD, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"dockyard {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    def popen(self, *args: str, **kw) -> subprocess.Popen:
        return subprocess.Popen([DOCKYARD, *args], env=self.env, **kw)

    def leftovers(self, cid: str) -> list[str]:
        found = []
        mounts = Path("/proc/self/mountinfo").read_text()
        found += [f"mount: {line}" for line in mounts.splitlines() if cid in line]
        for ctrl in Path("/sys/fs/cgroup").iterdir():
            if (ctrl / f"dockyard-{cid}").exists():
                found.append(f"cgroup: {ctrl}/dockyard-{cid}")
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    cmdline = (proc / "cmdline").read_bytes()
                except OSError:
                    continue
                if cid[:24].encode() in cmdline:
                    found.append(f"process {proc.name}: {cmdline!r}")
        for path in (self.root / "containers" / cid, self.state / "shims" / cid[:24],
                     *(self.state / "runtime").glob(f"*/{cid}")):
            if path.exists():
                found.append(f"file: {path}")
        return found


@pytest.fixture(scope="module")
def yard() -> Iterator[Yard]:
    if shutil.which("runc") is None:
        pytest.fail("runc is not installed; run `make deps` (CI installs it)")
    root = Path("/tmp") / f"dyr-{uuid.uuid4().hex[:8]}"
    state = Path("/tmp") / f"dys-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DOCKYARD_ROOT": str(root), "DOCKYARD_STATE": str(state), "DOCKYARD_RUNTIME": os.environ.get("DY_TEST_RUNTIME", "runc"),
           "DOCKYARD_NETWORK": "none"}  # not a networking test: no bridge (tests/cli/test_network_cli.py has those)
    y = Yard(root, state, env)
    y("image", "bootstrap", "busybox")
    yield y
    ids = y("ps", "-aq", "--no-trunc", check=False).stdout.split()
    if ids:
        y("rm", "-f", *ids, check=False)
    for cid in ids:
        assert not y.leftovers(cid)
    mount_lines = [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(root) in line]
    for line in mount_lines:  # layers are unmounted by rm; anything else is a bug, but clean it
        subprocess.run(["umount", "-l", line.split()[4]], check=False)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    assert not mount_lines


def name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def test_run_prints_output_and_returns_the_exit_code(yard: Yard) -> None:
    proc = yard("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7", check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (7, "out\n", "err\n")
    assert yard("ps", "-aq").stdout == ""


def test_exec_failures_use_docker_exit_codes(yard: Yard) -> None:
    missing = yard("run", "--rm", "busybox", "no-such-command", check=False)
    assert missing.returncode == 127 and "no-such-command" in missing.stderr
    not_exec = yard("run", "--rm", "busybox", "/etc", check=False)
    assert not_exec.returncode == 126
    bad_image = yard("run", "--rm", "no-such-image", "true", check=False)
    assert bad_image.returncode == 125 and "not found" in bad_image.stderr
    assert yard("ps", "-aq").stdout == ""


def test_detached_lifecycle_leaves_nothing_behind(yard: Yard) -> None:
    n = name()
    cid = yard("run", "-d", "--name", n, "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5",
               "busybox", "sh", "-c",
               "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.1; done").stdout.strip()
    assert len(cid) == 64
    deadline = time.monotonic() + 10
    while "ready" not in yard("logs", n).stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    assert n in yard("ps").stdout
    assert yard("inspect", "-f", "{{.State.Status}}", n).stdout.strip() == "running"
    assert json.loads(yard("inspect", n).stdout)[0]["Id"] == cid
    ex = yard("exec", "-e", "X=42", n, "sh", "-c", 'echo "x=$X"; hostname; exit 4', check=False)
    assert (ex.returncode, ex.stdout) == (4, f"x=42\n{cid[:12]}\n")
    assert yard("exec", n, "no-such-command", check=False).returncode == 127
    assert "sleep" in yard("top", n).stdout or "sh" in yard("top", n).stdout
    cgroup = Path("/sys/fs/cgroup")
    assert (cgroup / f"memory/dockyard-{cid}/memory.limit_in_bytes").read_text().strip() == str(64 << 20)
    assert (cgroup / f"pids/dockyard-{cid}/pids.max").read_text().strip() == "50"
    assert (cgroup / f"cpu/dockyard-{cid}/cpu.cfs_quota_us").read_text().strip() == "50000"
    assert n in yard("stats", "--no-stream", n).stdout
    yard("stop", "-t", "5", n)
    assert yard("inspect", "-f", "{{.State.ExitCode}}", n).stdout.strip() == "0"
    assert yard("logs", n).stdout == "ready\nbye\n"
    assert yard("logs", "--tail", "1", n).stdout == "bye\n"
    assert yard("logs", "-t", n).stdout.split()[0].endswith("Z")
    assert yard("logs", "--since", "1h", n).stdout == "ready\nbye\n"
    assert yard("logs", "--since", str(time.time() + 3600), n).stdout == ""
    refused = yard("exec", n, "true", check=False)
    assert refused.returncode != 0 and "not running" in refused.stderr
    yard("rename", n, n + "x")
    yard("rm", n + "x")
    assert yard.leftovers(cid) == []


def test_restart_and_start_attach(yard: Yard) -> None:
    n = name()
    yard("create", "--name", n, "busybox", "sh", "-c", "echo run; exit 3")
    assert yard("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout.count(f"{n} created") == 1
    assert yard("start", "-a", n, check=False).returncode == 3
    cid = yard("inspect", "-f", "{{.Id}}", n).stdout.strip()
    # as after a reboot: the rootfs mount is gone, the snapshot is not; start mounts it again
    subprocess.run(["umount", str(yard.root / "containers" / cid / "rootfs")], check=True)
    assert yard("start", "-a", n, check=False).returncode == 3
    assert yard("logs", n).stdout == "run\nrun\n"
    assert yard("wait", n).stdout.strip() == "3"
    assert yard("inspect", "-f", "{{.RestartCount}}", n).stdout.strip() == "1"
    yard("restart", n)
    assert yard("wait", n).stdout.strip() == "3"
    yard("rm", n)
    assert yard.leftovers(cid) == []


def test_logs_follow_until_a_signal_stops_the_container(yard: Yard) -> None:
    n = name()
    yard("run", "-d", "--name", n, "busybox", "sh", "-c",
         "trap 'echo got-usr1; exit 4' USR1; echo start; while true; do sleep 0.1; done")
    deadline = time.monotonic() + 10
    while "start" not in yard("logs", n).stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    follower = yard.popen("logs", "-f", n, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    yard("kill", "-s", "USR1", n)
    out, _ = follower.communicate(timeout=30)
    assert out == b"start\ngot-usr1\n"
    assert yard("wait", n).stdout.strip() == "4"
    yard("rm", n)


def test_killed_cli_leaves_containers_running_and_reachable(yard: Yard) -> None:
    n = name()
    cli = yard.popen("run", "--name", n, "busybox", "sh", "-c",
                     "trap 'exit 0' TERM; i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert cli.stdout is not None
    assert cli.stdout.readline() == b"line 0\n"
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    time.sleep(0.3)
    assert yard("inspect", "-f", "{{.State.Status}}", n).stdout.strip() == "running"
    assert "line 3" in yard("logs", n).stdout
    yard("stop", n)
    assert yard("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", n).stdout.strip() == "exited 0"
    cid = yard("inspect", "-f", "{{.Id}}", n).stdout.strip()
    yard("rm", n)
    assert yard.leftovers(cid) == []


def test_cli_killed_during_create_is_swept(yard: Yard) -> None:
    # Kill the engine after the rootfs is mounted and the record written, before the shim exists.
    script = (
        "import os, signal\n"
        "from dockyard.engine import bundle\n"
        "def die(*a, **k): os.kill(os.getpid(), signal.SIGKILL)\n"
        "bundle.write = die\n"
        "from dockyard.cli.main import main\n"
        f"main(['create', '--name', '{name()}', 'busybox', 'true'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], env=yard.env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    dirs = list((yard.root / "containers").iterdir())
    assert dirs, "the killed create should have left a half-made container to sweep"
    yard("ps", "-a")  # any listing sweeps interrupted creates
    for d in dirs:
        assert yard.leftovers(d.name) == []


def test_signals_reach_the_container(yard: Yard) -> None:
    cli = yard.popen("run", "--rm", "busybox", "sh", "-c",
                     "trap 'echo got-term; exit 9' TERM; echo up; while true; do sleep 0.1; done",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert cli.stdout is not None
    assert cli.stdout.readline() == b"up\n"
    cli.send_signal(signal.SIGTERM)
    out, _ = cli.communicate(timeout=20)
    assert out == b"got-term\n"
    assert cli.returncode == 9


def test_interactive_tty(yard: Yard) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child runs the CLI on a real terminal
        os.execve(DOCKYARD, [DOCKYARD, "run", "--rm", "-it", "busybox", "sh"], yard.env)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))

    def read_until(marker: bytes, timeout: float = 15) -> bytes:
        return support.read_until(fd, marker, timeout)

    assert b"# " in read_until(b"# ")
    os.write(fd, b"stty size; tty\n")
    out = read_until(b"/dev/pts/")
    assert b"33 101" in out and b"/dev/pts/0" in out
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 150, 0, 0))  # the CLI gets SIGWINCH
    time.sleep(0.3)
    os.write(fd, b"stty size\n")
    assert b"50 150" in read_until(b"50 150", timeout=5)
    os.write(fd, b"sleep 30; echo after-sleep\n")
    time.sleep(0.5)
    os.write(fd, b"\x03")  # Ctrl-C interrupts the sleep inside the container
    assert b"\nafter-sleep" not in read_until(b"# ", timeout=5)
    os.write(fd, b"exit 5\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 5


def test_interactive_stdin_pipe(yard: Yard) -> None:
    proc = yard("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z; echo done", input="hello\n")
    assert proc.stdout == "HELLO\ndone\n"


def test_custom_seccomp_profile_denies(yard: Yard, tmp_path: Path) -> None:
    profile = tmp_path / "no-mkdir.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    denied = yard("run", "--rm", "--security-opt", f"seccomp={profile}", "busybox", "mkdir", "/tmp/x",
                  check=False)
    assert denied.returncode == 1 and "Operation not permitted" in denied.stderr
    assert yard("run", "--rm", "busybox", "mkdir", "/tmp/x").returncode == 0
    bad = yard("run", "--rm", "--security-opt", "seccomp=/nonexistent.json", "busybox", "true", check=False)
    assert bad.returncode == 125 and "seccomp=/nonexistent.json" in bad.stderr


def test_security_defaults_inside(yard: Yard) -> None:
    status = yard("run", "--rm", "busybox", "cat", "/proc/self/status").stdout
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2"
    assert int(fields["CapBnd"], 16) == 0xA80425FB  # docker's 14 default capabilities
    denied = yard("run", "--rm", "busybox", "sh", "-c", "echo 1 > /proc/sys/kernel/panic", check=False)
    assert denied.returncode != 0
    assert yard("run", "--rm", "busybox", "cat", "/proc/kcore", check=False).stdout == ""
    ro = yard("run", "--rm", "--read-only", "busybox", "touch", "/x", check=False)
    assert ro.returncode != 0 and "Read-only" in ro.stderr


def test_volumes_env_user_workdir_network(yard: Yard, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("from host\n")
    tmp_path.chmod(0o755)  # readable by the container's user 65534
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\n")
    out = yard("run", "--rm", "-v", f"{tmp_path}:/data", "--env-file", str(env_file), "-e", "A=b",
               "-u", "65534", "-w", "/data", "--hostname", "box", "busybox", "sh", "-c",
               'cat in.txt; echo "$FROM_FILE $A"; id -u; pwd; hostname').stdout
    assert out == "from host\nyes b\n65534\n/data\nbox\n"
    host = yard("run", "--rm", "--network", "host", "busybox", "hostname").stdout.strip()
    assert host == os.uname().nodename
    iface = yard("run", "--rm", "busybox", "ls", "/sys/class/net").stdout.split()
    assert iface == ["lo"]


def test_cp_in_and_out(yard: Yard, tmp_path: Path) -> None:
    n = name()
    yard("create", "--name", n, "busybox", "true")
    src = tmp_path / "hello.txt"
    src.write_text("hi\n")
    yard("cp", str(src), f"{n}:/tmp/")
    yard("cp", f"{n}:/tmp/hello.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "hi\n"
    yard("rm", n)


def test_pod_shares_network_uts_and_ipc(yard: Yard) -> None:
    pod = name()
    yard("run", "-d", "--sandbox", "--name", pod, "--hostname", "podhost", "busybox")  # a pause process
    member = yard("run", "-d", "--pod", pod, "busybox", "sleep", "30").stdout.strip()
    probe = "hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid"
    a = yard("exec", member, "sh", "-c", probe).stdout.split()
    b = yard("run", "--rm", "--pod", pod, "busybox", "sh", "-c", probe).stdout.split()
    assert a[0] == b[0] == "podhost"
    assert a[1:3] == b[1:3]  # one network and one IPC namespace
    assert a[3] != b[3]  # each its own pid namespace
    refused = yard("rm", pod, check=False)
    assert refused.returncode != 0 and "still use it" in refused.stderr
    yard("rm", "-f", pod)  # the sandbox and its members
    assert member[:12] not in yard("ps", "-aq").stdout
    assert yard.leftovers(member) == []


@pytest.mark.parametrize("bad", [
    ["--memory", "lots", "busybox", "true"],
    ["--memory", "1k", "busybox", "true"],
    ["--cpus", "0", "busybox", "true"],
    ["--userns", "keep-id", "busybox", "true"],
    ["-v", "relative:/x", "busybox", "true"],
    ["--cap-add", "FLY", "busybox", "true"],
    ["--network", "bridge9", "busybox", "true"],
    ["-v", "/does/not/exist:/x", "busybox", "true"],
    ["-u", "ghost", "busybox", "true"],
])
def test_bad_input_is_a_one_line_error_and_leaves_nothing(yard: Yard, bad: list[str]) -> None:
    before = set((yard.root / "containers").glob("*")) if (yard.root / "containers").exists() else set()
    proc = yard("run", "--rm", *bad, check=False)
    assert proc.returncode == 125
    assert proc.stderr.startswith("Error: ") and proc.stderr.count("\n") == 1
    after = set((yard.root / "containers").glob("*")) if (yard.root / "containers").exists() else set()
    assert after == before
    assert yard("ps", "-aq").stdout == ""


def test_name_conflicts_and_unknown_containers(yard: Yard) -> None:
    n = name()
    yard("create", "--name", n, "busybox", "true")
    again = yard("create", "--name", n, "busybox", "true", check=False)
    assert again.returncode == 125 and "already in use" in again.stderr
    missing = yard("logs", "nope-" + n, check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr
    yard("rm", n)


PROBE = ('id; hostname; grep -E "^(CapBnd|CapEff|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status; '
         'ls /dev | tr "\\n" " "; echo; awk "{print \\$5, \\$6}" /proc/self/mountinfo | sort | tr "\\n" ,; '
         'echo; ulimit -n; exit 3')


def test_runtimes_run_the_same_bundle_alike(yard: Yard) -> None:
    seen = {}
    for runtime in ("runc", "crun", "dockyard"):
        proc = yard("run", "--rm", "--runtime", runtime, "--hostname", "same", "busybox", "sh", "-c", PROBE,
                    check=False)
        seen[runtime] = (proc.returncode, proc.stdout.splitlines())
    assert seen["runc"][0] == seen["crun"][0] == seen["dockyard"][0] == 3
    assert seen["dockyard"][1] == seen["runc"][1]  # identical, mounts included
    # crun adds /dev/core and flags masked paths differently; identity, caps and seccomp agree
    assert seen["crun"][1][:7] == seen["runc"][1][:7]


def test_rootless_containers_as_an_unprivileged_user() -> None:
    """A user made for the test runs containers in a user namespace: its uid is root inside only."""
    import click
    import zstandard

    import dockyard

    user = f"dy{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", user], check=True)
    work = Path(tempfile.mkdtemp(prefix="dyrl-", dir="/tmp"))
    try:
        uid, gid = int(_id(user, "-u")), int(_id(user, "-g"))
        # The user may not reach this venv (it can live under /root): give it the code and an
        # interpreter it can execute.
        code = work / "code"
        shutil.copytree(Path(dockyard.__file__).parent, code / "dockyard",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for package in (click, zstandard):
            shutil.copytree(Path(package.__file__).parent, code / package.__name__,
                            ignore=shutil.ignore_patterns("__pycache__"))
        python = sys.executable if _can_exec(sys.executable, uid) else "/usr/bin/python3"
        for d in (work / "root", work / "state"):
            d.mkdir()
            os.chown(d, uid, gid)
        subprocess.run(["chmod", "-R", "a+rX", str(work)], check=True)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(work / "root"),
               "DOCKYARD_ROOT": str(work / "root"), "DOCKYARD_STATE": str(work / "state"),
               "DOCKYARD_RUNTIME": "runc"}
        cli = [python, "-c", f"import sys; sys.path.insert(0, {str(code)!r}); "
               "from dockyard.cli.main import main; sys.exit(main())"]

        def dy(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([*cli, *args], env=env, user=uid, group=gid, extra_groups=[],
                                  capture_output=True, text=True, timeout=60, cwd="/")

        assert dy("image", "bootstrap", "busybox").returncode == 0
        out = dy("run", "--rm", "busybox", "sh", "-c", "id -u; cat /proc/self/uid_map")
        assert out.returncode == 0, out.stderr
        inside, mapping = out.stdout.split("\n", 1)
        assert inside == "0" and mapping.split()[:2] == ["0", str(uid)]
        cid = dy("run", "-d", "busybox", "sh", "-c",
                 "trap 'exit 0' TERM; echo up; while true; do sleep 0.1; done").stdout.strip()
        deadline = time.monotonic() + 10
        while "up" not in dy("logs", cid).stdout and time.monotonic() < deadline:
            time.sleep(0.05)
        assert dy("exec", cid, "id", "-u").stdout == "0\n"
        assert dy("stop", cid).returncode == 0
        assert dy("rm", cid).returncode == 0
        assert dy("ps", "-aq").stdout == ""
        assert not list((work / "state" / "shims").iterdir())
    finally:
        shutil.rmtree(work, ignore_errors=True)  # a shim whose socket vanishes ends its pod and exits
        subprocess.run(["userdel", user], check=False)


def _id(user: str, flag: str) -> str:
    return subprocess.run(["id", flag, user], check=True, capture_output=True, text=True).stdout.strip()


def _can_exec(path: str, uid: int) -> bool:
    try:
        return subprocess.run([path, "-c", "pass"], user=uid, capture_output=True, check=False).returncode == 0
    except PermissionError:
        return False


def test_a_slow_reader_pauses_the_container_instead_of_losing_output(yard: Yard) -> None:
    size = 6 << 20  # well past the shim's 1 MiB per-client backlog
    out = subprocess.run(f"{DOCKYARD} run --rm busybox sh -c 'yes hello | head -c {size}' | (sleep 1; wc -c)",
                         shell=True, env=yard.env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == str(size)


def test_a_killed_shim_leaves_a_dead_container_that_rm_cleans_up(yard: Yard) -> None:
    n = name()
    cid = yard("run", "-d", "--name", n, "busybox", "sleep", "60").stdout.strip()
    shim_pid = int((yard.state / "shims" / cid[:24] / "shim.pid").read_text())
    os.kill(shim_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{shim_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert yard("inspect", "-f", "{{.State.Status}}", n).stdout.strip() == "dead"
    refused = yard("rm", n, check=False)
    assert refused.returncode == 1 and "rm -f" in refused.stderr
    yard("start", n)  # a new shim, the runtime's stale state cleared first
    assert yard("inspect", "-f", "{{.State.Status}}", n).stdout.strip() == "running"
    yard("rm", "-f", n)
    assert yard.leftovers(cid) == []


def _shim_dirs(yard: Yard) -> set[Path]:
    return set((yard.state / "shims").glob("*")) if (yard.state / "shims").exists() else set()


def test_run_rm_starts_its_shim_early_and_leaves_nothing(yard: Yard) -> None:
    before = _shim_dirs(yard)
    short_id = yard("run", "--rm", "busybox", "cat", "/etc/hostname").stdout.strip()  # the id's first 12
    assert len(short_id) == 12
    assert not [p for p in _shim_dirs(yard) if p.name.startswith(short_id)]
    assert not list((yard.root / "containers").glob(f"{short_id}*"))
    assert short_id not in Path("/proc/self/mountinfo").read_text()
    # an error found once the shim was started (an unknown user, at the bundle): it is told to go
    assert yard("run", "--rm", "-u", "ghost", "busybox", "true", check=False).returncode == 125
    deadline = time.monotonic() + 10
    while not _shim_dirs(yard) <= before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _shim_dirs(yard) <= before
