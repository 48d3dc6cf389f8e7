"""What `create` guarantees before `start`, however the init gets into its cgroups: it is in every
hierarchy, the devices allow-list is in force, and the poststart/poststop hooks are those
config.json had at create (as runc keeps its config), not whatever the file says later."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from dockyard.runtime.cgroups.v1 import hierarchies

pytestmark = pytest.mark.privileged


def _created(runtime, edit=None) -> tuple[str, int]:
    cid = runtime.new_id()
    runtime("create", "--bundle", str(runtime.bundle(["sleep", "60"], edit)), cid, check=True)
    return cid, json.loads(runtime("state", cid, check=True).stdout)["pid"]


@pytest.mark.parametrize("cgroupns", [False, True], ids=["host-cgroupns", "own-cgroupns"])
def test_a_created_init_is_in_all_its_cgroups(runtime, cgroupns):
    def edit(cfg):
        kinds = {n["type"] for n in cfg["linux"]["namespaces"]}
        if cgroupns and "cgroup" not in kinds:
            cfg["linux"]["namespaces"].append({"type": "cgroup"})
        if not cgroupns:
            cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]

    cid, pid = _created(runtime, edit)
    # Read from our side: the host's view of the init's membership, one line per hierarchy.
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    assert len(lines) == len(hierarchies())
    assert all(line.endswith(f"/{cid}") for line in lines), lines
    devices = next((mnt for mnt in hierarchies() if os.path.basename(mnt) == "devices"), None)
    if devices is not None:
        own = dict(line.split(":", 2)[1:] for line in lines)["devices"]
        allowed = Path(f"{devices}{own}/devices.list").read_text().split("\n")
        assert "c 1:3 rwm" in allowed and "c 136:* rwm" in allowed and "a *:* rwm" not in allowed
    runtime("delete", "--force", cid, check=True)


def test_hooks_after_create_are_those_config_json_had_at_create(runtime, tmp_path):
    log = tmp_path / "hooks.log"
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\necho \"$1\" >> {log}\n")
    script.chmod(0o755)

    def edit(cfg):
        cfg["hooks"] = {k: [{"path": str(script), "args": ["hook.sh", k]}] for k in ("poststart", "poststop")}

    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], edit)
    runtime("create", "--bundle", str(bundle), cid, check=True)
    cfg = json.loads((bundle / "config.json").read_text())
    del cfg["hooks"]
    (bundle / "config.json").write_text(json.dumps(cfg))
    runtime("start", cid, check=True)
    for _ in range(500):
        if json.loads(runtime("state", cid).stdout)["status"] == "stopped":
            break
        time.sleep(0.01)
    runtime("delete", cid, check=True)
    assert log.read_text().split() == ["poststart", "poststop"]


def test_an_exec_process_is_in_all_the_containers_cgroups(runtime):
    def edit(cfg):  # no cgroup namespace: the exec'd process reads host paths
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "cgroup"]

    cid, _ = _created(runtime, edit)
    runtime("start", cid, check=True)
    res = runtime("exec", cid, "cat", "/proc/self/cgroup", check=True)
    lines = res.stdout.splitlines()
    assert len(lines) == len(hierarchies())
    assert all(line.endswith(f"/{cid}") for line in lines), lines
    runtime("delete", "--force", cid, check=True)
