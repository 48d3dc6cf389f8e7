"""API server throughput and latency: ours on SQLite beside ours on a real etcd (the reference store).

    .venv/bin/python bench/run.py apiserver

Measures, with 100 and 10k pods stored: creates/s, gets/s (p99), list of all pods; watch event
latency (write acknowledged → event received, p99); resident memory with 10k pods.  Clients are
aiohttp with 16 concurrent requests, in this process.  Targets: ≥ 2,000 gets/s, ≥ 500 creates/s,
watch p99 ≤ 10 ms, list of 10k pods ≤ 0.5 s, RSS ≤ 150 MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

from bench.harness import Result

CONCURRENCY = 16


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str) -> None:
    for _ in range(400):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


class Proc:
    def __init__(self, argv: list[str], env: dict[str, str], health: str) -> None:
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(health)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def pod(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i:05d}", "labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "ports": [{"containerPort": 80}]}]}}


async def _run_many(session: aiohttp.ClientSession, n: int, make) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            t0 = time.perf_counter()
            async with make(session, i) as r:
                await r.read()
                assert r.status < 300, await r.text()
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - t0, sorted(latencies)


def p99(samples: list[float]) -> float:
    return samples[int(len(samples) * 0.99) - 1] if samples else 0.0


async def measure(url: str, proc: Proc) -> dict[str, float]:
    base = url + "/api/v1/namespaces/default/pods"
    out: dict[str, float] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as s:
        for count, start in ((100, 0), (10_000, 100)):
            n = count - start
            elapsed, lat = await _run_many(s, n, lambda s, i, start=start: s.post(base, json=pod(start + i)))
            out[f"create/s ({count})"] = n / elapsed
            out[f"create p99 ({count})"] = p99(lat)
            gets = 2000
            elapsed, lat = await _run_many(s, gets, lambda s, i, count=count: s.get(f"{base}/p{i % count:05d}"))
            out[f"get/s ({count})"] = gets / elapsed
            out[f"get p99 ({count})"] = p99(lat)
            t0 = time.perf_counter()
            for _ in range(3):
                async with s.get(base) as r:
                    body = await r.read()  # the server's time, not our client's JSON parsing
            out[f"list all ({count})"] = (time.perf_counter() - t0) / 3
            assert body.count(b'"kind":"Pod"') == count
        out["RSS with 10k pods (MB)"] = proc.rss_mb()
        out["watch p99"] = await watch_latency(s, url)
    return out


async def watch_latency(s: aiohttp.ClientSession, url: str) -> float:
    base = url + "/api/v1/namespaces/default/configmaps"
    async with s.get(base) as r:
        rv = (await r.json())["metadata"]["resourceVersion"]
    lat: list[float] = []
    async with aiohttp.ClientSession() as ws, ws.get(base, params={"watch": "1", "resourceVersion": rv}) as stream:
        for i in range(200):
            t0 = time.perf_counter()
            async with s.post(base, json={"metadata": {"name": f"w{i}"}}) as r:
                await r.read()
            line = await stream.content.readline()
            lat.append(time.perf_counter() - t0)
            assert json.loads(line)["object"]["metadata"]["name"] == f"w{i}"
    return p99(sorted(lat))


def serve(datastore: str, root: Path) -> tuple[str, Proc]:
    port = _port()
    env = {**os.environ, "DOCKYARD_ROOT": str(root / "root"), "DOCKYARD_STATE": str(root / "state")}
    proc = Proc([sys.executable, "-m", "dockyard.cli", "apiserver", "--addr", f"127.0.0.1:{port}",
                 "--datastore", datastore], env, f"http://127.0.0.1:{port}/readyz")
    return f"http://127.0.0.1:{port}", proc


def run() -> list[Result]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-apiserver-"))
    try:
        url, ours = serve("sqlite", tmp / "sqlite")
        try:
            mine = asyncio.run(measure(url, ours))
        finally:
            ours.stop()
        client, peer = _port(), _port()
        etcd = Proc(["etcd", "--data-dir", str(tmp / "etcd"), "--listen-client-urls", f"http://127.0.0.1:{client}",
                     "--advertise-client-urls", f"http://127.0.0.1:{client}", "--listen-peer-urls",
                     f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                     "--initial-cluster", f"default=http://127.0.0.1:{peer}"], dict(os.environ),
                    f"http://127.0.0.1:{client}/health")
        try:
            url, on_etcd = serve(f"etcd://127.0.0.1:{client}", tmp / "etcd-side")
            try:
                ref = asyncio.run(measure(url, on_etcd))
            finally:
                on_etcd.stop()
        finally:
            etcd.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    targets = {"create/s (10000)": "≥ 500/s", "get/s (10000)": "≥ 2000/s", "list all (10000)": "≤ 0.5 s",
               "watch p99": "≤ 10 ms", "RSS with 10k pods (MB)": "≤ 150 MB"}
    results = []
    for name, value in mine.items():
        rate = "/s" in name
        unit = "req/s" if rate else "MB" if "MB" in name else "s"
        results.append(Result(f"apiserver {name}", value, ref[name], "dockyard on etcd 3.4", unit=unit,
                              lower_is_better=not rate, target=targets.get(name, "")))
    return results
