"""A ``dockyard serve`` subprocess with its own data root, state dir and socket, for e2e tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


class Daemon:
    def __init__(self, base: Path) -> None:
        self.root = base / "root"
        self.state = Path("/tmp") / f"dya-{uuid.uuid4().hex[:8]}"  # short: unix socket paths ≤ 108 bytes
        self.root.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(mode=0o711)
        self.sock = self.state / "d.sock"
        self.proc: subprocess.Popen | None = None
        self.log = base / "daemon.log"
        # a private dockyard.net instance (own bridge, nft table, subnet): parallel tests never meet
        from tests.engine import netenv

        self.net = netenv.make(self.root, self.state)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKYARD_ROOT": str(self.root), "DOCKYARD_STATE": str(self.state),
                "DOCKER_HOST": f"unix://{self.sock}", "DOCKER_BUILDKIT": "0",
                "DOCKER_CONFIG": str(self.state / "docker-config"), **self.net.env()}

    def bootstrap(self) -> None:
        subprocess.run([DOCKYARD, "image", "bootstrap", "busybox"], env=self.env, check=True, capture_output=True)

    def start(self, *extra: str) -> None:
        self.extra = extra or getattr(self, "extra", ())
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([DOCKYARD, "serve", "--socket", str(self.sock), *self.extra], env=self.env,
                                         stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited: {self.log.read_text()}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(self.sock))
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("daemon did not start listening")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)

    def docker(self, *args: str, check: bool = True, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env=self.env, capture_output=True, text=True, check=check,
                              timeout=timeout, **kw)

    def cleanup(self) -> None:
        """Remove every container (their shims, mounts, cgroups) with the daemonless CLI, then stop."""
        self.kill(signal.SIGTERM)
        ids = subprocess.run([DOCKYARD, "ps", "-aq", "--no-trunc"], env=self.env, capture_output=True,
                             text=True).stdout.split()
        if ids:
            subprocess.run([DOCKYARD, "rm", "-f", *ids], env=self.env, capture_output=True)
        self.net.purge()
        shutil.rmtree(self.state, ignore_errors=True)
