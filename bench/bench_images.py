"""Moving a 100 MB image: ingest into the content store, save to an OCI layout, load it back.

References, measured in the same run:
* ingest: ``tee dst | sha256sum`` then ``sync`` -- the floor for "hash while copying, durably".
* save / load: ``skopeo copy oci:… oci:…`` and ``oci:… oci-archive:…``, which read and write
  the same layouts (skopeo verifies digests as it copies, as we do).
Everything goes through the ``dockyard`` console script, so process start-up is in both sides.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import Result, median_time, time_command

SIZE = 100 << 20
RUNS = 3


def _dockyard() -> str:
    return str(Path(sys.executable).parent / "dockyard")


def _make_image(root: Path, work: Path) -> None:
    from dockyard.oci.images import ImageStore, commit_image
    from dockyard.oci.layer import write_layer_blob

    tree = work / "tree"
    tree.mkdir()
    for i in range(20):  # incompressible, so the blob stays ~100 MB
        (tree / f"f{i:02d}").write_bytes(os.urandom(SIZE // 20))
    images = ImageStore(root)
    layer = write_layer_blob(images.content, tree, compression="gzip")
    commit_image(images, layers=[layer], config={"config": {"Cmd": ["sh"]}}, name="bench:v1")
    images.close()
    shutil.rmtree(tree)


def run() -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        work = Path(tmp)
        root = work / "root"
        env = {**os.environ, "DOCKYARD_ROOT": str(root)}
        _make_image(root, work)
        blob = work / "blob.bin"
        blob.write_bytes(os.urandom(SIZE))

        # -- ingest ------------------------------------------------------------------------------
        def ours_ingest() -> None:
            from dockyard.oci.content import ContentStore

            store = ContentStore(work / "ingest-store")
            with open(blob, "rb") as f:
                store.ingest(f)
            shutil.rmtree(work / "ingest-store")

        ref = f"tee {work}/copy.bin < {blob} | sha256sum >/dev/null && sync {work}/copy.bin"
        results.append(Result("ingest 100 MB blob (hash+fsync+rename)", median_time(ours_ingest, runs=RUNS),
                              time_command(["sh", "-c", ref], runs=RUNS), "tee|sha256sum+sync"))

        # -- save ------------------------------------------------------------------------------
        layout, other = work / "layout", work / "other"
        subprocess.run([_dockyard(), "image", "save", "bench:v1", "-o", str(layout)], env=env, check=True)

        def clean(*paths: Path) -> None:
            for p in paths:
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()

        ours = time_command([_dockyard(), "image", "save", "bench:v1", "-o", str(work / "out")], env=env,
                            runs=RUNS, setup=lambda: clean(work / "out"))
        skopeo_dir = time_command(["skopeo", "copy", "-q", f"oci:{layout}:v1", f"oci:{other}:v1"], runs=RUNS,
                                  setup=lambda: clean(other))
        results.append(Result("save to OCI layout dir (hard links)", ours, skopeo_dir, "skopeo copy oci→oci"))

        tar = work / "out.tar"
        ours = time_command([_dockyard(), "image", "save", "bench:v1", "-o", str(tar)], env=env, runs=RUNS,
                            setup=lambda: clean(tar))
        theirs = time_command(["skopeo", "copy", "-q", f"oci:{layout}:v1", f"oci-archive:{tar}:v1"],
                              runs=RUNS, setup=lambda: clean(tar))
        results.append(Result("save to oci-archive tar", ours, theirs, "skopeo copy oci→oci-archive"))

        # -- load ------------------------------------------------------------------------------
        fresh = work / "fresh"
        ours = time_command([_dockyard(), "image", "load", "-q", "-i", str(layout)],
                            env={**env, "DOCKYARD_ROOT": str(fresh)}, runs=RUNS, setup=lambda: clean(fresh))
        results.append(Result("load OCI layout dir (verify every blob)", ours, skopeo_dir, "skopeo copy oci→oci"))
    return results
