"""``--userns private``: root in the container is an unprivileged block of host ids.

Unit tests cover the range bookkeeping and the spec; the privileged ones run busybox through the
CLI, with idmapped layers and with the chown fallback, and check nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.base.errors import FailedPrecondition, InvalidArgument
from dockyard.engine import userns
from dockyard.engine.options import RunOptions
from dockyard.engine.spec import SpecContext, build_spec

DOCKYARD = str(Path(sys.executable).parent / "dockyard")
BUSYBOX_CONFIG = {"config": {"Cmd": ["sh"]}}


def test_userns_modes_are_validated() -> None:
    for mode in ("host", "private", "auto", "remap", None):
        RunOptions(image="busybox", userns=mode).validate()
    with pytest.raises(InvalidArgument, match="--userns 'keep-id'"):
        RunOptions(image="busybox", userns="keep-id").validate()
    with pytest.raises(InvalidArgument, match="drop --userns for pod members"):
        RunOptions(image="busybox", userns="private", pod="web").validate()


def test_ranges_come_from_subuid_dockyard_lines(tmp_path: Path) -> None:
    subuid = tmp_path / "subuid"
    subuid.write_text("alice:100000:65536\ndockyard:300000:131072\n")
    assert userns.ranges(subuid) == [(300000, 131072)]
    subuid.write_text("alice:100000:65536\n")
    assert userns.ranges(subuid) == [userns.DEFAULT_RANGE]


def test_blocks_are_exclusive_and_released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(userns, "ranges", lambda: [(500000, 2 * userns.SIZE)])
    monkeypatch.setattr(userns, "check_reachable", lambda path: None)  # pytest's tmp dirs are 0700
    a, b = userns.allocate(tmp_path, "ctr-a"), userns.allocate(tmp_path, "ctr-b")
    assert {a, b} == {500000, 500000 + userns.SIZE}
    with pytest.raises(FailedPrecondition, match="in use"):
        userns.allocate(tmp_path, "ctr-c")
    assert userns.lookup(tmp_path, "ctr-b") == b
    userns.release(tmp_path, "ctr-a")
    assert userns.lookup(tmp_path, "ctr-a") is None
    assert userns.allocate(tmp_path, "ctr-c") == a
    userns.release(tmp_path, "never-allocated")  # harmless


def test_spec_of_a_remapped_container_has_a_user_namespace(tmp_path: Path) -> None:
    uid_map, gid_map = userns.id_maps(700000)
    ctx = SpecContext(cid="c" * 64, name="n", rootfs=tmp_path, remapped=True, uid_map=uid_map, gid_map=gid_map)
    spec = build_spec(BUSYBOX_CONFIG, RunOptions(image="busybox", userns="private"), ctx)
    assert {"type": "user"} in spec["linux"]["namespaces"]
    assert spec["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 700000, "size": 65536}]
    assert spec["linux"]["gidMappings"] == spec["linux"]["uidMappings"]
    assert "devices" in spec["linux"]["resources"]  # still a root engine: the devices cgroup applies


@pytest.fixture
def open_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data root the remapped root can traverse (pytest's own tmp dirs are 0700, as root's are)."""
    root = Path("/tmp") / f"dy-userns-{uuid.uuid4().hex[:10]}"
    root.mkdir(mode=0o711)
    monkeypatch.setenv("DOCKYARD_ROOT", str(root))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _yard(*args: str, env: dict[str, str] | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKYARD_NETWORK": "none", **(env or {})}  # not a networking test: no bridge
    proc = subprocess.run([DOCKYARD, *args], env=env, capture_output=True, text=True, timeout=90)
    assert (proc.returncode == 0) == ok, f"dockyard {' '.join(args)}: {proc.stderr}"
    return proc


@pytest.mark.privileged
@pytest.mark.e2e
@pytest.mark.parametrize("idmap", ["1", "0"], ids=["idmapped-layers", "chown-fallback"])
def test_private_userns_container(open_root: Path, state_dir: Path, idmap: str) -> None:
    data_root = open_root
    _yard("image", "bootstrap", "busybox")
    shared = open_root / "shared"  # like the data root, reachable by the remapped root
    shared.mkdir()
    shared.chmod(0o777)
    script = ("id -u; cat /proc/self/uid_map; stat -c %u:%g /bin/busybox /etc/hostname; "
              "echo hi > /new && stat -c %u /new; touch /shared/made-inside")
    out = _yard("run", "--rm", "--userns", "private", "-v", f"{shared}:/shared", "busybox", "sh", "-c", script,
                env={"DOCKYARD_USERNS_IDMAP": idmap}).stdout.split("\n")
    assert out[0] == "0"
    inside, host_base, size = (int(x) for x in out[1].split())
    assert inside == 0 and size == 65536 and host_base >= 65536
    assert out[2:5] == ["0:0", "0:0", "0"]  # the image's files and the container's own are root's inside
    made = (shared / "made-inside").stat()
    assert (made.st_uid, made.st_gid) == (host_base, host_base)  # an unprivileged uid on the host, not 0
    # Nothing left: no mounts under the data root, no allocated range, no container.
    assert str(data_root) not in Path("/proc/self/mountinfo").read_text()
    assert not list((data_root / "userns").iterdir())
    assert _yard("ps", "-a", "-q").stdout.strip() == ""


@pytest.mark.privileged
@pytest.mark.e2e
def test_private_userns_survives_restart_and_rm(open_root: Path, state_dir: Path, unique_name: str) -> None:
    data_root = open_root
    _yard("image", "bootstrap", "busybox")
    _yard("create", "--name", unique_name, "--userns", "private", "busybox",
          "sh", "-c", "echo x >> /count; wc -l < /count; stat -c %u /count")
    try:
        for _ in range(2):
            _yard("start", "-a", unique_name)
        assert _yard("logs", unique_name).stdout.split() == ["1", "0", "2", "0"]  # its writes persist, root's
        assert len(list((data_root / "userns").iterdir())) == 1
    finally:
        _yard("rm", "-f", unique_name)
    assert not list((data_root / "userns").iterdir())
    assert str(data_root) not in Path("/proc/self/mountinfo").read_text()


@pytest.mark.privileged
@pytest.mark.e2e
def test_unreachable_data_root_is_a_clear_error(data_root: Path, state_dir: Path) -> None:
    _yard("image", "bootstrap", "busybox")
    proc = _yard("run", "--rm", "--userns", "private", "busybox", "true", ok=False)
    assert "is not searchable by the container's remapped root" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (data_root / "userns").exists()  # no range was taken
    assert _yard("ps", "-a", "-q").stdout.strip() == ""
