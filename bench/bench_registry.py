"""Registry transfers: our server vs docker-registry, our client vs skopeo, and server memory.

(a) server: skopeo pushes a 200 MB image (4 x 50 MB layers) from an OCI layout to a fresh
    `dockyard registry serve` and pulls it back into a fresh layout; the same against Debian's
    docker-registry (distribution 2.8).  Time of push + pull, median of RUNS.
(b) client: `dockyard push` + `dockyard pull` of the same image vs `skopeo copy` both ways, both
    against a fresh docker-registry each run.
(c) peak RSS (VmHWM) of our server while skopeo pushes a 1 GB layer, vs docker-registry's.

Everything runs on loopback under /tmp/dockyard-bench-registry; registries start outside the
timed part.  Layers are stored-deflate gzip of random bytes, so no side spends time compressing.

    .venv/bin/python bench/run.py registry
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

from bench.harness import Result

WORK = Path("/tmp/dockyard-bench-registry")
RUNS = 3
MB = 1 << 20
LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"


def _gzip_file(path: Path, size: int, seed: int) -> None:
    block = hashlib.sha512(str(seed).encode()).digest() * (MB // 64)
    gz = zlib.compressobj(0, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        for i in range(size // MB):
            f.write(gz.compress(os.urandom(16) + i.to_bytes(8, "little") + block[24:]))
        f.write(gz.flush())


def _layout(path: Path, sizes: list[int]) -> Path:
    if (path / "index.json").exists():
        return path
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layers = []
    for i, size in enumerate(sizes):
        tmp = path / f"layer{i}"
        _gzip_file(tmp, size, i)
        h = hashlib.sha256()
        with open(tmp, "rb") as f:
            while chunk := f.read(MB):
                h.update(chunk)
        tmp.rename(blobs / h.hexdigest())
        layers.append({"mediaType": LAYER_GZ, "digest": f"sha256:{h.hexdigest()}",
                       "size": (blobs / h.hexdigest()).stat().st_size})

    def put(doc: dict) -> dict:
        data = json.dumps(doc).encode()
        d = hashlib.sha256(data).hexdigest()
        (blobs / d).write_bytes(data)
        return {"digest": f"sha256:{d}", "size": len(data)}

    config = put({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": [x["digest"] for x in layers]}})
    manifest = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                    "layers": layers})
    (path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
        "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _ours(root: Path) -> Iterator[tuple[str, int]]:
    shutil.rmtree(root, ignore_errors=True)
    proc = subprocess.Popen([sys.executable, "-m", "dockyard.cli", "registry", "serve", "--addr", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "DOCKYARD_ROOT": str(root)})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        yield line.split("://")[-1].strip(), proc.pid
    finally:
        proc.terminate()
        proc.wait()


@contextlib.contextmanager
def _distribution(root: Path) -> Iterator[tuple[str, int]]:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    port = _free_port()
    (root / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        yield f"127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait()


def _run(*argv: str, env: dict | None = None) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env={**os.environ, **(env or {})})


def _skopeo_round_trip(layout: Path, host: str) -> float:
    back = WORK / "back"
    shutil.rmtree(back, ignore_errors=True)
    t0 = time.perf_counter()
    _run("skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:v1", f"docker://{host}/bench/app:v1")
    _run("skopeo", "copy", "--src-tls-verify=false", f"docker://{host}/bench/app:v1", f"oci:{back}:v1")
    return time.perf_counter() - t0


def _server_bench(layout: Path) -> tuple[float, float]:
    ours, theirs = [], []
    for _ in range(RUNS):
        with _ours(WORK / "ours-root") as (host, _pid):
            ours.append(_skopeo_round_trip(layout, host))
        with _distribution(WORK / "dist-root") as (host, _pid):
            theirs.append(_skopeo_round_trip(layout, host))
    return statistics.median(ours), statistics.median(theirs)


def _import_layout(layout: Path, root: Path) -> None:
    """Put the layout's image into a dockyard image store (content store + tag)."""
    from dockyard.base.digest import Digest
    from dockyard.oci.images import ImageStore

    images = ImageStore(root)
    for blob in (layout / "blobs" / "sha256").iterdir():
        with open(blob, "rb") as f:
            images.content.ingest(f, expected=Digest("sha256", blob.name))
    desc = json.loads((layout / "index.json").read_text())["manifests"][0]
    images.tag("bench/app:v1", Digest.parse(desc["digest"]), desc["mediaType"])
    images.close()


def _client_bench(layout: Path) -> tuple[float, float]:
    src, dst = WORK / "client-src", WORK / "client-dst"
    shutil.rmtree(src, ignore_errors=True)
    _import_layout(layout, src)
    dy = [sys.executable, "-m", "dockyard.cli"]
    ours, theirs = [], []
    for _ in range(RUNS):
        with _distribution(WORK / "dist-root") as (host, _pid):
            _run(*dy, "tag", "bench/app:v1", f"{host}/bench/app:v1", env={"DOCKYARD_ROOT": str(src)})
            shutil.rmtree(dst, ignore_errors=True)
            t0 = time.perf_counter()
            _run(*dy, "push", "-q", f"{host}/bench/app:v1", env={"DOCKYARD_ROOT": str(src)})
            _run(*dy, "pull", "-q", f"{host}/bench/app:v1", env={"DOCKYARD_ROOT": str(dst)})
            ours.append(time.perf_counter() - t0)
        with _distribution(WORK / "dist-root") as (host, _pid):
            theirs.append(_skopeo_round_trip(layout, host))
    return statistics.median(ours), statistics.median(theirs)


def _hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _memory_bench(layout: Path) -> tuple[float, float]:
    peaks = []
    for server in (_ours, _distribution):
        with server(WORK / "mem-root") as (host, pid):
            _run("skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:v1", f"docker://{host}/big:v1")
            peaks.append(_hwm_mib(pid))
    return peaks[0], peaks[1]


def run() -> list[Result]:
    WORK.mkdir(parents=True, exist_ok=True)
    image = _layout(WORK / "layout-200mb", [50 * MB] * 4)
    big = _layout(WORK / "layout-1gb", [1024 * MB])
    results = []
    ours, theirs = _server_bench(image)
    results.append(Result("server: skopeo push+pull 200MB", ours, theirs, "docker-registry",
                          target="target <= 1.0x (time)"))
    ours, theirs = _client_bench(image)
    results.append(Result("client: push+pull 200MB to docker-registry", ours, theirs, "skopeo",
                          target="target <= 1.0x (time)"))
    ours, theirs = _memory_bench(big)
    results.append(Result("server: peak RSS during 1GB push", ours, theirs, "docker-registry", unit="MiB",
                          target="target <= 100 MiB"))
    return results
