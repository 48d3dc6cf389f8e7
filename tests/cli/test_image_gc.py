"""The CLI's garbage collection of the shared content store: what the registry and containers hold
stays, the rest goes; each tenant is asked through its public query."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dockyard.base.errors import FailedPrecondition
from dockyard.engine import imagegc, usage
from dockyard.oci.images import ImageStore
from dockyard.registry.server.gc import held_blobs
from dockyard.registry.server.state import ManifestRow, RegistryState


def dockyard(*args: str) -> str:
    exe = Path(sys.executable).parent / "dockyard"
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert proc.returncode == 0, f"dockyard {' '.join(args)}: {proc.stderr}"
    return proc.stdout


@pytest.fixture
def image(data_root: Path, tmp_path: Path) -> str:
    """An imported one-layer image named app:1; its ID."""
    tree = tmp_path / "rootfs"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    tar = tmp_path / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        t.add(tree, arcname=".")
    return dockyard("image", "import", str(tar), "app:1").strip()


@pytest.fixture
def images(data_root: Path):
    store = ImageStore(data_root)
    yield store
    store.close()


def test_gc_keeps_what_the_registry_holds_and_removes_the_rest(data_root: Path, image: str, images) -> None:
    put = images.content.put_bytes
    referenced, linked, owned, stray = (put(f"blob {n}".encode()) for n in range(4))
    manifest = put(b'{"a pushed": "manifest"}')
    state = RegistryState(data_root / "registry.db")
    state.put_manifest(ManifestRow("team/app", str(manifest), "application/vnd.oci.image.manifest.v1+json",
                                   24, None, None, None, [str(referenced)]), tags=["v1"])
    state.link_blob("team/app", str(linked))
    state.link_blob("team/tmp", str(owned))
    state.unlink_blob("team/tmp", str(owned))  # still the registry's until its own GC runs
    state.close()
    assert held_blobs(data_root) == {manifest, referenced, linked, owned}

    image_layers = set(images.referenced_blobs(images.resolve("app:1").digest))
    freed = imagegc.collect_garbage(images)
    assert freed == len(b"blob 3")
    assert not images.content.has(stray)
    for kept in (manifest, referenced, linked, owned, *image_layers):
        assert images.content.has(kept)


def test_no_registry_holds_nothing_and_creates_nothing(data_root: Path) -> None:
    assert held_blobs(data_root) == set() and imagegc.registry_roots(data_root) == set()
    assert usage.images_in_use(data_root) == {} and imagegc.containers_using(data_root, "sha256:x") == []
    assert not (data_root / "registry.db").exists() and not (data_root / "containers.db").exists()


def test_unreadable_registry_state_stops_the_sweep(data_root: Path, images) -> None:
    stray = images.content.put_bytes(b"maybe pushed")
    (data_root / "registry.db").write_bytes(b"not a database at all, " * 100)
    with pytest.raises(FailedPrecondition, match=r"^image GC: cannot read the registry's blobs in .*nothing removed$"):
        imagegc.collect_garbage(images)
    assert images.content.has(stray)


def test_images_used_by_containers_are_reported_and_their_layers_kept(data_root: Path, image: str, images) -> None:
    from dockyard.engine.options import RunOptions
    from dockyard.engine.store import ContainerRecord, ContainerStore
    from dockyard.oci.snapshot.layers import ensure_layers
    from dockyard.oci.snapshot.overlay import OverlaySnapshotter

    store = ContainerStore(data_root)
    for n, name in enumerate(("web", "worker")):
        store.insert(ContainerRecord(id=f"{n}" * 64, name=name, pod=name, image="app:1", image_id=image,
                                     runtime="dockyard", options=RunOptions(image="app:1")))
    store.close()
    assert sorted(usage.images_in_use(data_root)[image]) == ["web", "worker"]
    assert sorted(imagegc.containers_using(data_root, image)) == ["web", "worker"]

    # The engine's create: the image's layers unpacked, the container's snapshot on top.
    snaps = OverlaySnapshotter(data_root / "snapshots")
    try:
        manifest, config = images.manifest_for(images.resolve("app:1"))
        top = ensure_layers(snaps, images.content, manifest, config)
        snaps.prepare("0" * 64, top)
        dockyard("rmi", "-f", "app:1")
        imagegc.collect_garbage(images)
        assert imagegc.collect_snapshots(images) == 0
        assert {i.key for i in snaps.walk()} == {top, "0" * 64}  # the container still sits on its layer
        snaps.remove("0" * 64)  # `dockyard rm`
        assert imagegc.collect_snapshots(images) > 0
        assert list(snaps.walk()) == []
    finally:
        snaps.close()
