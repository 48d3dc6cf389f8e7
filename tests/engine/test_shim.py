"""The shim over its socket, driving real runc: state machine, exit codes, logs, going away cleanly."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from dockyard.base.errors import FailedPrecondition, NotFound
from dockyard.engine import shimclient
from dockyard.engine.options import RunOptions
from dockyard.engine.shim import protocol
from dockyard.engine.spec import SpecContext, build_spec
from dockyard.oci.bootstrap import busybox_rootfs

pytestmark = [pytest.mark.privileged, pytest.mark.e2e]


def make_bundle(path: Path, args: list[str], *, cid: str) -> Path:
    (path / "rootfs").mkdir(parents=True)
    config = busybox_rootfs(path / "rootfs")
    opts = RunOptions(image="busybox", command=args)
    spec = build_spec(config if "config" in config else {"config": config}, opts,
                      SpecContext(cid=cid, name=cid, rootfs=path / "rootfs", cgroups_path=f"/dockyard-{cid}"))
    (path / "config.json").write_text(json.dumps(spec))
    return path


def read_stream(sock) -> tuple[bytes, bytes, int]:
    reader = protocol.FrameReader()
    out, err = b"", b""
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


@pytest.fixture
def runc() -> list[str]:
    path = shutil.which("runc")
    if path is None:
        pytest.fail("runc is not installed; run `make deps`")
    return [path]


def test_shim_runs_a_container_and_goes_away(tmp_path: Path, state_dir: Path, unique_name: str,
                                             runc: list[str]) -> None:
    cid = unique_name
    bundle = make_bundle(tmp_path / "b", ["sh", "-c", "echo out; echo err >&2; exit 3"], cid=cid)
    client = shimclient.spawn(state_dir, cid, [*runc, "--root", str(state_dir / "runc")])
    shim_pid = client.call("state")["pid"]
    client.call("create", id=cid, bundle=str(bundle), log_path=str(tmp_path / "log.json"))
    assert client.call("state")["containers"][cid]["status"] == "created"
    with pytest.raises(FailedPrecondition, match=f"cannot exec container {cid}: it is created"):
        client.call("exec", id=cid, exec_id="e1", process={"args": ["true"], "cwd": "/"})
    sock, _ = client.request("attach", id=cid, timeout=None)
    client.call("start", id=cid)
    assert read_stream(sock) == (b"out\n", b"err\n", 3)
    sock.close()
    assert client.wait(cid) == 3
    with pytest.raises(FailedPrecondition, match=f"cannot start container {cid}: it is stopped"):
        client.call("start", id=cid)
    with pytest.raises(NotFound):
        client.call("start", id="other")
    state = json.loads((shimclient.shim_dir(state_dir, cid) / "state.json").read_text())
    assert state["containers"][cid]["exit_code"] == 3
    logs = [json.loads(line) for line in (tmp_path / "log.json").read_text().splitlines()]
    assert sorted((r["stream"], r["log"]) for r in logs) == [("stderr", "err\n"), ("stdout", "out\n")]
    client.call("delete", id=cid)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{shim_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(f"/proc/{shim_pid}").exists()
    assert not shimclient.shim_dir(state_dir, cid).exists()
    assert not (state_dir / "runc" / cid).exists()
    assert not any(Path("/sys/fs/cgroup").glob(f"*/dockyard-{cid}"))


def test_shim_whose_state_dir_is_wiped_ends_its_pod(tmp_path: Path, state_dir: Path, unique_name: str,
                                                    runc: list[str]) -> None:
    cid = unique_name
    bundle = make_bundle(tmp_path / "b", ["sleep", "60"], cid=cid)
    client = shimclient.spawn(state_dir, cid, [*runc, "--root", str(state_dir / "runc")])
    client.call("create", id=cid, bundle=str(bundle))
    pid = client.call("start", id=cid)["pid"]
    shim_pid = client.call("state")["pid"]
    os.unlink(client.sock_path)
    deadline = time.monotonic() + 10
    while (Path(f"/proc/{shim_pid}").exists() or Path(f"/proc/{pid}").exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()
    assert not Path(f"/proc/{shim_pid}").exists()


def test_attach_with_start_starts_once_attached(tmp_path: Path, state_dir: Path, unique_name: str,
                                                runc: list[str]) -> None:
    cid = unique_name
    bundle = make_bundle(tmp_path / "b", ["sh", "-c", "echo first; exit 5"], cid=cid)
    client = shimclient.spawn(state_dir, cid, [*runc, "--root", str(state_dir / "runc")])
    try:
        client.call("create", id=cid, bundle=str(bundle), log_path=str(tmp_path / "log.json"))
        sock, reply = client.request("attach", id=cid, start=True, timeout=None)
        assert reply["started"] and reply["pid"] > 0
        assert read_stream(sock) == (b"first\n", b"", 5)  # its very first output reaches us
        sock.close()
        assert client.wait(cid) == 5
        state = json.loads((shimclient.shim_dir(state_dir, cid) / "state.json").read_text())
        assert state["containers"][cid]["status"] == "stopped"
        assert state["containers"][cid]["exit_code"] == 5
        with pytest.raises(FailedPrecondition, match=f"cannot start container {cid}: it is stopped"):
            client.request("attach", id=cid, start=True, timeout=None)
        with pytest.raises(NotFound):
            client.request("attach", id="other", start=True, timeout=None)
    finally:
        client.call("delete", id=cid, force=True)
