"""Helpers for the runtime tests (imported by conftest.py and the test modules): a busybox
rootfs built from the host's static /bin/busybox, bundles, a runtime wrapper and a leftover sweep."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dockyard.runtime import specgen

BUSYBOX = "/bin/busybox"


def build_rootfs(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    for d in ("proc", "sys", "dev", "etc", "tmp", "root"):
        (root / d).mkdir(exist_ok=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    return root


def base_config(rootfs: Path, args: list[str]) -> dict[str, Any]:
    cfg = specgen.default_spec()
    cfg["root"]["path"] = str(rootfs)
    cfg["process"].update(terminal=False, args=args)
    return cfg


class Runtime:
    """One runtime binary with its own --root; remembers the ids it was asked to run."""

    def __init__(self, argv: list[str], root: Path, workdir: Path, rootfs: Path) -> None:
        self.argv, self.root, self.workdir, self.rootfs = argv, root, workdir, rootfs
        self.ids: list[str] = []

    def bundle(self, args: list[str], edit: Callable[[dict[str, Any]], None] | None = None,
               cfg: dict[str, Any] | None = None) -> Path:
        b = self.workdir / f"b-{uuid.uuid4().hex[:8]}"
        b.mkdir()
        cfg = cfg or base_config(self.rootfs, args)
        if edit:
            edit(cfg)
        (b / "config.json").write_text(json.dumps(cfg))
        return b

    def new_id(self) -> str:
        cid = f"t{uuid.uuid4().hex[:10]}"
        self.ids.append(cid)
        return cid

    def __call__(self, *args: str, check: bool = False, timeout: float = 30, **kw: Any
                 ) -> subprocess.CompletedProcess[str]:
        # Output goes to files, not pipes: after `create` or `run -d` the container's init keeps
        # the stdio it inherited, and a pipe would never reach EOF.
        argv = [*self.argv, "--root", str(self.root), *args]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, timeout=timeout, **kw)
            out.seek(0)
            err.seek(0)
            res = subprocess.CompletedProcess(argv, proc.returncode, out.read().decode(), err.read().decode())
        if check and res.returncode:
            raise AssertionError(f"{' '.join(argv)} exited {res.returncode}: {res.stderr.strip()}")
        return res

    def run(self, bundle: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self("run", "--bundle", str(bundle), self.new_id(), **kw)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run `make deps` (CI installs it)")
    return path


def ours_argv() -> list[str]:
    script = Path(sys.executable).parent / "dockyard-runc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dockyard.runtime.cli"]


def leftovers(rt: Runtime) -> list[str]:
    found: list[str] = []
    if rt.root.exists():
        found += [f"state: {p}" for p in rt.root.iterdir()]
    from dockyard.runtime.cgroups.v1 import hierarchies

    for mnt, own in hierarchies().items():
        for cid in rt.ids:
            for d in {os.path.normpath(f"{mnt}/{cid}"), os.path.normpath(f"{mnt}/{own}/{cid}")}:
                if os.path.exists(d):
                    found.append(f"cgroup: {d}")
    with open("/proc/self/mountinfo") as f:
        found += [f"mount: {line.split()[4]}" for line in f if str(rt.workdir) in line]
    # Processes still in one of this test's containers' cgroups (an init or program left running).
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                groups = f.read()
        except OSError:
            continue
        found += [f"process: {pid} in container {cid}" for cid in rt.ids if f"/{cid}\n" in groups]
    return found


