"""Building in tests: a busybox base, dockyard builds in-process, buildah builds on the same base,
and a normalised view of a root file system and an image config for comparing the two."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dockyard.build.executor import Builder
from dockyard.build.options import BuildOptions, BuildResult
from dockyard.oci.images import ImageStore
from dockyard.oci.layer import apply_layer

CONFIG_FIELDS = ("Env", "Cmd", "Entrypoint", "User", "WorkingDir", "ExposedPorts", "Labels", "Volumes",
                 "StopSignal")


def bootstrap_busybox(data_root: Path) -> None:
    subprocess.run([sys.executable, "-m", "dockyard.cli", "image", "bootstrap", "busybox"], check=True,
                   env={**os.environ, "DOCKYARD_ROOT": str(data_root)}, stdout=subprocess.DEVNULL)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


def dockyard_build(data_root: Path, state_dir: Path, context: Path, **kw) -> BuildResult:
    return Builder(data_root=data_root, state_dir=state_dir).build(BuildOptions(context=context, **kw))


def image_rootfs(data_root: Path, ref: str, dest: Path) -> tuple[Path, dict]:
    """Unpack image *ref* from dockyard's store into *dest*; returns (dest, image config)."""
    images = ImageStore(data_root)
    try:
        manifest, config = images.manifest_for(images.resolve(ref))
        dest.mkdir(parents=True)
        for layer in manifest.layers:
            with images.content.open(layer.digest) as blob:
                apply_layer(blob, dest, media_type=layer.media_type)
    finally:
        images.close()
    return dest, config


@dataclass
class Buildah:
    base: Path

    def argv(self, *args: str) -> list[str]:
        return ["buildah", "--root", str(self.base / "root"), "--runroot", str(self.base / "run"),
                "--storage-driver", "vfs", *args]

    def run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), check=True, capture_output=True, text=True, **kw)

    def load_base(self, data_root: Path, ref: str = "busybox") -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        archive = self.base / "base.tar"
        subprocess.run([sys.executable, "-m", "dockyard.cli", "save", ref, "-o", str(archive)], check=True,
                       env={**os.environ, "DOCKYARD_ROOT": str(data_root)})
        self.run("pull", f"oci-archive:{archive}")

    def bud(self, context: Path, tag: str, *extra: str) -> None:
        self.run("bud", "--isolation", "chroot", "--pull-never", "-t", tag, *extra, str(context))

    def rootfs(self, tag: str, dest: Path) -> tuple[Path, dict]:
        ctr = self.run("from", "--pull-never", tag).stdout.strip()
        try:
            mnt = Path(self.run("mount", ctr).stdout.strip())
            dest.mkdir(parents=True)
            subprocess.run(["cp", "-a", f"{mnt}/.", str(dest)], check=True)  # keeps owners
        finally:
            self.run("rm", ctr)
        info = json.loads(self.run("inspect", "--type", "image", tag).stdout)
        return dest, info["OCIv1"]

    def cleanup(self) -> None:
        subprocess.run(self.argv("rm", "--all"), capture_output=True)
        subprocess.run(self.argv("rmi", "--all", "--force"), capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def snapshot(root: Path, *, ignore: tuple[str, ...] = ()) -> dict[str, tuple]:
    """path → (type, mode, uid, gid, content or link target) for everything below *root*."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if any(rel == i or rel.startswith(i + "/") for i in ignore):
                continue
            st = path.lstat()
            kind = stat.S_IFMT(st.st_mode)
            if stat.S_ISREG(st.st_mode):
                payload: object = path.read_bytes()
            elif stat.S_ISLNK(st.st_mode):
                payload = os.readlink(path)
            else:
                payload = None
            out[rel] = (kind, oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid, payload)
    return out


def config_view(config: dict) -> dict:
    cfg = dict(config.get("config") or {})
    labels = {k: v for k, v in (cfg.get("Labels") or {}).items() if k != "io.buildah.version"}
    cfg["Labels"] = labels
    # docker replaces a re-set variable in place, buildah moves it to the end: compare as a map
    cfg["Env"] = dict(e.partition("=")[::2] for e in cfg.get("Env") or [])
    return {k: cfg.get(k) or None for k in CONFIG_FIELDS}
