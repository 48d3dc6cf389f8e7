"""`dockyard-runc run` vs `runc run` vs `crun run` on one busybox bundle running /bin/true.

Each runtime gets its own --root and runs the same bundle (config.json from `runc spec`,
terminal off).  Ours is invoked through the venv's console script, as the engine does; its
modules are byte-compiled first, as a wheel install would have them (PYTHONDONTWRITEBYTECODE
otherwise leaves every run paying the compiler).  Target: <= 1.5x runc.

    .venv/bin/python bench/run.py runtime
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
from pathlib import Path

from bench.harness import Result, time_command

REPO = Path(__file__).resolve().parent.parent
RUNS = 30


def _bundle(tmp: Path) -> Path:
    bundle = tmp / "bundle"
    bin_dir = bundle / "rootfs" / "bin"
    bin_dir.mkdir(parents=True)
    shutil.copy2("/bin/busybox", bin_dir / "busybox")
    for applet in subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True,
                                 check=True).stdout.split():
        if applet != "busybox":
            (bin_dir / applet).symlink_to("busybox")
    for d in ("proc", "sys", "dev", "tmp"):
        (bundle / "rootfs" / d).mkdir()
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    cfg = json.loads((bundle / "config.json").read_text())
    cfg["process"].update(terminal=False, args=["/bin/true"])
    (bundle / "config.json").write_text(json.dumps(cfg))
    return bundle


def _ensure_hugetlb() -> None:
    # crun refuses this VM's hybrid cgroup layout unless a v1 hugetlb hierarchy is mounted.
    if not os.path.ismount("/sys/fs/cgroup/hugetlb") and not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        os.makedirs("/sys/fs/cgroup/hugetlb", exist_ok=True)
        subprocess.run(["mount", "-t", "cgroup", "-o", "hugetlb", "cgroup", "/sys/fs/cgroup/hugetlb"], check=True)


def _interleaved(argvs: dict[str, list[str]]) -> dict[str, float]:
    """Median wall time of each command, taking turns run by run so that load from anything
    else on the machine falls on all three alike."""
    samples: dict[str, list[float]] = {name: [] for name in argvs}
    for i in range(RUNS + 3):
        for name, argv in argvs.items():
            t = time_command(argv, runs=1, warmup=0)
            if i >= 3:  # the first rounds warm caches
                samples[name].append(t)
    return {name: statistics.median(values) for name, values in samples.items()}


def run() -> list[Result]:
    if os.geteuid() != 0:
        print("bench_runtime: needs root (namespaces, cgroups); skipped")
        return []
    compileall.compile_dir(str(REPO / "src" / "dockyard"), quiet=1)
    ours = str(Path(sys.executable).parent / "dockyard-runc")
    _ensure_hugetlb()
    with tempfile.TemporaryDirectory(prefix="dy-bench-") as tmp:
        bundle = _bundle(Path(tmp))
        argvs = {name: [exe, "--root", f"{tmp}/root-{name}", "run", "--bundle", str(bundle), "bench"]
                 for name, exe in (("dockyard-runc", ours), ("runc", "runc"), ("crun", "crun"))}
        times = _interleaved(argvs)
    return [
        Result("runtime run /bin/true (busybox bundle)", times["dockyard-runc"], times["runc"], "runc",
               target="target <= 1.5x runc"),
        Result("runtime run /bin/true (busybox bundle)", times["dockyard-runc"], times["crun"], "crun"),
    ]
