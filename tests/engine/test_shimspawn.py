"""Shims started ahead of need: the spare a daemon keeps, and one handed to ``Engine.create``.

Real shim processes (no container is run, so no root is needed); each test shuts down what it
started and checks the shim's directory is gone.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from dockyard.engine import shimclient
from dockyard.engine.shimspawn import PendingShim, SpareShim

ARGV = ["/bin/false", "--root", "/nonexistent"]  # never run: no container is created


def _gone(path: Path, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not path.exists():
            return True
        time.sleep(0.02)
    return False


def _shims(state_dir: Path) -> list[Path]:
    return sorted((state_dir / "shims").glob("*")) if (state_dir / "shims").exists() else []


def test_a_pending_shim_answers_once_ready_and_goes_when_abandoned(state_dir: Path) -> None:
    pending = PendingShim(state_dir, "a" * 64, ARGV)
    assert pending.runtime_argv == ARGV
    client = pending.ready()
    assert client.sock_path == shimclient.shim_dir(state_dir, "a" * 64) / "shim.sock"
    assert client.alive()
    pending.abandon()
    assert _gone(shimclient.shim_dir(state_dir, "a" * 64))


def test_the_spare_is_handed_over_once_for_its_runtime(state_dir: Path) -> None:
    spare = SpareShim(state_dir)
    assert spare.take(ARGV) is None  # none started yet
    spare.refill(ARGV)
    spare.refill(ARGV)  # one at a time
    assert len(_shims(state_dir)) == 1
    got = spare.take(ARGV)
    assert got is not None and got.runtime_argv == ARGV
    assert spare.take(ARGV) is None
    assert got.ready().alive()
    got.abandon()
    assert _gone(state_dir / "shims" / got.pod[:24])


def test_a_spare_for_another_runtime_or_too_old_is_let_go(state_dir: Path) -> None:
    spare = SpareShim(state_dir)
    spare.refill(ARGV)
    [first] = _shims(state_dir)
    assert spare.take(["/bin/true", "--root", "/elsewhere"]) is None
    assert _gone(first)
    spare.refill(ARGV)
    [second] = _shims(state_dir)
    spare.MAX_AGE = -1.0  # as if it had idled for too long
    assert spare.take(ARGV) is None
    assert _gone(second)


def test_a_spare_whose_state_dir_was_wiped_is_not_handed_over(state_dir: Path) -> None:
    spare = SpareShim(state_dir)
    spare.refill(ARGV)
    [shim] = _shims(state_dir)
    shutil.rmtree(shim)  # what a reboot does to /run: the shim sees its socket vanish and ends
    assert spare.take(ARGV) is None


def test_close_shuts_the_spare_down_and_stops_refills(state_dir: Path) -> None:
    spare = SpareShim(state_dir)
    spare.refill(ARGV)
    [shim] = _shims(state_dir)
    spare.close()
    assert _gone(shim)
    spare.refill(ARGV)
    assert _shims(state_dir) == []
