"""The Docker API's cost: `docker run --rm busybox true` through `dockyard serve` vs `dockyard run --rm`.

Target: the API adds ≤ 50 ms to a container's round trip.  Also the daemon's resident memory
when idle (target ≤ 60 MB; dockerd + containerd idle measure ~120 MB here), read from
/proc/<pid>/status after a few requests have warmed it up.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import Result, time_command

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_socket(path: Path) -> None:
    for _ in range(400):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(path))
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dockyard serve did not start")


def run(runs: int = 20) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-dockerapi-") as tmp:
        root, state = Path(tmp) / "root", Path(f"/tmp/dyb-{uuid.uuid4().hex[:8]}")
        sock = state / "d.sock"
        env = {**os.environ, "DOCKYARD_ROOT": str(root), "DOCKYARD_STATE": str(state),
               "DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(Path(tmp) / "docker-config")}
        subprocess.run([DOCKYARD, "image", "bootstrap", "busybox"], env=env, check=True, capture_output=True)
        daemon = subprocess.Popen([DOCKYARD, "serve", "--socket", str(sock)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_socket(sock)
            api = time_command(["docker", "run", "--rm", "busybox", "true"], runs=runs, warmup=2, env=env)
            direct = time_command([DOCKYARD, "run", "--rm", "busybox", "true"], runs=runs, warmup=2, env=env)
            time.sleep(1.0)
            rss = _rss_mb(daemon.pid)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
            shutil.rmtree(state, ignore_errors=True)
    return [
        Result("docker run --rm busybox true via dockyard serve", api, direct, "dockyard run --rm (daemonless)",
               target=f"API adds <= 50 ms (adds {1000 * (api - direct):.0f} ms)"),
        Result("dockyard serve idle RSS", rss, 120.0, "dockerd+containerd idle (measured here)", unit="MB",
               target="<= 60 MB"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r.line())
