"""One conformance suite for every snapshotter (containerd's testsuite idea): overlay and copy.

Contents are always observed through the mounts a snapshotter returns: mounted for real as root,
or (copy snapshotter, unprivileged) by reading a bind mount's source, which is the same tree.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.base.digest import Digest
from dockyard.oci.content import ContentStore
from dockyard.oci.layer import DiffIDMismatch, apply_layer, create_layer
from dockyard.oci.manifest import Descriptor, Manifest
from dockyard.oci.snapshot import Kind, Mount, SnapshotExists, SnapshotInUse, SnapshotNotFound
from dockyard.oci.snapshot.base import SnapshotterBase
from dockyard.oci.snapshot.copy import CopySnapshotter
from dockyard.oci.snapshot.layers import chain_ids, ensure_layers, layer_digests
from dockyard.oci.snapshot.mount import unmount
from dockyard.oci.snapshot.overlay import OverlaySnapshotter

IMPLS = [
    pytest.param(OverlaySnapshotter, id="overlay", marks=pytest.mark.privileged),
    pytest.param(CopySnapshotter, id="copy"),
]


@pytest.fixture(params=IMPLS)
def sn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SnapshotterBase]:
    s = request.param(tmp_path / "snapshots")
    yield s
    s.close()


@contextlib.contextmanager
def mounted(mounts: list[Mount], where: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        assert [m.type for m in mounts] == ["bind"]
        yield Path(mounts[0].source)
        return
    where.mkdir(parents=True, exist_ok=True)
    for m in mounts:
        m.mount(where)
    try:
        yield where
    finally:
        unmount(where)


def tree(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = str(p.relative_to(root))
            out[rel] = "dir" if p.is_dir() else p.read_text()
    return out


def commit_tree(sn: SnapshotterBase, name: str, parent: str | None, files: dict[str, str | None],
                tmp: Path) -> None:
    """prepare → write/delete through the mounts → commit."""
    mounts = sn.prepare(f"active-{name}", parent)
    with mounted(mounts, tmp / f"m-{name}") as root:
        for rel, text in files.items():
            p = root / rel
            if text is None:
                p.unlink()
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
    sn.commit(name, f"active-{name}")


def test_prepare_commit_and_stat(sn: SnapshotterBase, tmp_path: Path) -> None:
    commit_tree(sn, "base", None, {"etc/hosts": "h"}, tmp_path)
    info = sn.stat("base")
    assert (info.key, info.kind, info.parent) == ("base", Kind.COMMITTED, None)
    with pytest.raises(SnapshotNotFound, match='"active-base": not found'):
        sn.stat("active-base")
    with mounted(sn.view("v", "base"), tmp_path / "v") as root:
        assert tree(root) == {"etc": "dir", "etc/hosts": "h"}


def test_parent_chain_merges_and_deletes(sn: SnapshotterBase, tmp_path: Path) -> None:
    commit_tree(sn, "l1", None, {"a": "1", "b": "1", "d/x": "x"}, tmp_path)
    commit_tree(sn, "l2", "l1", {"b": "2", "c": "2", "a": None}, tmp_path)
    commit_tree(sn, "l3", "l2", {"d/y": "y"}, tmp_path)
    assert [(i.key, i.parent) for i in sn.walk()] == [("l1", None), ("l2", "l1"), ("l3", "l2")]
    with mounted(sn.view("v", "l3"), tmp_path / "v") as root:
        assert tree(root) == {"b": "2", "c": "2", "d": "dir", "d/x": "x", "d/y": "y"}


def test_writes_in_an_active_snapshot_are_invisible_to_its_parent(sn: SnapshotterBase, tmp_path: Path) -> None:
    commit_tree(sn, "base", None, {"f": "base"}, tmp_path)
    with mounted(sn.prepare("c1", "base"), tmp_path / "c1") as root:
        (root / "f").write_text("changed")
        (root / "new").write_text("n")
        with mounted(sn.prepare("c2", "base"), tmp_path / "c2") as other:
            assert tree(other) == {"f": "base"}
    with mounted(sn.view("v", "base"), tmp_path / "v") as root:
        assert tree(root) == {"f": "base"}
    with mounted(sn.mounts("c1"), tmp_path / "again") as root:  # and the active one kept its writes
        assert tree(root) == {"f": "changed", "new": "n"}


def test_view_is_read_only(sn: SnapshotterBase, tmp_path: Path) -> None:
    commit_tree(sn, "base", None, {"f": "x"}, tmp_path)
    if os.geteuid() != 0:
        assert all("ro" in m.options for m in sn.view("v", "base"))
        return
    with mounted(sn.view("v", "base"), tmp_path / "v") as root, pytest.raises(OSError):
        (root / "g").write_text("no")


def test_remove_refuses_a_snapshot_with_children(sn: SnapshotterBase, tmp_path: Path) -> None:
    commit_tree(sn, "base", None, {"f": "x"}, tmp_path)
    sn.prepare("child", "base")
    with pytest.raises(SnapshotInUse, match='"base": is the parent of "child"; remove that first'):
        sn.remove("base")
    sn.remove("child")
    sn.remove("base")
    assert list(sn.walk()) == []
    assert sorted(os.listdir(sn.dirs)) == []


def test_lifecycle_errors(sn: SnapshotterBase, tmp_path: Path) -> None:
    commit_tree(sn, "base", None, {"f": "x"}, tmp_path)
    sn.prepare("a", "base")
    sn.view("v", "base")
    with pytest.raises(SnapshotExists):
        sn.prepare("a", "base")
    with pytest.raises(SnapshotInUse, match="only an active snapshot can be committed"):
        sn.commit("v2", "v")
    with pytest.raises(SnapshotExists):
        sn.commit("base", "a")
    with pytest.raises(SnapshotInUse, match="only a committed snapshot can be a parent"):
        sn.prepare("b", "a")
    with pytest.raises(SnapshotNotFound):
        sn.prepare("c", "nope")
    with pytest.raises(SnapshotNotFound):
        sn.remove("nope")
    assert {i.key: i.kind for i in sn.walk()} == {"base": Kind.COMMITTED, "a": Kind.ACTIVE, "v": Kind.VIEW}


def test_usage_and_persistence(sn: SnapshotterBase, tmp_path: Path) -> None:
    commit_tree(sn, "base", None, {"big": "x" * 100_000}, tmp_path)
    assert sn.usage("base").size >= 100_000
    again = type(sn)(sn.root)
    assert [i.key for i in again.walk()] == ["base"]
    again.close()


def test_cleanup_removes_directories_without_a_record(sn: SnapshotterBase) -> None:
    (sn.dirs / "999").mkdir()
    sn.prepare("keep")
    assert [p.name for p in sn.cleanup()] == ["999"]
    assert [i.key for i in sn.walk()] == ["keep"]


def _layer_blob(entries: dict[str, str | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, text in entries.items():
            if text is None:
                info = tarfile.TarInfo(name)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_whiteouts_are_seen_through_the_snapshot(sn: SnapshotterBase, tmp_path: Path) -> None:
    layers = [
        {"etc": None, "etc/a": "a", "etc/b": "b", "opq": None, "opq/old": "o", "gone": None, "gone/x": "x"},
        {"etc/.wh.a": "", ".wh.gone": "", "opq": None, "opq/.wh..wh..opq": "", "opq/new": "n"},
    ]
    parent = None
    for i, entries in enumerate(layers):
        key = f"extract-{i}"
        sn.prepare(key, parent)
        target, whiteouts = sn.apply_dir(key)
        apply_layer(io.BytesIO(_layer_blob(entries)), Path(target), whiteouts=whiteouts)
        sn.commit(f"layer{i}", key)
        parent = f"layer{i}"
    with mounted(sn.view("v", "layer1"), tmp_path / "v") as root:
        assert tree(root) == {"etc": "dir", "etc/b": "b", "opq": "dir", "opq/new": "n"}


def _image(content: ContentStore, src_dirs: list[Path]) -> tuple[Manifest, dict]:
    layers, diff_ids = [], []
    for src in src_dirs:
        with content.writer(f"t-{src.name}") as w:
            stats = create_layer(src, w)
            w.commit(stats.digest)
        layers.append(Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", stats.digest, stats.size))
        diff_ids.append(str(stats.diff_id))
    config = {"rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cfg = Descriptor("application/vnd.oci.image.config.v1+json", Digest.from_bytes(b"{}"), 2)
    return Manifest(cfg, layers), config


def test_ensure_layers_unpacks_each_layer_once_and_shares_it(sn: SnapshotterBase, tmp_path: Path) -> None:
    content = ContentStore(tmp_path / "content")
    dirs = {}
    for name, files in {"base": {"bin/sh": "sh"}, "app": {"app": "1"}, "other": {"other": "2"}}.items():
        dirs[name] = tmp_path / "src" / name
        for rel, text in files.items():
            (dirs[name] / rel).parent.mkdir(parents=True, exist_ok=True)
            (dirs[name] / rel).write_text(text)
    m1, c1 = _image(content, [dirs["base"], dirs["app"]])
    m2, c2 = _image(content, [dirs["base"], dirs["other"]])
    top1 = ensure_layers(sn, content, m1, c1)
    assert top1 == str(chain_ids([Digest.parse(d) for d in c1["rootfs"]["diff_ids"]])[-1])
    before = [i.key for i in sn.walk()]
    assert ensure_layers(sn, content, m1, c1) == top1
    assert [i.key for i in sn.walk()] == before  # nothing unpacked twice
    top2 = ensure_layers(sn, content, m2, c2)
    committed = [i for i in sn.walk() if i.kind == Kind.COMMITTED]
    assert len(committed) == 3  # base shared by both images
    with mounted(sn.prepare("ctr", top2), tmp_path / "ctr") as root:
        assert tree(root) == {"bin": "dir", "bin/sh": "sh", "other": "2"}
    assert not any(i.key.startswith("extract-") for i in sn.walk())
    assert layer_digests(sn) == {d.digest for d in m1.layers + m2.layers}


def test_ensure_layers_keeps_nothing_of_a_bad_layer(sn: SnapshotterBase, tmp_path: Path) -> None:
    content = ContentStore(tmp_path / "content")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_text("x")
    manifest, config = _image(content, [tmp_path / "src"])
    config["rootfs"]["diff_ids"] = [str(Digest.from_bytes(b"not this layer"))]
    with pytest.raises(DiffIDMismatch, match="does not match the image config"):
        ensure_layers(sn, content, manifest, config)
    assert list(sn.walk()) == []


@pytest.mark.privileged
def test_overlay_mounts_a_chain_longer_than_one_page_of_options(tmp_path: Path) -> None:
    sn = OverlaySnapshotter(tmp_path / "s" / ("long-directory-name-" * 3))
    parent = None
    for i in range(90):
        sn.prepare(f"a{i}", parent)
        target, _ = sn.apply_dir(f"a{i}")
        Path(target, f"f{i}").write_text(str(i))
        sn.commit(f"l{i}", f"a{i}")
        parent = f"l{i}"
    mounts = sn.prepare("top", parent)
    assert len(mounts[0].options[0]) > 4096
    with mounted(mounts, tmp_path / "m") as root:
        assert len(os.listdir(root)) == 90
        assert (root / "f0").read_text() == "0"
    sn.close()


def test_concurrent_unpacks_of_the_same_image_keep_one_copy(sn: SnapshotterBase, tmp_path: Path) -> None:
    import threading

    content = ContentStore(tmp_path / "content")
    src = tmp_path / "src"
    for i in range(50):
        (src / f"d{i % 5}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 5}" / f"f{i}").write_text(str(i))
    manifest, config = _image(content, [src])
    tops, errors = [], []

    def unpack() -> None:
        other = type(sn)(sn.root)  # its own database handle, like another process
        try:
            tops.append(ensure_layers(other, content, manifest, config))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            other.close()

    threads = [threading.Thread(target=unpack) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(tops)) == 1
    assert [(i.key, i.kind) for i in sn.walk()] == [(tops[0], Kind.COMMITTED)]
    assert len(os.listdir(sn.dirs)) == 1


def test_open_snapshotter_picks_overlay_as_root_and_copy_otherwise(tmp_path: Path) -> None:
    from dockyard.oci.snapshot.overlay import open_snapshotter, overlay_supported

    sn = open_snapshotter(tmp_path / "snapshots")
    try:
        assert isinstance(sn, OverlaySnapshotter if overlay_supported() else CopySnapshotter)
        assert overlay_supported() == (os.geteuid() == 0)  # CI: root on a kernel with overlayfs
    finally:
        sn.close()
