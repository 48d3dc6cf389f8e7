"""Resident memory of one shim (one per pod) while its container runs (target ≤ 12 MB).

Reference: a bare ``python3 -S -c 'sleep'`` — the interpreter's own floor, which the shim can only
add to.  Measured from /proc/<pid>/status (VmRSS) with a container running ``sleep``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import Result

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-shim-") as tmp:
        state = Path(f"/tmp/dyb-{uuid.uuid4().hex[:8]}")
        env = {**os.environ, "DOCKYARD_ROOT": str(Path(tmp) / "root"), "DOCKYARD_STATE": str(state),
               "DOCKYARD_RUNTIME": "runc", "DOCKYARD_NETWORK": "none"}  # the pod alone, no bridge
        subprocess.run([DOCKYARD, "image", "bootstrap", "busybox"], env=env, check=True, stdout=subprocess.DEVNULL)
        cid = subprocess.run([DOCKYARD, "run", "-d", "busybox", "sleep", "60"], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
        floor = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(60)"])
        try:
            subprocess.run([DOCKYARD, "logs", cid], env=env, check=True, capture_output=True)
            time.sleep(0.3)
            pid = int((state / "shims" / cid[:24] / "shim.pid").read_text())
            ours, floor_mb = _rss_mb(pid), _rss_mb(floor.pid)
        finally:
            floor.kill()
            floor.wait()
            subprocess.run([DOCKYARD, "rm", "-f", cid], env=env, check=False, capture_output=True)
            shutil.rmtree(state, ignore_errors=True)
        return [Result("shim resident memory per pod", ours, floor_mb, "bare python -S", unit="MB",
                       target="target ≤ 12 MB")]
