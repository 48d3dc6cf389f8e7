"""Garbage collection: images and extra roots keep blobs; leases and live ingests are spared."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from dockyard.base.digest import Digest
from dockyard.oci import gc
from dockyard.oci.images import ImageStore, commit_image
from dockyard.oci.layer import write_layer_blob


def image(images: ImageStore, tmp: Path, name: str, text: str) -> Digest:
    tree = tmp / name.replace(":", "_")
    tree.mkdir()
    (tree / "f").write_text(text)
    layer = write_layer_blob(images.content, tree)
    return commit_image(images, layers=[layer], config={}, name=name)


def test_gc_keeps_referenced_and_sweeps_the_rest(data_root: Path, tmp_path: Path) -> None:
    images = ImageStore(data_root)
    keep = image(images, tmp_path, "keep:1", "a")
    gone = image(images, tmp_path, "gone:1", "b")
    gone_blobs = set(images.referenced_blobs(gone))
    keep_blobs = set(images.referenced_blobs(keep))
    orphan = images.content.put_bytes(b"orphan")
    rooted = images.content.put_bytes(b"rooted by the snapshotter")

    images.delete(images.untag("gone:1"))
    dry = gc.collect(images, extra_roots=[rooted], dry_run=True)
    assert set(dry.removed) == gone_blobs | {orphan}
    assert all(images.content.has(d) for d in dry.removed)

    result = gc.collect(images, extra_roots=lambda: [rooted])
    assert set(result.removed) == gone_blobs | {orphan}
    assert result.freed > 0
    assert set(images.content.list()) == keep_blobs | {rooted}
    assert images.manifest_for(images.resolve("keep:1"))[1]["rootfs"]["diff_ids"]


def test_gc_extra_root_manifest_keeps_its_tree(data_root: Path, tmp_path: Path) -> None:
    images = ImageStore(data_root)
    digest = image(images, tmp_path, "used:1", "c")
    blobs = set(images.referenced_blobs(digest))
    images.delete(images.untag("used:1"))  # a container still runs from it
    assert gc.collect(images, extra_roots=[digest]).removed == []
    assert set(images.content.list()) == blobs


def test_gc_spares_leased_blobs(data_root: Path) -> None:
    images = ImageStore(data_root)
    with images.content.lease() as lease:
        d = lease.add(images.content.put_bytes(b"being built"))
        assert gc.collect(images).removed == []
    assert gc.collect(images).removed == [d]


CONCURRENT_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from dockyard.base.digest import Digest
    from dockyard.oci.content import ContentStore
    store = ContentStore(Path(sys.argv[1]))
    data = open(sys.argv[2], "rb").read()
    expected = Digest.from_bytes(data)
    with store.writer("concurrent", expected=expected, size=len(data)) as w:
        w.write(data[: len(data) // 2])
        print("half", flush=True)
        sys.stdin.readline()          # wait while the GC runs
        w.write(data[len(data) // 2 :])
        print(w.commit(), flush=True)
    """
)


def test_gc_never_removes_what_a_concurrent_writer_is_ingesting(data_root: Path, tmp_path: Path) -> None:
    images = ImageStore(data_root)
    payload = os.urandom(1 << 20)
    expected = Digest.from_bytes(payload)
    # A stale copy of the same blob already sits unreferenced in the store: the live ingest of
    # that digest must keep GC from removing it (the writer will rely on it being there).
    images.content.ingest(io.BytesIO(payload))
    src = tmp_path / "payload"
    src.write_bytes(payload)
    proc = subprocess.Popen(
        [sys.executable, "-c", CONCURRENT_WRITER, str(images.content.root), str(src)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdin and proc.stdout
    try:
        assert proc.stdout.readline().strip() == "half"
        assert images.content.active_ingests() == ["concurrent"]
        result = gc.collect(images, stale_ingest_age=0)
        assert expected not in result.removed and result.stale_ingests == 0
        assert len(list(images.content.ingests.iterdir())) == 1  # partial data untouched
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == str(expected)
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    with images.content.open(expected) as f:
        assert Digest.from_stream(f) == expected


def test_gc_removes_abandoned_ingests_only_when_old(data_root: Path) -> None:
    images = ImageStore(data_root)
    with images.content.writer("abandoned") as w:
        w.write(b"partial")
    assert gc.collect(images, stale_ingest_age=3600).stale_ingests == 0
    assert gc.collect(images, stale_ingest_age=-1).stale_ingests == 1
    assert not any(images.content.ingests.iterdir())


def test_snapshot_gc_keeps_image_layers_and_what_containers_use(data_root: Path, tmp_path: Path) -> None:
    from dockyard.oci.snapshot.copy import CopySnapshotter
    from dockyard.oci.snapshot.layers import ensure_layers

    images = ImageStore(data_root)
    snaps = CopySnapshotter(data_root / "snapshots")
    try:
        tops = {}
        for name in ("keep:1", "gone:1", "used:1"):
            digest = image(images, tmp_path, name, name)
            manifest, config = images.manifest_for(images.get(digest))
            tops[name] = ensure_layers(snaps, images.content, manifest, config)
        snaps.prepare("container-1", tops["used:1"])  # a container runs on used:1
        images.delete(images.untag("gone:1"))
        images.delete(images.untag("used:1"))

        assert gc.collect_snapshots(images, snaps, dry_run=True) == [tops["gone:1"]]
        assert gc.collect_snapshots(images, snaps) == [tops["gone:1"]]
        assert {i.key for i in snaps.walk()} == {tops["keep:1"], tops["used:1"], "container-1"}
        snaps.remove("container-1")
        assert gc.collect_snapshots(images, snaps) == [tops["used:1"]]
        assert gc.collect_snapshots(images, snaps, extra_roots=[]) == []
    finally:
        snaps.close()
