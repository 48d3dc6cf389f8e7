"""unpack_image: an image's layers in order into one directory, and the same tree as umoci makes."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockyard.base.digest import Digest
from dockyard.base.errors import FailedPrecondition
from dockyard.oci import mediatypes as mt
from dockyard.oci.images import ImageStore, LayerBlob, commit_image
from dockyard.oci.layer import DiffIDMismatch, write_layer_blob
from dockyard.oci.layout import DirSink, Exported, write_layout
from dockyard.oci.unpack import unpack_image
from support import require_tool


@pytest.fixture
def images(data_root: Path) -> ImageStore:
    store = ImageStore(data_root)
    yield store
    store.close()


def base_tree(root: Path) -> Path:
    for d in ("bin", "etc", "usr/lib", "var/empty", "opq", "gone"):
        (root / d).mkdir(parents=True)
    (root / "bin" / "busybox").write_bytes(b"\x7fELF" + os.urandom(50_000))
    os.chmod(root / "bin" / "busybox", 0o4755)
    for applet in ("sh", "ls"):
        os.link(root / "bin" / "busybox", root / "bin" / applet)
    os.symlink("/bin/busybox", root / "bin" / "abs-link")
    os.symlink("../usr/lib", root / "etc" / "rel-link")
    (root / "etc" / "shadow").write_text("root:*:1::::::\n")
    os.chmod(root / "etc" / "shadow", 0o640)
    os.chmod(root / "var" / "empty", 0o1777)
    (root / "opq" / "old").write_text("old")
    (root / "gone" / "x").write_text("x")
    (root / "etc" / "removed").write_text("r")
    (root / "usr" / "lib" / "empty").write_bytes(b"")
    os.mkfifo(root / "fifo")
    if os.geteuid() == 0:
        os.chown(root / "etc" / "shadow", 0, 42)
        os.chown(root / "var" / "empty", 1234, 5678)
        os.lchown(root / "etc" / "rel-link", 7, 8)
    return root


def upper_blob(images: ImageStore) -> LayerBlob:
    """A second layer as image builders write them: whiteouts, an opaque dir, replacements."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, 1_700_000_000
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if data else None)
        add("etc/", tarfile.DIRTYPE, mode=0o755)
        add("etc/.wh.removed")
        add("etc/shadow", data=b"root:changed:1::::::\n", mode=0o600)
        add(".wh.gone")
        add("opq/", tarfile.DIRTYPE, mode=0o750)
        add("opq/.wh..wh..opq")
        add("opq/new", data=b"new")
        add("bin/ls", tarfile.REGTYPE, data=b"real ls now", mode=0o755)
    tar_bytes = raw.getvalue()
    digest = images.content.put_bytes(tar_bytes)
    return LayerBlob(digest, Digest.from_bytes(tar_bytes), len(tar_bytes), mt.OCI_LAYER)


def build_image(images: ImageStore, tmp_path: Path, name: str) -> None:
    lower = write_layer_blob(images.content, base_tree(tmp_path / "src"), compression="gzip")
    commit_image(images, layers=[lower, upper_blob(images)], config={"config": {"Cmd": ["sh"]}}, name=name)


def describe(root: Path) -> dict[str, tuple]:
    """Paths, kinds, modes, owners, link targets and content (what the issue asks to compare)."""
    out: dict[str, tuple] = {}
    inodes: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            body: object = None
            if stat.S_ISREG(st.st_mode):
                body = hashlib.sha256(Path(p).read_bytes()).hexdigest()
                if st.st_nlink > 1:
                    body = (body, inodes.setdefault(st.st_ino, rel))
            elif stat.S_ISLNK(st.st_mode):
                body = os.readlink(p)
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, body)
    return out


def test_unpack_applies_layers_in_order(images: ImageStore, tmp_path: Path) -> None:
    build_image(images, tmp_path, "test/unpack:v1")
    out = tmp_path / "rootfs"
    config = unpack_image(images, "test/unpack:v1", out)
    assert config["config"]["Cmd"] == ["sh"]
    assert (out / "etc" / "shadow").read_text() == "root:changed:1::::::\n"
    assert not (out / "etc" / "removed").exists() and not (out / "gone").exists()
    assert sorted(os.listdir(out / "opq")) == ["new"]
    assert (out / "bin" / "ls").read_bytes() == b"real ls now"
    assert os.stat(out / "bin" / "sh").st_ino == os.stat(out / "bin" / "busybox").st_ino


def test_unpack_refuses_a_non_empty_target(images: ImageStore, tmp_path: Path) -> None:
    build_image(images, tmp_path, "test/unpack:v1")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "f").write_text("x")
    with pytest.raises(FailedPrecondition, match="directory is not empty"):
        unpack_image(images, "test/unpack:v1", tmp_path / "busy")


def test_unpack_checks_diff_ids(images: ImageStore, tmp_path: Path) -> None:
    layer = write_layer_blob(images.content, base_tree(tmp_path / "src"))
    wrong = LayerBlob(layer.digest, Digest.from_bytes(b"another tar"), layer.size, layer.media_type)
    commit_image(images, layers=[wrong], config={}, name="test/bad:v1")
    with pytest.raises(DiffIDMismatch):
        unpack_image(images, "test/bad:v1", tmp_path / "out")


@pytest.mark.e2e
def test_umoci_and_we_unpack_identical_trees(images: ImageStore, tmp_path: Path) -> None:
    umoci = require_tool("umoci")
    build_image(images, tmp_path, "test/unpack:v1")
    layout = tmp_path / "layout"
    sink = DirSink(layout)
    write_layout(images, [Exported(images.resolve("test/unpack:v1"), "docker.io/test/unpack:v1")], sink)
    sink.close()
    bundle = tmp_path / "bundle"
    subprocess.run([umoci, "unpack", "--image", f"{layout}:v1", str(bundle)], check=True,
                   capture_output=True)
    ours = tmp_path / "ours"
    unpack_image(images, "test/unpack:v1", ours)
    theirs = describe(bundle / "rootfs")
    assert describe(ours) == theirs
    assert "opq/new" in theirs and "gone" not in theirs  # the comparison saw the upper layer
