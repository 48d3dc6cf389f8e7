"""Pods through the engine's Python API: a sandbox and members sharing its namespaces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.engine.engine import Engine
from dockyard.engine.options import RunOptions

pytestmark = [pytest.mark.privileged, pytest.mark.e2e]


def test_pod_members_share_the_sandbox_namespaces(data_root: Path, state_dir: Path, unique_name: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_RUNTIME", "runc")
    dockyard = str(Path(sys.executable).parent / "dockyard")
    subprocess.run([dockyard, "image", "bootstrap", "busybox"], check=True, capture_output=True)
    engine = Engine(data_root=data_root, state_dir=state_dir)
    try:
        pod = engine.create_pod(unique_name)
        member = engine.create(RunOptions(image="busybox", command=["sleep", "30"], pod=unique_name))
        engine.start(member)
        sandbox_pid, member_pid = engine.status(pod).pid, engine.status(member).pid
        for ns in ("net", "ipc", "uts"):
            assert Path(f"/proc/{sandbox_pid}/ns/{ns}").readlink() == Path(f"/proc/{member_pid}/ns/{ns}").readlink()
        for ns in ("pid", "mnt"):
            assert Path(f"/proc/{sandbox_pid}/ns/{ns}").readlink() != Path(f"/proc/{member_pid}/ns/{ns}").readlink()
        assert member.pod == pod.pod  # one shim for the pod
        engine.stop(pod, timeout=5)
        assert engine.status(pod).exit_code == 0  # the pause process exits on TERM
        engine.remove(pod, force=True)
        assert engine.list() == []
        assert not list((state_dir / "shims").iterdir())
    finally:
        for rec in engine.list():
            engine.remove(rec, force=True)
        engine.close()
