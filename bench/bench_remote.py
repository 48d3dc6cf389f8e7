"""The CLI with and without a daemon: what talking to ``dockyard serve`` costs, and what finding
out that there is none costs on the daemonless hot path (cli/remote/discovery.py).

* ``dockyard run --rm busybox true`` and ``dockyard ps -a`` through the daemon (its socket found
  in the state dir) against the same command lines with ``DOCKYARD_HOST=local``.
* ``dockyard run --rm busybox true`` with no socket in the state dir (discovery stats it and goes
  on) against ``DOCKYARD_HOST=local`` (discovery does not look): the discovery's own cost, which
  should be lost in the noise.

Both sides share the data root and the runtime (runc, ``--network none``), and run in turns.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench.harness import Result, time_command, wait_socket

DOCKYARD = str(Path(sys.executable).parent / "dockyard")
RUN = ["run", "--rm", "--network", "none", "busybox", "true"]


def run(runs: int = 20) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        root = Path(tmp) / "root"
        state, idle = Path(f"/tmp/dyb-{uuid.uuid4().hex[:8]}"), Path(f"/tmp/dyb-{uuid.uuid4().hex[:8]}")
        env = {**os.environ, "DOCKYARD_ROOT": str(root), "DOCKYARD_STATE": str(state), "DOCKYARD_RUNTIME": "runc"}
        env.pop("DOCKYARD_HOST", None)
        local = {**env, "DOCKYARD_HOST": "local"}
        subprocess.run([DOCKYARD, "image", "bootstrap", "busybox"], env=env, check=True, stdout=subprocess.DEVNULL)
        daemon = subprocess.Popen([DOCKYARD, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        try:
            wait_socket(state / "dockyard.sock", daemon, "dockyard serve")
            results = [
                Result("dockyard run --rm busybox true via the daemon",
                       time_command([DOCKYARD, *RUN], runs=runs, warmup=2, env=env),
                       time_command([DOCKYARD, *RUN], runs=runs, warmup=2, env=local), "daemonless"),
                Result("dockyard ps -a via the daemon", time_command([DOCKYARD, "ps", "-a"], runs=runs, env=env),
                       time_command([DOCKYARD, "ps", "-a"], runs=runs, env=local), "daemonless"),
            ]
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
        no_socket = {**env, "DOCKYARD_STATE": str(idle)}
        results.append(Result("dockyard run --rm: discovery, no socket",
                              time_command([DOCKYARD, *RUN], runs=runs, warmup=2, env=no_socket),
                              time_command([DOCKYARD, *RUN], runs=runs, warmup=2,
                                           env={**no_socket, "DOCKYARD_HOST": "local"}),
                              "DOCKYARD_HOST=local", target="≈1.0x (≤ 1 ms apart)"))
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(idle, ignore_errors=True)
        return results


if __name__ == "__main__":
    for r in run():
        print(r.line())
