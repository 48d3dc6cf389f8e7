"""Side-by-side benchmark helpers: time commands or callables, print medians and ratios.

A benchmark module under bench/ (``bench_*.py``) defines ``run() -> list[Result]``; each Result
compares ours with a reference measured in the same run, so machine noise hits both alike.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    name: str
    ours: float
    reference: float
    reference_name: str
    unit: str = "s"
    lower_is_better: bool = True
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("inf")

    def line(self) -> str:
        return (
            f"{self.name:<44} ours {fmt(self.ours, self.unit):>12}   {self.reference_name} "
            f"{fmt(self.reference, self.unit):>12}   ratio {self.ratio:6.2f}x   {self.target}"
        )


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def median_time(fn: Callable[[], object], *, runs: int = 10, warmup: int = 1,
                setup: Callable[[], object] | None = None) -> float:
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    samples = []
    for _ in range(runs):
        if setup:
            setup()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def time_command(argv: Sequence[str], *, runs: int = 10, warmup: int = 1,
                 setup: Callable[[], object] | None = None, **kw) -> float:
    def once() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)

    return median_time(once, runs=runs, warmup=warmup, setup=setup)


def wait_socket(path: Path, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    """Until *proc* (a daemon called *what*) accepts connections on the unix socket *path*."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}) before listening on {path}")
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(path))
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on {path}")
