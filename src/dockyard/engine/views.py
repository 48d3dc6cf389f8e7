"""Read-only views of a container: ``inspect`` (docker's JSON shape, the fields people use), ``top``, ``stats``."""

from __future__ import annotations

import json

from dockyard.base.clock import rfc3339
from dockyard.engine import network, stats
from dockyard.engine.bundle import cgroups_path

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _time(ts: float | None) -> str:
    return rfc3339(ts, nanos=True) if ts else _ZERO_TIME


def inspect(engine, rec) -> dict:
    st = engine.status(rec)
    try:
        spec = json.loads((engine.bundle(rec.id) / "config.json").read_text())
    except (OSError, ValueError):
        spec = {}
    process = spec.get("process", {})
    args = process.get("args", [])
    opts = rec.options
    return {
        "Id": rec.id,
        "Created": _time(rec.created),
        "Path": args[0] if args else "",
        "Args": args[1:],
        "State": {
            "Status": st.status,
            "Running": st.running,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": st.status == "dead",
            "Pid": st.pid if st.running else 0,
            "ExitCode": st.exit_code or 0,
            "StartedAt": _time(st.started_at),
            "FinishedAt": _time(st.finished_at),
        },
        "Image": rec.image_id,
        "ResolvConfPath": str(engine.bundle(rec.id) / "resolv.conf"),
        "HostnamePath": str(engine.bundle(rec.id) / "hostname"),
        "HostsPath": str(engine.bundle(rec.id) / "hosts"),
        "LogPath": str(engine.log_path(rec.id)),
        "Name": f"/{rec.name}",
        "RestartCount": rec.restarts,
        "Driver": "overlay",
        "Platform": "linux",
        "Pod": rec.pod,
        "HostConfig": {
            "Runtime": rec.runtime,
            "NetworkMode": opts.network,
            "Binds": opts.volumes,
            "Tmpfs": {t.partition(":")[0]: t.partition(":")[2] for t in opts.tmpfs},
            "AutoRemove": opts.auto_remove,
            "ReadonlyRootfs": opts.read_only,
            "CapAdd": opts.cap_add,
            "CapDrop": opts.cap_drop,
            "SecurityOpt": opts.security_opt,
            "Memory": opts.memory or 0,
            "NanoCpus": int((opts.cpus or 0) * 1e9),
            "PidsLimit": opts.pids_limit,
        },
        "Config": {
            "Hostname": spec.get("hostname", ""),
            "User": opts.user or "",
            "Tty": opts.tty,
            "OpenStdin": opts.interactive,
            "Env": process.get("env", []),
            "Cmd": opts.command,
            "Entrypoint": opts.entrypoint,
            "Image": rec.image,
            "WorkingDir": process.get("cwd", ""),
            "Labels": opts.labels,
        },
        "NetworkSettings": network.settings(engine, rec),
        "Mounts": [{"Type": "bind", "Source": m["source"], "Destination": m["destination"],
                    "RW": "ro" not in m.get("options", [])}
                   for m in spec.get("mounts", []) if m.get("type") == "bind"
                   and not m["destination"].startswith(("/etc/", "/sys"))],
    }


def top(engine, rec) -> list[dict]:
    path = cgroups_path(rec.id)
    pids = stats.pids(path) if path else []
    if not pids:
        st = engine.status(rec)
        pids = [st.pid] if st.running else []
    return stats.process_rows(pids)


def sample(engine, rec) -> stats.Sample:
    path = cgroups_path(rec.id)
    return stats.sample(path) if path else stats.Sample()
