"""``spec`` and ``features``: the default config.json (the same shape ``runc spec`` writes) and
the machine-readable list of what this runtime supports."""

from __future__ import annotations

import os
from typing import Any

from dockyard.runtime import capabilities, mounts, seccomp, spec

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def default_spec(*, rootless: bool = False) -> dict[str, Any]:
    caps = {k: list(DEFAULT_CAPS) for k in ("bounding", "effective", "permitted", "ambient")}
    cfg: dict[str, Any] = {
        "ociVersion": "1.0.2",
        "process": {"terminal": True, "user": {"uid": 0, "gid": 0}, "args": ["sh"],
                    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                    "cwd": "/", "capabilities": caps,
                    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}], "noNewPrivileges": True},
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "dockyard",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                            "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    if rootless:
        linux = cfg["linux"]
        linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "network"] + [{"type": "user"}]
        linux["uidMappings"] = [{"containerID": 0, "hostID": os.getuid(), "size": 1}]
        linux["gidMappings"] = [{"containerID": 0, "hostID": os.getgid(), "size": 1}]
        linux.pop("resources")
        cfg["mounts"] = [m for m in cfg["mounts"] if m["type"] != "cgroup"]
        for m in cfg["mounts"]:
            if m["type"] == "devpts":
                m["options"].remove("gid=5")
            if m["type"] == "sysfs":
                m.update(type="none", source="/sys", options=["rbind", "nosuid", "noexec", "nodev", "ro"])
    return cfg


def features() -> dict[str, Any]:
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.1.0",
        "hooks": sorted(spec.HOOKS),
        "mountOptions": sorted([*mounts.FLAGS, *mounts.PROPAGATION]),
        "linux": {
            "namespaces": sorted(spec.NAMESPACES),
            "capabilities": list(capabilities.CAPS),
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False},
            "seccomp": {"enabled": True, "actions": sorted(seccomp.ACTIONS), "operators": sorted(seccomp.OPS),
                        "archs": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"]},
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
        },
        "annotations": {"org.opencontainers.runc.version": "dockyard"},
    }
