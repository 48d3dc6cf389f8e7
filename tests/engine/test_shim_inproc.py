"""The shim running our own runtime in a fork of itself (no second interpreter per verb)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from dockyard.base.errors import DockyardError
from dockyard.engine import runtimes, shimclient
from dockyard.engine.options import RunOptions
from dockyard.engine.shim import inproc, protocol
from dockyard.engine.spec import SpecContext, build_spec
from dockyard.oci.bootstrap import busybox_rootfs


def test_only_this_installations_dockyard_runc_runs_in_process() -> None:
    here = os.path.dirname(sys.executable)
    assert inproc.runtime_args([os.path.join(here, "dockyard-runc"), "--root", "/r"]) == ["--root", "/r"]
    source_tree = [sys.executable, "-S", "-c", "from dockyard.runtime.cli import main; main()", "--root", "/r"]
    assert inproc.runtime_args(source_tree) == ["--root", "/r"]
    assert inproc.runtime_args(["/usr/sbin/runc", "--root", "/r"]) is None
    assert inproc.runtime_args(["/elsewhere/bin/dockyard-runc", "--root", "/r"]) is None


def _bundle(path: Path, args: list[str], cid: str) -> Path:
    (path / "rootfs").mkdir(parents=True)
    config = busybox_rootfs(path / "rootfs")
    spec = build_spec(config if "config" in config else {"config": config}, RunOptions(image="busybox", command=args),
                      SpecContext(cid=cid, name=cid, rootfs=path / "rootfs", cgroups_path=f"/dockyard-{cid}"))
    (path / "config.json").write_text(json.dumps(spec))
    return path


def _stream(sock) -> tuple[bytes, bytes, int]:
    reader, out, err = protocol.FrameReader(), b"", b""
    while True:
        data = sock.recv(65536)
        assert data, "the shim closed the stream without an exit code"
        for kind, payload in reader.feed(data):
            if kind == protocol.STDOUT:
                out += payload
            elif kind == protocol.STDERR:
                err += payload
            elif kind == protocol.CONTROL:
                return out, err, json.loads(payload)["exit"]


@pytest.mark.privileged
def test_dockyard_runtime_in_process_runs_reports_and_cleans_up(tmp_path: Path, state_dir: Path,
                                                                 unique_name: str) -> None:
    cid = unique_name
    argv = runtimes.argv("dockyard", state_dir)
    assert inproc.runtime_args(argv) is not None, "the default runtime should run in the shim's fork"
    bundle = _bundle(tmp_path / "b", ["sh", "-c", "echo out; echo err >&2; exit 3"], cid)
    client = shimclient.spawn(state_dir, cid, argv)
    shim_pid = client.call("state")["pid"]
    client.call("create", id=cid, bundle=str(bundle), log_path=str(tmp_path / "log.json"))
    sock, _ = client.request("attach", id=cid, timeout=None)
    client.call("start", id=cid)
    assert _stream(sock) == (b"out\n", b"err\n", 3)
    sock.close()
    # A failing verb reports the runtime's own error, as an exec'd runtime's --log would.
    with pytest.raises(DockyardError, match=r"does not exist|not found"):
        client.call("create", id="x" + cid[:20], bundle=str(tmp_path / "missing"))
    client.call("delete", id=cid)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{shim_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(f"/proc/{shim_pid}").exists()
    assert not (state_dir / "runtime" / "dockyard" / cid).exists()
    assert not any(Path("/sys/fs/cgroup").glob(f"*/dockyard-{cid}"))


@pytest.mark.privileged
def test_dockyard_runtime_in_process_maps_a_missing_command_to_127(tmp_path: Path, state_dir: Path,
                                                                   unique_name: str) -> None:
    cid = unique_name
    client = shimclient.spawn(state_dir, cid, runtimes.argv("dockyard", state_dir))
    try:
        with pytest.raises(DockyardError, match="executable file not found") as info:
            client.call("create", id=cid, bundle=str(_bundle(tmp_path / "b", ["no-such-command"], cid)))
        assert getattr(info.value, "exec_failure", 0) == 127
    finally:
        try:
            client.call("shutdown", timeout=10)
        except DockyardError:
            pass  # already gone: a shim whose only create failed ends itself


@pytest.mark.privileged
def test_start_and_delete_run_the_bundles_poststart_and_poststop_hooks(tmp_path: Path, state_dir: Path,
                                                                       unique_name: str) -> None:
    """Without hooks the shim starts and deletes in its own process; with them it forks the
    runtime as for any verb, and the hooks run in order."""
    cid = unique_name
    log = tmp_path / "hooks.log"
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\necho \"$1\" >> {log}\n")
    script.chmod(0o755)
    bundle = _bundle(tmp_path / "b", ["true"], cid)
    spec = json.loads((bundle / "config.json").read_text())
    spec["hooks"] = {k: [{"path": str(script), "args": ["hook.sh", k]}] for k in ("poststart", "poststop")}
    (bundle / "config.json").write_text(json.dumps(spec))
    client = shimclient.spawn(state_dir, cid, runtimes.argv("dockyard", state_dir))
    client.call("create", id=cid, bundle=str(bundle))
    sock, _ = client.request("attach", id=cid, timeout=None)
    client.call("start", id=cid)
    assert _stream(sock)[2] == 0
    sock.close()
    client.call("delete", id=cid)
    assert log.read_text().split() == ["poststart", "poststop"]
    assert not (state_dir / "runtime" / "dockyard" / cid).exists()
    assert not any(Path("/sys/fs/cgroup").glob(f"*/dockyard-{cid}"))
