"""The same bundle run by dockyard-runc, runc and crun gives the same observable results.

Each case builds one bundle (busybox rootfs, config.json from ``runc spec`` then edited) and runs
it with all three runtimes, each with its own --root and container id.  We compare exit codes and
stdout exactly; mounts seen inside are compared exactly with runc (after normalising ids) and by
mount point with crun, whose option details differ from runc's.  crun refuses this VM's hybrid
cgroups unless a v1 hugetlb hierarchy is mounted, so the session mounts one if absent (and leaves
it: it is harmless and another worker may be using it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.runc_fixtures import Runtime, leftovers, ours_argv, require_tool

pytestmark = [pytest.mark.e2e, pytest.mark.privileged]

NAMES = ("dockyard", "runc", "crun")


@pytest.fixture(scope="session")
def hugetlb() -> None:
    if not os.path.ismount("/sys/fs/cgroup/hugetlb") and not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        os.makedirs("/sys/fs/cgroup/hugetlb", exist_ok=True)
        subprocess.run(["mount", "-t", "cgroup", "-o", "hugetlb", "cgroup", "/sys/fs/cgroup/hugetlb"], check=True)


@pytest.fixture
def runtimes(tmp_path: Path, rootfs: Path, state_dir: Path, hugetlb: None) -> dict[str, Runtime]:
    rts = {
        "dockyard": Runtime(ours_argv(), state_dir / "dockyard", tmp_path, rootfs),
        "runc": Runtime([require_tool("runc")], state_dir / "runc", tmp_path, rootfs),
        "crun": Runtime([require_tool("crun")], state_dir / "crun", tmp_path, rootfs),
    }
    yield rts
    for rt in rts.values():
        for cid in rt.ids:
            rt("delete", "--force", cid)
    for name, rt in rts.items():
        assert leftovers(rt) == [], name


def runc_spec(tmp_path: Path, rootfs: Path, args: list[str]) -> dict[str, Any]:
    d = tmp_path / "spec"
    d.mkdir(exist_ok=True)
    if not (d / "config.json").exists():
        subprocess.run(["runc", "spec"], cwd=d, check=True)
    cfg = json.loads((d / "config.json").read_text())
    cfg["root"]["path"] = str(rootfs)
    cfg["process"].update(terminal=False, args=args)
    return cfg


def run_all(runtimes: dict[str, Runtime], tmp_path: Path, args: list[str], edit=None) -> dict[str, Any]:
    rt0 = runtimes["dockyard"]
    cfg = runc_spec(tmp_path, rt0.rootfs, args)
    if edit:
        edit(cfg)
    bundle = rt0.bundle(args, cfg=cfg)
    return {name: rt.run(bundle) for name, rt in runtimes.items()}


def same(results: dict[str, Any], key=lambda r: (r.returncode, r.stdout)) -> Any:
    seen = {name: key(res) for name, res in results.items()}
    assert seen["dockyard"] == seen["runc"] == seen["crun"], {n: (r.returncode, r.stdout, r.stderr)
                                                              for n, r in results.items()}
    return seen["dockyard"]


def test_exit_code_stdout_hostname_ids_and_capabilities(runtimes, tmp_path):
    def edit(cfg):
        cfg["hostname"] = "diffhost"
        cfg["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 10]}
        cfg["process"]["env"].append("X=y z")

    script = "echo $X; hostname; id; pwd; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; exit 3"
    code, out = same(run_all(runtimes, tmp_path, ["sh", "-c", script], edit))
    assert code == 3 and "diffhost" in out and "groups=5,10" in out


def test_root_capabilities_and_rlimits(runtimes, tmp_path):
    def edit(cfg):
        cfg["process"]["capabilities"]["bounding"] += ["CAP_CHOWN", "CAP_NET_RAW"]
        cfg["process"]["capabilities"]["effective"] += ["CAP_CHOWN"]
        cfg["process"]["capabilities"]["permitted"] += ["CAP_CHOWN"]
        cfg["process"]["capabilities"]["inheritable"] = ["CAP_KILL"]
        cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 88},
                                     {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600}]

    same(run_all(runtimes, tmp_path, ["sh", "-c", "grep ^Cap /proc/self/status; ulimit -n; ulimit -Hn; ulimit -u"],
                 edit))


def _mounts(out: str, cid: str) -> list[str]:
    rows = []
    for line in out.splitlines():
        pre, _, post = line.partition(" - ")
        f = pre.split()
        rows.append(" ".join([f[3].replace(cid, "ID"), f[4], f[5], *post.split()[:1]]))
    return sorted(rows)


def test_mounts_masked_and_readonly_paths(runtimes, tmp_path):
    results = run_all(runtimes, tmp_path, ["cat", "/proc/self/mountinfo"])
    views = {n: _mounts(r.stdout, runtimes[n].ids[-1]) for n, r in results.items()}
    assert all(r.returncode == 0 for r in results.values())
    assert views["dockyard"] == views["runc"]
    assert {v.split()[1] for v in views["dockyard"]} == {v.split()[1] for v in views["crun"]}
    script = ("cat /proc/keys | wc -c; ls /sys/firmware | wc -l; echo x > /proc/sysrq-trigger || echo ro1; "
              "touch /proc/sys/kernel/x 2>/dev/null || echo ro2; touch /newfile 2>/dev/null || echo ro3; "
              "touch /dev/shm/ok && echo rw4")
    _, out = same(run_all(runtimes, tmp_path, ["sh", "-c", script]))
    assert out.split() == ["0", "0", "ro1", "ro2", "ro3", "rw4"]


def test_memory_hog_oom_and_fork_bomb_pids(runtimes, tmp_path):
    def mem(cfg):
        cfg["linux"]["resources"]["memory"] = {"limit": 16 << 20, "swap": 16 << 20}

    code, _ = same(run_all(runtimes, tmp_path, ["sh", "-c", "exec tail /dev/zero"], mem))
    assert code == 137

    def pids(cfg):
        cfg["linux"]["resources"]["pids"] = {"limit": 8}

    results = run_all(runtimes, tmp_path, ["sh", "-c", "sh -c 'for i in $(seq 20); do sleep 5 & done'; echo done"],
                      pids)
    same(results)
    assert all("can't fork" in r.stderr for r in results.values())


def test_seccomp_denial(runtimes, tmp_path):
    def edit(cfg):
        cfg["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                         {"names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}

    results = run_all(runtimes, tmp_path, ["sh", "-c", "mkdir /tmp/d; echo $?; chmod 700 /tmp; echo $?; "
                                                       "grep Seccomp: /proc/self/status"], edit)
    _, out = same(results)
    assert out.split()[:2] == ["1", "1"]
    assert all("Operation not permitted" in r.stderr and "Permission denied" in r.stderr for r in results.values())


def test_joined_network_namespace(runtimes, tmp_path, unique_name):
    subprocess.run(["ip", "netns", "add", unique_name], check=True)
    try:
        subprocess.run(["ip", "-n", unique_name, "link", "add", "dyd0", "type", "veth", "peer", "name", "dyd1"],
                       check=True)

        def edit(cfg):
            for ns in cfg["linux"]["namespaces"]:
                if ns["type"] == "network":
                    ns["path"] = f"/var/run/netns/{unique_name}"

        _, out = same(run_all(runtimes, tmp_path, ["ls", "/sys/class/net"], edit))
        assert {"dyd0", "dyd1", "lo"} <= set(out.split())
    finally:
        subprocess.run(["ip", "netns", "del", unique_name], check=True)


def test_hooks(runtimes, tmp_path):
    log = tmp_path / "hooks.log"
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\nread -r state\necho \"$1 $(echo \"$state\" | grep -o '\"status\": *\"[a-z]*\"')\""
                      f" >> {log}\n")
    script.chmod(0o755)

    def edit(cfg):
        cfg["hooks"] = {k: [{"path": str(script), "args": ["hook.sh", k]}]
                        for k in ("prestart", "createRuntime", "poststart", "poststop")}

    logs = {}
    for name, rt in runtimes.items():
        log.write_text("")
        cfg = runc_spec(tmp_path, rt.rootfs, ["true"])
        edit(cfg)
        res = rt.run(rt.bundle(["true"], cfg=cfg))
        assert res.returncode == 0, (name, res.stderr)
        logs[name] = [re.sub(r"\s+", " ", line) for line in log.read_text().splitlines()]
    assert [line.split()[0] for line in logs["dockyard"]] == ["prestart", "createRuntime", "poststart", "poststop"]
    assert [line.split()[0] for line in logs["dockyard"]] == [line.split()[0] for line in logs["runc"]]
    assert [line.split()[0] for line in logs["dockyard"]] == [line.split()[0] for line in logs["crun"]]
