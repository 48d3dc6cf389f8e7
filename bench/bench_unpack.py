"""Unpacking a 100 MB, 5,000-file layer: ours vs `umoci unpack` vs `tar -x` (the floor).

The layer is built once under /tmp/dockyard-bench-unpack (random-and-zero files of 0-40 kB in
100 x 7 directories, so gzip halves it, like real layers), stored in a dockyard image store and
exported as an OCI layout for umoci.  Every run unpacks into a fresh directory; removing the
previous tree and ``sync`` happen outside the timed part, for all three alike, and the three are
interleaved run by run.

    .venv/bin/python bench/run.py unpack
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import Result

WORK = Path("/tmp/dockyard-bench-unpack")
FILES = 5_000
RUNS = 5


def _build_tree(root: Path) -> None:
    rng = random.Random(1)
    for i in range(FILES):
        d = root / f"d{i % 100:03d}" / f"s{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        size = rng.randint(0, 40_000)
        (d / f"f{i:05d}.bin").write_bytes(rng.randbytes(size // 2) + bytes(size - size // 2))


def _prepare() -> tuple[Path, Path, Path]:
    """(gzip blob, plain tar, OCI layout) — built on the first run, reused after."""
    from dockyard.oci.images import ImageStore, commit_image
    from dockyard.oci.layer import create_layer, write_layer_blob
    from dockyard.oci.layout import DirSink, Exported, write_layout

    layout, plain = WORK / "layout", WORK / "layer.tar"
    if not (layout / "index.json").exists():
        shutil.rmtree(WORK, ignore_errors=True)
        _build_tree(WORK / "tree")
        images = ImageStore(WORK / "root")
        blob = write_layer_blob(images.content, WORK / "tree")
        commit_image(images, layers=[blob], config={}, name="bench/unpack:latest")
        sink = DirSink(layout)
        write_layout(images, [Exported(images.resolve("bench/unpack:latest"), "bench/unpack:latest")], sink)
        sink.close()
        images.close()
        with open(plain, "wb") as f:
            create_layer(WORK / "tree", f, compression="none")
    index = (layout / "index.json").read_text()
    digest = index.split('"digest":"sha256:')[1].split('"')[0]
    manifest = (layout / "blobs" / "sha256" / digest).read_text()
    layer_hex = manifest.split('"layers":[')[1].split('"digest":"sha256:')[1].split('"')[0]
    return layout / "blobs" / "sha256" / layer_hex, plain, layout


def _fresh(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if path.name != "bundle":  # umoci wants to create its bundle itself
        path.mkdir(parents=True)
    os.sync()


def _ours(blob: Path, out: Path) -> None:
    from dockyard.oci.layer import apply_layer

    with open(blob, "rb") as f:
        apply_layer(f, out)


def _cpu_now() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _sh(argv: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _measure(sides: dict[str, tuple[Callable[[], object], Path]]) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds per side, the sides interleaved round by round so that a change
    in machine load hits all of them alike.  CPU time (user + system, threads and children
    included) is reported too because it barely moves when other jobs share the machine."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for round_ in range(RUNS + 1):  # round 0 warms the page cache
        for name, (fn, out) in sides.items():
            _fresh(out)
            t0, c0 = time.perf_counter(), _cpu_now()
            fn()
            if round_:
                samples[name].append((time.perf_counter() - t0, _cpu_now() - c0))
    return {name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
            for name, runs in samples.items()}


def run() -> list[Result]:
    blob, plain, layout = _prepare()
    out, bundle = WORK / "out", WORK / "bundle"
    m = _measure({
        "ours gzip": (lambda: _ours(blob, out), out),
        "tar -xzf": (_sh(["tar", "-xzf", str(blob), "-C", str(out)]), out),
        "umoci unpack": (_sh(["umoci", "unpack", "--image", f"{layout}:latest", str(bundle)]), bundle),
        "ours plain": (lambda: _ours(plain, out), out),
        "tar -xf": (_sh(["tar", "-xf", str(plain), "-C", str(out)]), out),
    })
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(bundle, ignore_errors=True)
    gz, plain_ = "unpack 100MB/5000 files, gzip", "unpack 100MB/5000 files, uncompressed"
    return [
        Result(gz, m["ours gzip"][0], m["tar -xzf"][0], "tar -xzf", target="target <= 1.2x"),
        Result(gz, m["ours gzip"][0], m["umoci unpack"][0], "umoci unpack", target="target < 1x"),
        Result(plain_, m["ours plain"][0], m["tar -xf"][0], "tar -xf", target="target <= 1.2x"),
        Result(gz + ", CPU", m["ours gzip"][1], m["tar -xzf"][1], "tar -xzf"),
        Result(gz + ", CPU", m["ours gzip"][1], m["umoci unpack"][1], "umoci unpack"),
        Result(plain_ + ", CPU", m["ours plain"][1], m["tar -xf"][1], "tar -xf"),
    ]
