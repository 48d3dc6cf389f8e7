"""Cgroup v1: one directory per mounted hierarchy, limits written per controller.

Every hierarchy found in /proc/self/mountinfo is joined (named ones such as name=systemd and a
hybrid unified tree too), so the container's view is consistent, as runc's is.  cpuset needs
cpus/mems copied down from the parent before a task may join; memsw is the OCI ``swap`` value
(memory + swap), written after the memory limit.
"""

from __future__ import annotations

import os

from dockyard.runtime.cgroups import CgroupError, Generic, write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def hierarchies() -> dict[str, str]:
    """mount point → own cgroup path, for every cgroup/cgroup2 mount."""
    return {mnt: own for mnt, own, _ in mounts()}


def mounts() -> list[tuple[str, str, bool]]:
    """(mount point, own cgroup path, is cgroup2) for every cgroup/cgroup2 mount."""
    own: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            own[ctrls] = path
    found: dict[str, tuple[str, str, bool]] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.split(" - ", 1)
            fstype, _, opts = post.split()[:3]
            mnt = pre.split()[4]
            if fstype == "cgroup2":
                found[mnt] = (mnt, own.get("", "/"), True)
            elif fstype == "cgroup":
                optset = set(opts.split(","))
                for ctrls, path in own.items():
                    if ctrls and set(ctrls.split(",")) <= optset:
                        found[mnt] = (mnt, path, False)
    return list(found.values())


class V1(Generic):
    def __init__(self, dirs: list[str], created: list[str], by_ctrl: dict[str, str]) -> None:
        super().__init__(dirs)
        self.created = created
        self.by_ctrl = by_ctrl

    @classmethod
    def make(cls, path: str) -> V1:
        dirs: list[str] = []
        created: list[str] = []
        by_ctrl: dict[str, str] = {}
        self = cls(dirs, created, by_ctrl)
        try:
            for mnt, own, unified in mounts():
                rel = path if path.startswith("/") else os.path.join(own, path)
                d = os.path.normpath(mnt + "/" + rel)
                self._mkdirs(mnt, d)
                dirs.append(d)
                if unified:  # cgroup2 has no per-thread move out of a domain cgroup
                    self.unified = d
                else:
                    self.self_join.append(os.path.join(d, "tasks"))
                by_ctrl[os.path.basename(mnt)] = d
        except OSError as e:
            self.destroy()
            raise CgroupError(f"config.json: linux.cgroupsPath {path!r}: cannot create: {e.strerror}") from None
        return self

    def _mkdirs(self, mnt: str, d: str) -> None:
        parts = os.path.relpath(d, mnt).split(os.sep)
        cur = mnt
        for p in parts:
            parent, cur = cur, os.path.join(cur, p)
            if not os.path.isdir(cur):
                os.mkdir(cur)
                self.created.append(cur)
                if os.path.exists(os.path.join(cur, "cpuset.cpus")):
                    for name in ("cpuset.cpus", "cpuset.mems"):
                        with open(os.path.join(parent, name)) as f:
                            value = f.read().strip()
                        with open(os.path.join(cur, name), "w") as f:
                            f.write(value)

    def apply(self, res: dict[str, Any]) -> None:
        mem, cpu = res.get("memory") or {}, res.get("cpu") or {}
        d = self.by_ctrl.get("memory")
        if d:
            for key, fname in (("limit", "memory.limit_in_bytes"), ("swap", "memory.memsw.limit_in_bytes"),
                               ("reservation", "memory.soft_limit_in_bytes")):
                if mem.get(key) is not None:
                    write(d, fname, mem[key], f"linux.resources.memory.{key}", mem[key])
            if mem.get("kernelTCP") is not None:
                write(d, "memory.kmem.tcp.limit_in_bytes", mem["kernelTCP"], "linux.resources.memory.kernelTCP",
                      mem["kernelTCP"])
            if mem.get("swappiness") is not None:
                write(d, "memory.swappiness", mem["swappiness"], "linux.resources.memory.swappiness",
                      mem["swappiness"])
            if mem.get("disableOOMKiller"):
                write(d, "memory.oom_control", 1, "linux.resources.memory.disableOOMKiller", "true")
        d = self.by_ctrl.get("cpu")
        if d:
            for key, fname in (("shares", "cpu.shares"), ("period", "cpu.cfs_period_us"),
                               ("quota", "cpu.cfs_quota_us")):
                if cpu.get(key) is not None:
                    write(d, fname, cpu[key], f"linux.resources.cpu.{key}", cpu[key])
        d = self.by_ctrl.get("cpuset")
        if d:
            for key in ("cpus", "mems"):
                if cpu.get(key):
                    write(d, f"cpuset.{key}", cpu[key], f"linux.resources.cpu.{key}", repr(cpu[key]))
        limit = (res.get("pids") or {}).get("limit")
        if limit is not None and self.by_ctrl.get("pids"):
            write(self.by_ctrl["pids"], "pids.max", limit if limit > 0 else "max", "linux.resources.pids.limit",
                  limit)
        weight = (res.get("blockIO") or {}).get("weight")
        if weight is not None:
            self._blkio_weight(weight)
        for i, hl in enumerate(res.get("hugepageLimits") or []):
            self._hugetlb(i, hl)
        if res.get("devices") is not None and self.by_ctrl.get("devices"):
            from dockyard.runtime.devices import apply_v1

            apply_v1(self.by_ctrl["devices"], res["devices"])

    def _hugetlb(self, i: int, hl: dict[str, Any]) -> None:
        d = self.by_ctrl.get("hugetlb", "")
        fname = f"hugetlb.{hl['pageSize']}.limit_in_bytes"
        if not d or not os.path.exists(os.path.join(d, fname)):
            raise CgroupError(f"config.json: linux.resources.hugepageLimits[{i}].pageSize {hl['pageSize']!r}: "
                              "no such huge page size here (or no hugetlb controller)")
        write(d, fname, hl["limit"], f"linux.resources.hugepageLimits[{i}].limit", hl["limit"])

    def _blkio_weight(self, weight: int) -> None:
        d = self.by_ctrl.get("blkio", "")
        for fname in ("blkio.weight", "blkio.bfq.weight"):
            if d and os.path.exists(os.path.join(d, fname)):
                write(d, fname, weight, "linux.resources.blockIO.weight", weight)
                return
        raise CgroupError(f"config.json: linux.resources.blockIO.weight {weight}: not supported here "
                          "(no blkio.weight: the block devices' I/O scheduler has no weights)")
