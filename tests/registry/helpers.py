"""Shared helpers for registry tests: a served registry subprocess and tiny OCI images."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Served:
    url: str
    proc: subprocess.Popen
    root: Path

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def vm_hwm_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM")


@contextlib.contextmanager
def serve(root: Path, *args: str) -> Iterator[Served]:
    """``dockyard registry serve`` on a free loopback port with its own data root."""
    env = {**os.environ, "DOCKYARD_ROOT": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dockyard.cli", "registry", "serve", "--addr", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if "listening on" not in line:
            proc.kill()
            raise AssertionError(f"registry did not start: {line}{proc.stderr.read() if proc.stderr else ''}")
        yield Served(line.split()[-1], proc, root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def write_layout(path: Path, tag: str, layers: list[bytes], *, layer_files: list[Path] = ()) -> str:
    """A minimal valid OCI image layout with *layers* (and big layers given as files); returns
    the manifest digest."""
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        d = sha256(data)
        (blobs / d[7:]).write_bytes(data)
        return d

    import gzip

    # gzip layers, as registries carry them; skopeo would compress plain tars and change digests
    layers = [gzip.compress(data, mtime=0) for data in layers]
    descs = [{"mediaType": OCI_LAYER, "digest": put(data), "size": len(data)} for data in layers]
    for f in layer_files:
        h = hashlib.sha256()
        with open(f, "rb") as src:
            while chunk := src.read(1 << 20):
                h.update(chunk)
        target = blobs / h.hexdigest()
        os.replace(f, target)
        descs.append({"mediaType": OCI_LAYER, "digest": f"sha256:{h.hexdigest()}", "size": target.stat().st_size})
    config = {"architecture": "amd64", "os": "linux", "config": {},
              "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]}}
    cfg = json.dumps(config).encode()
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": put(cfg), "size": len(cfg)}, "layers": descs}
    mbytes = json.dumps(manifest).encode()
    mdigest = put(mbytes)
    (path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": mdigest, "size": len(mbytes),
                                                "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (path / "index.json").write_text(json.dumps(index))
    return mdigest


def tar_of(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def docker_registry(tmp: Path, htpasswd: Path | None = None) -> Iterator[str]:
    """Debian's docker-registry (distribution 2.8) on loopback; yields its host:port."""
    import shutil
    import time
    import urllib.error
    import urllib.request

    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = (f"auth:\n  htpasswd:\n    realm: basic-realm\n    path: {htpasswd}\n" if htpasswd else "")
    config = tmp / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{auth}"
    )
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # 401: up, with auth
            except OSError:
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def htpasswd_file(tmp: Path, user: str = "alice", password: str = "s3cret") -> Path:
    import shutil

    line = subprocess.run([shutil.which("htpasswd") or "htpasswd", "-Bbn", user, password], check=True,
                          capture_output=True, text=True).stdout
    path = tmp / "htpasswd"
    path.write_text(line)
    return path


def make_image(root: Path, name: str, *, sizes: tuple[int, ...] = (2000, 300_000)) -> str:
    """Commit a small image (one gzip layer per size) into the image store at *root*."""
    import gzip

    from dockyard.base.digest import Digest
    from dockyard.oci.images import ImageStore, LayerBlob, commit_image

    store = ImageStore(root)
    try:
        layers = []
        for i, size in enumerate(sizes):
            raw = tar_of({f"file{i}": os.urandom(size)})
            gz = gzip.compress(raw, compresslevel=1, mtime=0)
            layers.append(LayerBlob(store.content.put_bytes(gz), Digest.from_bytes(raw), len(gz)))
        return str(commit_image(store, layers=layers, config={"config": {"Cmd": ["sh"]}}, name=name))
    finally:
        store.close()


def cli(root: Path, *args: str, docker_config: Path | None = None, input: str | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKYARD_ROOT": str(root)}
    if docker_config is not None:
        env["DOCKER_CONFIG"] = str(docker_config)
    proc = subprocess.run([sys.executable, "-m", "dockyard.cli", *args], capture_output=True, text=True,
                          env=env, input=input, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"dockyard {' '.join(args)} failed: {proc.stdout}{proc.stderr}")
    return proc


def require_tool(name: str) -> str:
    """As tests/conftest.py's: a missing peer fails the test (CI installs them all).

    Defined here because ``from conftest import …`` resolves to whichever conftest module pytest
    imported first when the whole suite runs."""
    import shutil

    import pytest

    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run `make deps` (CI installs it)")
    return path


class CuttingProxy:
    """A loopback TCP proxy that, once, drops a connection after *cut_after* bytes in one direction
    (``"up"``: client → server, ``"down"``: server → client) — a real network failure mid-transfer."""

    def __init__(self, target_port: int, *, cut_after: int, direction: str) -> None:
        self.target_port, self.cut_after, self.direction = target_port, cut_after, direction
        self.cuts = 0
        self.port = 0
        self._server = None

    async def __aenter__(self) -> CuttingProxy:
        import asyncio

        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader, writer) -> None:
        import asyncio

        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        done = asyncio.Event()

        async def pipe(src, dst, direction: str) -> None:
            sent = 0
            try:
                while chunk := await src.read(65536):
                    if direction == self.direction and self.cuts == 0 and sent + len(chunk) > self.cut_after:
                        self.cuts += 1
                        dst.write(chunk[: self.cut_after - sent])
                        await dst.drain()
                        break
                    sent += len(chunk)
                    dst.write(chunk)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                done.set()

        tasks = [asyncio.ensure_future(pipe(reader, up_writer, "up")),
                 asyncio.ensure_future(pipe(up_reader, writer, "down"))]
        await done.wait()
        for t in tasks:
            t.cancel()
        for w in (writer, up_writer):
            w.close()
