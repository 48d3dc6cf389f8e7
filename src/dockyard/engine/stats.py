"""Resource figures from a container's cgroup (v1 controllers or the v2 unified tree) and its processes.

The engine puts each container at ``cgroupsPath = /dockyard-<id>``; the runtime creates it under
every v1 controller (``/sys/fs/cgroup/<controller>/dockyard-<id>``) or once in the v2 tree.  We
read what ``docker stats`` shows: CPU time, memory use and limit, pids; ``top`` lists the
processes in that cgroup.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
UNLIMITED = 1 << 62


@dataclass
class Sample:
    cpu_ns: int = 0
    memory: int = 0
    memory_limit: int = 0
    pids: int = 0


def _int(path: Path, default: int = 0) -> int:
    try:
        text = path.read_text().strip()
    except OSError:
        return default
    if text == "max":
        return UNLIMITED
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return default


def _unified() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").exists()


def cgroup_dir(controller: str, cgroups_path: str) -> Path:
    rel = cgroups_path.lstrip("/")
    return CGROUP_ROOT / rel if _unified() else CGROUP_ROOT / controller / rel


def sample(cgroups_path: str) -> Sample:
    if _unified():
        d = CGROUP_ROOT / cgroups_path.lstrip("/")
        usage_usec = 0
        try:
            for line in (d / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    usage_usec = int(value)
        except OSError:
            pass
        return Sample(usage_usec * 1000, _int(d / "memory.current"), _int(d / "memory.max", UNLIMITED),
                      _int(d / "pids.current"))
    mem = cgroup_dir("memory", cgroups_path)
    usage = _int(mem / "memory.usage_in_bytes")
    # docker subtracts the page cache that could be dropped (total_inactive_file)
    try:
        for line in (mem / "memory.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "total_inactive_file":
                usage = max(0, usage - int(value))
    except OSError:
        pass
    limit = _int(mem / "memory.limit_in_bytes", UNLIMITED)
    return Sample(_int(cgroup_dir("cpuacct", cgroups_path) / "cpuacct.usage"), usage, limit,
                  _int(cgroup_dir("pids", cgroups_path) / "pids.current"))


def pids(cgroups_path: str) -> list[int]:
    d = cgroup_dir("pids", cgroups_path)
    try:
        return sorted(int(p) for p in (d / "cgroup.procs").read_text().split())
    except OSError:
        return []


def process_rows(pid_list: list[int]) -> list[dict]:
    """What ``top`` prints for each pid: uid, pid, ppid, state, cpu time and the command line."""
    tick = os.sysconf("SC_CLK_TCK")
    rows = []
    for pid in pid_list:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            uid = Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0]
        except (OSError, IndexError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        secs = (int(fields[11]) + int(fields[12])) // tick
        rows.append({"UID": uid, "PID": str(pid), "PPID": fields[1], "STAT": fields[0],
                     "TIME": f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}",
                     "CMD": cmd or stat[stat.index("(") + 1 : stat.rindex(")")]})
    return rows


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.4g}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1024
    return f"{n}"
