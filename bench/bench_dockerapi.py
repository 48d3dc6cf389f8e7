"""The Docker API's cost: `docker run --rm busybox true` through `dockyard serve`, against
`dockyard run --rm` and against Docker's own engine (dockerd + containerd), side by side.

Targets: the API adds ≤ 50 ms to a container's round trip; ours is ≥ 3x faster than Docker's
engine; the daemon's resident memory when idle is ≤ 60 MB (measured against dockerd + containerd
idle, read from /proc/<pid>/status after a few requests have warmed both up).

Docker's engine is Debian's ``docker.io`` (dockerd, which starts its own containerd), run with a
private data root, exec root, pid file and socket under a temporary directory and no networking
of its own (``--bridge=none``, no iptables), so it touches neither ``/var/run/docker.sock`` nor
the host's firewall; it gets our busybox through ``docker load``.  Every ``docker`` call names its
daemon with ``DOCKER_HOST``.  When ``dockerd`` is not installed the reference rows are skipped.
All runs use ``--network none``: the comparison is of the engines, not of their networks.

``dockyard serve`` keeps one shim booted ahead of the next create (it idles out after a minute);
the idle figure counts that spare shim's memory with the daemon's, as containerd's is counted
with dockerd's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from bench.harness import Result, time_command, wait_socket

DOCKYARD = str(Path(sys.executable).parent / "dockyard")
RUN_ARGS = ["run", "--rm", "--network", "none", "busybox", "true"]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tree(pid: int) -> list[int]:
    """*pid* and its descendants (dockerd's containerd)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _shim_pids(state: Path) -> list[int]:
    """The shims living under *state* (the daemon's spare, once no container runs)."""
    pids = []
    for pid_file in (state / "shims").glob("*/shim.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text())
            if Path(f"/proc/{pid}").exists():
                pids.append(pid)
    return pids


def _stop(proc: subprocess.Popen, pids: list[int]) -> None:
    """SIGTERM, then make sure every process of the tree is gone (containerd included)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _unmount_under(root: Path) -> None:
    """Whatever dockerd left mounted under its private roots (overlays, shm), deepest first."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for m in sorted((m for m in mounts if m.startswith(f"{root}/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], check=False, capture_output=True)


@contextlib.contextmanager
def _dockerd(tmp: Path, image_tar: Path, client_env: dict[str, str]) -> Iterator[tuple[dict[str, str], int]]:
    """Docker's engine on a private socket, busybox loaded; yields its client env and dockerd's pid."""
    base = tmp / "dockerd"
    base.mkdir()
    sock = base / "docker.sock"
    argv = ["dockerd", "--bridge=none", "--iptables=false", "--ip6tables=false", "--data-root", str(base / "data"),
            "--exec-root", str(base / "exec"), "--pidfile", str(base / "dockerd.pid"), "--host", f"unix://{sock}"]
    with open(base / "dockerd.log", "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
    pids = [proc.pid]
    try:
        wait_socket(sock, proc, "dockerd")
        env = {**client_env, "DOCKER_HOST": f"unix://{sock}"}
        subprocess.run(["docker", "load", "-i", str(image_tar)], env=env, check=True, capture_output=True)
        pids = _tree(proc.pid)
        yield env, proc.pid
    finally:
        pids = sorted(set(pids) | set(_tree(proc.pid) if proc.poll() is None else []))
        _stop(proc, pids)
        _unmount_under(base)
        shutil.rmtree(base, ignore_errors=True)


def run(runs: int = 20) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-dockerapi-") as tmp_name:
        tmp = Path(tmp_name)
        root, state = tmp / "root", Path(f"/tmp/dyb-{uuid.uuid4().hex[:8]}")
        sock = state / "d.sock"
        env = {**os.environ, "DOCKYARD_ROOT": str(root), "DOCKYARD_STATE": str(state),
               "DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(tmp / "docker-config")}
        subprocess.run([DOCKYARD, "image", "bootstrap", "busybox"], env=env, check=True, capture_output=True)
        daemon = subprocess.Popen([DOCKYARD, "serve", "--socket", str(sock)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        ref: dict[str, float] = {}
        try:
            wait_socket(sock, daemon, "dockyard serve")
            api = time_command(["docker", *RUN_ARGS], runs=runs, warmup=2, env=env)
            direct = time_command([DOCKYARD, *RUN_ARGS], runs=runs, warmup=2, env=env)
            time.sleep(1.0)
            rss = _rss_mb(daemon.pid) + sum(_rss_mb(pid) for pid in _shim_pids(state))
            if shutil.which("dockerd"):
                tar = tmp / "busybox.tar"
                subprocess.run([DOCKYARD, "image", "save", "busybox", "--format", "docker", "-o", str(tar)],
                               env=env, check=True, capture_output=True)
                with _dockerd(tmp, tar, env) as (denv, dpid):
                    ref["run"] = time_command(["docker", *RUN_ARGS], runs=runs, warmup=2, env=denv)
                    time.sleep(1.0)
                    ref["rss"] = sum(_rss_mb(p) for p in _tree(dpid))
        finally:
            _stop(daemon, [])
            shutil.rmtree(state, ignore_errors=True)
    results = [
        Result("docker run --rm busybox true via dockyard serve", api, direct, "dockyard run --rm (daemonless)",
               target=f"API adds <= 50 ms (adds {1000 * (api - direct):.0f} ms)"),
    ]
    if ref:
        results += [
            Result("docker run --rm busybox true: dockyard serve", api, ref["run"], "dockerd+containerd",
                   target=f">= 3x faster ({ref['run'] / api:.1f}x)"),
            Result("dockyard run --rm busybox true", direct, ref["run"], "docker run via dockerd",
                   target=f"({ref['run'] / direct:.1f}x faster)"),
            Result("dockyard serve idle RSS", rss, ref["rss"], "dockerd+containerd idle", unit="MB",
                   target="<= 60 MB"),
        ]
    else:
        results.append(Result("dockyard serve idle RSS", rss, 120.0, "dockerd+containerd (not installed: ~120)",
                              unit="MB", target="<= 60 MB"))
    return results


if __name__ == "__main__":
    for r in run():
        print(r.line())
