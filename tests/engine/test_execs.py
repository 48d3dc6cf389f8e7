"""The exec process spec: the container's own process with the caller's args, env, user, cwd, tty."""

import json
from pathlib import Path

import pytest

from dockyard.base.errors import InvalidArgument
from dockyard.engine.execs import exec_process

CONTAINER_PROCESS = {
    "terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "sleep 1000"],
    "env": ["PATH=/usr/bin:/bin", "HOME=/root", "A=1"], "cwd": "/srv",
    "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_CHOWN", "CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}], "noNewPrivileges": True,
    "apparmorProfile": "", "oomScoreAdj": 0,
}


class Bundles:
    """The one thing exec_process asks of the engine: where a container's bundle is."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def bundle(self, cid: str) -> Path:
        return self.root / cid


@pytest.fixture
def engine(tmp_path):
    bundle = tmp_path / "c1"
    (bundle / "rootfs/etc").mkdir(parents=True)
    (bundle / "rootfs/etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
    (bundle / "rootfs/etc/group").write_text("root:x:0:\napp:x:1001:\nstaff:x:50:app\n")
    (bundle / "config.json").write_text(json.dumps({"ociVersion": "1.1.0", "process": CONTAINER_PROCESS}))
    return Bundles(tmp_path)


def test_plain_exec_is_the_container_process_with_new_args(engine):
    process = exec_process(engine, "c1", ["ls", "-l"])
    assert process == {**CONTAINER_PROCESS, "args": ["ls", "-l"], "terminal": False}


def test_env_user_workdir_and_tty(engine):
    process = exec_process(engine, "c1", ("id",), env=["A=2", "B=3"], user="app:staff", workdir="/tmp", tty=True)
    assert process["args"] == ["id"]
    assert process["env"] == ["PATH=/usr/bin:/bin", "HOME=/root", "A=2", "B=3", "TERM=xterm"]
    assert process["user"]["uid"] == 1000 and process["user"]["gid"] == 50
    assert process["cwd"] == "/tmp" and process["terminal"] is True
    # What the exec does not change stays the container's.
    for key in ("capabilities", "rlimits", "noNewPrivileges"):
        assert process[key] == CONTAINER_PROCESS[key]


def test_tty_keeps_a_term_the_caller_gave(engine):
    assert exec_process(engine, "c1", ["sh"], env=["TERM=vt100"], tty=True)["env"][-1] == "TERM=vt100"


def test_empty_user_and_workdir_keep_the_containers(engine):
    process = exec_process(engine, "c1", ["sh"], user="", workdir="")
    assert process["user"] == CONTAINER_PROCESS["user"] and process["cwd"] == "/srv"


def test_unknown_user_is_refused(engine):
    with pytest.raises(InvalidArgument, match="nobody"):
        exec_process(engine, "c1", ["sh"], user="nobody")


def test_the_docker_api_builds_the_same_process(engine):
    from dockyard.dockerapi.execs import _process

    cfg = {"Cmd": ["id", "-u"], "Env": ["B=3"], "User": "1000", "WorkingDir": "/w"}
    assert _process(engine, "c1", cfg, True) == exec_process(
        engine, "c1", ["id", "-u"], env=["B=3"], user="1000", workdir="/w", tty=True)
    assert _process(engine, "c1", {"Cmd": ["sh"], "Env": None, "User": "", "WorkingDir": ""}, False) == \
        exec_process(engine, "c1", ["sh"])
