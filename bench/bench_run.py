"""`dockyard run --rm busybox true` end to end vs `runc run` of a busybox bundle (target ≤ 3x runc).

Both sides start a container running /bin/true from the same image contents; ours also resolves
the image, prepares an overlay snapshot, writes the bundle, starts a shim, attaches, and removes
everything afterwards — the whole docker-style round trip.

Ours runs with ``--network none`` named explicitly: ``runc spec``'s bundle has a network
namespace with only loopback, which is what ``none`` gives, and the CLI's default network may
become ``bridge`` (which adds a veth and an address to every start) — that is not what this
compares.

Each round runs every command once, in turn (runc on ``runc spec``'s bundle and on the bundle
dockyard writes, ours with runc and with dockyard-runc), after the same warm-up rounds for all;
the figures are medians.  Taking turns keeps load from elsewhere on the machine from landing on
one side only.

    .venv/bin/python bench/run.py run
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench.harness import Result, time_command

DOCKYARD = str(Path(sys.executable).parent / "dockyard")
REPO = Path(__file__).resolve().parent.parent
RUNS, WARMUP = 20, 3


def _interleaved(argvs: dict[str, tuple[list[str], dict | None]], runs: int) -> dict[str, float]:
    """Median wall time of each command, taking turns run by run (the same warm-up rounds for
    all) so that load from anything else on the machine falls on ours and runc's alike."""
    samples: dict[str, list[float]] = {name: [] for name in argvs}
    for i in range(runs + WARMUP):
        for name, (argv, env) in argvs.items():
            t = time_command(argv, runs=1, warmup=0, env=env)
            if i >= WARMUP:
                samples[name].append(t)
    return {name: statistics.median(values) for name, values in samples.items()}


def run(runs: int = RUNS) -> list[Result]:
    # byte-compiled, as a wheel install has them (PYTHONDONTWRITEBYTECODE would leave every run compiling)
    compileall.compile_dir(str(REPO / "src" / "dockyard"), quiet=1)
    runc = shutil.which("runc") or "/usr/sbin/runc"
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        root, state = Path(tmp) / "root", Path(f"/tmp/dyb-{uuid.uuid4().hex[:8]}")
        env = {**os.environ, "DOCKYARD_ROOT": str(root), "DOCKYARD_STATE": str(state)}
        try:
            subprocess.run([DOCKYARD, "image", "bootstrap", "busybox"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            bundle = _runc_bundle(Path(tmp) / "bundle", runc)
            # The same comparison against runc running the bundle dockyard generates: Docker's seccomp
            # profile alone costs runc ~25 ms to compile, which `runc spec`'s bundle does not pay.
            secured = _dockyard_bundle(env, Path(tmp) / "secured", runc)
            runc_root = str(Path(tmp) / "runc")
            argvs: dict[str, tuple[list[str], dict | None]] = {
                "runc": ([runc, "--root", runc_root, "run", "-b", str(bundle), f"b{uuid.uuid4().hex[:8]}"], None),
                "runc-secured": ([runc, "--root", runc_root, "run", "-b", str(secured),
                                  f"s{uuid.uuid4().hex[:8]}"], None),
            }
            for runtime in ("runc", "dockyard"):
                argvs[runtime + "-ours"] = ([DOCKYARD, "run", "--rm", "--network", "none", "--runtime", runtime,
                                             "busybox", "true"], env)
            t = _interleaved(argvs, runs)
            return [
                Result("dockyard run --rm busybox true (runc)", t["runc-ours"], t["runc"], "runc run",
                       target="target ≤ 3x runc"),
                Result("dockyard run --rm busybox true (dockyard)", t["dockyard-ours"], t["runc"], "runc run",
                       target="target ≤ 3x runc"),
                Result("dockyard run --rm busybox true (runc)", t["runc-ours"], t["runc-secured"],
                       "runc run, docker defaults", target="same bundle, seccomp included"),
            ]
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
