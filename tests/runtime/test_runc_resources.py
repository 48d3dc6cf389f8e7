"""Cgroup limits (v1, real), seccomp, and bad input: each failure a one-line error naming the
field, with nothing left behind (the ``runtime`` fixture sweeps state, cgroups and mounts)."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.privileged


def test_limits_are_written_to_the_cgroup(runtime):
    def edit(cfg):
        cfg["linux"]["resources"].update(
            memory={"limit": 64 << 20, "swap": 128 << 20}, pids={"limit": 42},
            cpu={"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"})

    res = runtime.run(runtime.bundle(["sh", "-c", "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes "
                                                  "memory/memory.memsw.limit_in_bytes pids/pids.max cpu/cpu.shares "
                                                  "cpu/cpu.cfs_quota_us cpuset/cpuset.cpus"], edit))
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(64 << 20), str(128 << 20), "42", "512", "50000", "0"]


def test_memory_hog_is_oom_killed(runtime):
    def edit(cfg):
        cfg["linux"]["resources"]["memory"] = {"limit": 16 << 20, "swap": 16 << 20}

    # busybox `tail` of an endless line keeps it all in memory; it is the container's process.
    res = runtime.run(runtime.bundle(["sh", "-c", "exec tail /dev/zero"], edit))
    assert res.returncode == 137


def test_fork_bomb_stops_at_pids_limit(runtime):
    def edit(cfg):
        cfg["linux"]["resources"]["pids"] = {"limit": 10}

    # The inner shell forks until it cannot (and dies of it); the outer one counts with builtins only.
    script = ("sh -c 'for i in $(seq 30); do sleep 5 & done'; "
              "read n < /sys/fs/cgroup/pids/pids.current; echo $n")
    res = runtime.run(runtime.bundle(["sh", "-c", script], edit))
    assert 5 <= int(res.stdout.split()[-1]) <= 10
    assert "can't fork" in res.stderr


def test_devices_cgroup_denies_other_devices(runtime):
    def edit(cfg):
        cfg["linux"]["devices"] = [{"path": "/dev/loopy", "type": "c", "major": 1, "minor": 11}]  # /dev/kmsg

    res = runtime.run(runtime.bundle(["sh", "-c", "head -c1 /dev/loopy; echo rc=$?; head -c1 /dev/zero | wc -c"], edit))
    assert "rc=1" in res.stdout and res.stdout.split()[-1] == "1"
    assert "Operation not permitted" in res.stderr


def test_seccomp_denies_with_errno(runtime):
    def edit(cfg):
        cfg["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                         {"names": ["no_such_syscall"], "action": "SCMP_ACT_ERRNO"},
                         {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                          "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}

    res = runtime.run(runtime.bundle(["sh", "-c", "mkdir /tmp/x; echo rc=$?; grep Seccomp: /proc/self/status"], edit))
    assert "rc=1" in res.stdout and "Operation not permitted" in res.stderr
    assert "Seccomp:\t2" in res.stdout


@pytest.mark.parametrize("case", ["json", "rootfs", "nstype", "symlink", "memory", "args", "cap"])
def test_bad_input_is_one_line_naming_the_field(runtime, tmp_path, case):
    b = runtime.bundle(["true"])
    cfg = json.loads((b / "config.json").read_text())
    expect = {
        "json": "config.json: invalid JSON",
        "rootfs": "root.path",
        "nstype": 'linux.namespaces[2].type "foo": unknown namespace type',
        "symlink": "mounts[1].destination",
        "memory": "linux.resources.memory.swap",
        "args": "process.args",
        "cap": "process.capabilities.bounding[0]",
    }[case]
    if case == "rootfs":
        cfg["root"]["path"] = str(tmp_path / "nowhere")
    elif case == "nstype":
        cfg["linux"]["namespaces"][2]["type"] = "foo"
    elif case == "symlink":
        evil = tmp_path / "evil-rootfs"
        os.symlink(runtime.rootfs, evil)
        link = runtime.rootfs / f"escape-{b.name}"
        link.symlink_to("../../../../../../../../tmp")
        cfg["mounts"][1]["destination"] = f"/{link.name}/pwned"
    elif case == "memory":
        cfg["linux"]["resources"]["memory"] = {"limit": 64 << 20, "swap": 1 << 20}  # swap < limit: EINVAL
    elif case == "args":
        cfg["process"]["args"] = []
    elif case == "cap":
        cfg["process"]["capabilities"]["bounding"] = ["CAP_NOPE"]
    text = "{not json" if case == "json" else json.dumps(cfg)
    (b / "config.json").write_text(text)
    try:
        res = runtime.run(b)
    finally:
        if case == "symlink":
            link.unlink()
    assert res.returncode == 1
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert expect in res.stderr
    if case == "symlink":
        assert not os.path.exists("/tmp/pwned")
