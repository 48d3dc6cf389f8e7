"""`dockyard run --rm busybox true` end to end vs `runc run` of a busybox bundle (target ≤ 3x runc).

Both sides start a container running /bin/true from the same image contents; ours also resolves
the image, prepares an overlay snapshot, writes the bundle, starts a shim, attaches, and removes
everything afterwards — the whole docker-style round trip.

Ours runs with ``--network none`` named explicitly: ``runc spec``'s bundle has a network
namespace with only loopback, which is what ``none`` gives, and the CLI's default network may
become ``bridge`` (which adds a veth and an address to every start) — that is not what this
compares.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench.harness import Result, time_command

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def run(runs: int = 20) -> list[Result]:
    runc = shutil.which("runc") or "/usr/sbin/runc"
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        root, state = Path(tmp) / "root", Path(f"/tmp/dyb-{uuid.uuid4().hex[:8]}")
        env = {**os.environ, "DOCKYARD_ROOT": str(root), "DOCKYARD_STATE": str(state)}
        try:
            subprocess.run([DOCKYARD, "image", "bootstrap", "busybox"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            bundle = _runc_bundle(Path(tmp) / "bundle", runc)
            reference = time_command([runc, "--root", str(Path(tmp) / "runc"), "run", "-b", str(bundle),
                                      f"b{uuid.uuid4().hex[:8]}"], runs=runs, warmup=2)
            results = []
            for runtime in ("runc", "dockyard"):
                ours = time_command([DOCKYARD, "run", "--rm", "--network", "none", "--runtime", runtime,
                                     "busybox", "true"],
                                    runs=runs, warmup=2, env=env)
                results.append(Result(f"dockyard run --rm busybox true ({runtime})", ours, reference,
                                      "runc run", target="target ≤ 3x runc"))
            # The same comparison against runc running the bundle dockyard generates: Docker's seccomp
            # profile alone costs runc ~25 ms to compile, which `runc spec`'s bundle does not pay.
            secured = _dockyard_bundle(env, Path(tmp) / "secured", runc)
            ref2 = time_command([runc, "--root", str(Path(tmp) / "runc"), "run", "-b", str(secured),
                                 f"s{uuid.uuid4().hex[:8]}"], runs=runs, warmup=2)
            results.append(Result("dockyard run --rm busybox true (runc)", results[0].ours, ref2,
                                  "runc run, docker defaults", target="same bundle, seccomp included"))
            return results
        finally:
            shutil.rmtree(state, ignore_errors=True)


def _dockyard_bundle(env: dict, dest: Path, runc: str) -> Path:
    """Copy the bundle `dockyard create` writes (config.json + a plain copy of its rootfs)."""
    cid = subprocess.run([DOCKYARD, "create", "--network", "none", "--runtime", "runc", "busybox", "true"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    try:
        src = Path(env["DOCKYARD_ROOT"]) / "containers" / cid
        spec = json.loads((src / "config.json").read_text())
        shutil.copytree(src / "rootfs", dest / "rootfs", symlinks=True)
        spec["mounts"] = [m for m in spec["mounts"] if not m["destination"].startswith("/etc/")]
        spec["linux"].pop("cgroupsPath", None)
        (dest / "config.json").write_text(json.dumps(spec))
    finally:
        subprocess.run([DOCKYARD, "rm", "-f", cid], env=env, check=False, capture_output=True)
    return dest


def _runc_bundle(path: Path, runc: str) -> Path:
    from dockyard.oci.bootstrap import busybox_rootfs

    (path / "rootfs").mkdir(parents=True)
    busybox_rootfs(path / "rootfs")
    subprocess.run([runc, "spec"], cwd=path, check=True)
    spec = json.loads((path / "config.json").read_text())
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["/bin/true"]
    (path / "config.json").write_text(json.dumps(spec))
    return path
