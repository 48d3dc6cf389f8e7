"""RUN: one process in a container on the step's mounted rootfs, waited for, like buildah does it.

The engine's containers start from images and live on under a shim; a build step is neither, so
the builder writes its own short-lived OCI bundle -- using the engine's spec generation
(:func:`dockyard.engine.spec.build_spec`, hence Docker's capabilities, seccomp profile, masked
paths and default mounts) -- and calls the runtime binary's ``run`` in the foreground.  ``runc``
is used when installed (it is what buildah uses; ``DOCKYARD_BUILD_RUNTIME`` picks ``dockyard`` or
``crun`` instead).  Output streams to the progress display line by line.

Mount points the runtime had to create for the step's mounts (``/run/secrets/<id>``, a cache
target, ``/etc/resolv.conf`` in an image without one) are removed from the step's diff afterwards,
so neither secrets nor their empty stubs reach a layer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.base.errors import DockyardError, InvalidArgument


class RunFailed(DockyardError):
    category = "failed_precondition"

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class RunSpec:
    args: list[str]
    env: list[str]
    cwd: str
    user: str
    network: str = "default"              # default | none | host
    mounts: list[dict] = field(default_factory=list)   # extra OCI mounts (cache, secret, bind, tmpfs)
    #: mount targets whose missing parent directories stay in the layer, as buildah leaves them
    #: (cache, bind and tmpfs targets; a secret leaves no trace at all)
    keep_parents: set[str] = field(default_factory=set)
    etc_files: bool = True


def runtime_argv(state_dir: Path) -> list[str]:
    from dockyard.engine import runtimes

    name = os.environ.get("DOCKYARD_BUILD_RUNTIME") or ("runc" if shutil.which("runc") or
                                                        os.path.exists("/usr/sbin/runc") else None)
    return runtimes.argv(name or runtimes.default_runtime(), state_dir)


def missing_parts(rootfs: Path, dest: str) -> list[str]:
    """The components of *dest* that do not exist in *rootfs* yet (shallowest first)."""
    out, cur = [], ""
    for part in [p for p in dest.split("/") if p]:
        cur += "/" + part
        if not os.path.lexists(f"{rootfs}{cur}"):
            out.append(cur)
    return out


def stub_parents(rootfs: Path, stubs: list[str]) -> dict[str, tuple[int, int, int]]:
    """Mode and owner, before the step, of the existing directories the stubs go into."""
    out = {}
    for stub in stubs:
        parent = stub.rsplit("/", 1)[0]
        if parent and parent not in stubs:
            try:
                st = os.lstat(f"{rootfs}{parent}")
            except OSError:
                continue
            out[parent] = (st.st_mode, st.st_uid, st.st_gid)
    return out


def remove_stubs(upper: Path, stubs: list[str], parents: dict[str, tuple[int, int, int]]) -> None:
    """Drop mount points the runtime created, if the step left them empty, and the copies of
    their parent directories that overlayfs made only to hold them."""
    for rel in sorted(set(stubs), key=lambda p: -p.count("/")):
        path = f"{upper}{rel}"
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            elif os.path.isfile(path) and os.path.getsize(path) == 0:
                os.unlink(path)
        except OSError:
            pass  # the step put something there: it is the user's now
    for rel, before in sorted(parents.items(), key=lambda kv: -kv[0].count("/")):
        path = f"{upper}{rel}"
        try:
            st = os.lstat(path)
            unchanged = (st.st_mode, st.st_uid, st.st_gid) == before
            if unchanged and not os.listdir(path) and not _opaque(path):
                os.rmdir(path)
        except OSError:
            pass


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def spec_for(rootfs: Path, run: RunSpec, cid: str, etc: dict[str, str]) -> dict:
    from dockyard.engine.options import RunOptions
    from dockyard.engine.spec import SpecContext, build_spec

    opts = RunOptions(image="build", entrypoint=[], command=run.args, workdir=run.cwd,
                      user=run.user or None, network="none" if run.network == "none" else "host")
    ctx = SpecContext(cid=cid, name=cid, rootfs=rootfs, etc_files=etc,
                      cgroups_path=f"/dockyard-build/{cid}" if os.geteuid() == 0 else None)
    try:
        spec = build_spec({"config": {"Env": run.env}}, opts, ctx)
    except InvalidArgument as e:
        raise InvalidArgument(str(e).replace("-u ", "USER ").replace("-w ", "WORKDIR ")) from None
    spec["root"] = {"path": str(rootfs), "readonly": False}
    spec["mounts"].extend(run.mounts)
    return spec


def run_step(rootfs: Path, upper: Path, run: RunSpec, *, state_dir: Path,
             output: Callable[[str], None]) -> None:
    """Run *run* on the mounted *rootfs* (whose changes land in *upper*); RunFailed on non-zero exit."""
    cid = f"build-{uuid.uuid4().hex[:16]}"
    bundle = state_dir / "build" / cid
    bundle.mkdir(parents=True)
    try:
        etc = {}
        if run.network != "none" and run.etc_files and os.path.isdir(rootfs / "etc"):
            etc = {p: p for p in ("/etc/resolv.conf", "/etc/hosts") if os.path.exists(p)}
        if not os.path.isdir(f"{rootfs}{run.cwd}"):
            os.makedirs(f"{rootfs}{run.cwd}", mode=0o755, exist_ok=True)
        spec = spec_for(rootfs, run, cid, etc)
        stubs = []
        for m in spec["mounts"]:
            missing = missing_parts(rootfs, m["destination"])
            stubs.extend(missing[-1:] if m["destination"] in run.keep_parents else missing)
        parents = stub_parents(rootfs, stubs)
        (bundle / "config.json").write_text(json.dumps(spec))
        argv = [*runtime_argv(state_dir), "run", "--bundle", str(bundle), cid]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=bundle)
        assert proc.stdout is not None
        for raw in proc.stdout:
            output(raw.decode(errors="replace").rstrip("\n"))
        code = proc.wait()
        remove_stubs(upper, stubs, parents)
        if code != 0:
            raise RunFailed(f"process {json.dumps(run.args)} did not complete successfully: exit code: {code}",
                            code)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
