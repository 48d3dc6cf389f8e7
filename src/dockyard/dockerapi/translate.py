"""``POST /containers/create``'s body → the engine's :class:`RunOptions`, refusing what we cannot do.

Every field the docker CLI, docker-py and testcontainers send is known here.  A field we do not
know is refused (400), and so is a value we cannot honour (``Privileged``, a bind source that
does not exist), *before* anything is created.  Fields that only matter to dockerd's own
features (``Healthcheck``, ``LogConfig`` …) are accepted when empty or default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from dockyard.base.errors import InvalidArgument
from dockyard.engine.options import NETWORKS, RunOptions

CONFIG_FIELDS = {
    "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts", "Tty",
    "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck", "ArgsEscaped", "Image", "Volumes", "WorkingDir",
    "Entrypoint", "NetworkDisabled", "MacAddress", "OnBuild", "Labels", "StopSignal", "StopTimeout", "Shell",
    "HostConfig", "NetworkingConfig", "Platform",
}
HOST_FIELDS = {
    "Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove",
    "VolumeDriver", "VolumesFrom", "ConsoleSize", "Annotations", "CapAdd", "CapDrop", "CgroupnsMode", "Dns",
    "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd", "IpcMode", "Cgroup", "Links", "OomScoreAdj", "PidMode",
    "Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt", "StorageOpt", "Tmpfs", "UTSMode",
    "UsernsMode", "ShmSize", "Sysctls", "Runtime", "Isolation", "CpuShares", "Memory", "NanoCpus",
    "CgroupParent", "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod",
    "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems", "Devices", "DeviceCgroupRules", "DeviceRequests",
    "KernelMemory", "KernelMemoryTCP", "MemoryReservation", "MemorySwap", "MemorySwappiness", "OomKillDisable",
    "PidsLimit", "Ulimits", "CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth", "Mounts",
    "MaskedPaths", "ReadonlyPaths", "Init",
}

#: fields we cannot honour → the values that mean "not asked for" (what the docker CLI and docker-py
#: send by default).  Anything else is refused rather than dropped: `--add-host`, `--ulimit`,
#: `--sysctl`, `--pid host` … that silently did nothing would fail later, far from the cause.
_UNSET: tuple[Any, ...] = (None, "", [], {})
UNSUPPORTED: dict[str, tuple[Any, ...]] = {
    **{k: _UNSET for k in ("Devices", "DeviceRequests", "DeviceCgroupRules", "ExtraHosts", "Ulimits", "Sysctls",
                           "DnsOptions", "DnsSearch", "Links", "VolumesFrom", "GroupAdd", "PidMode", "UTSMode")},
    "IpcMode": (*_UNSET, "private", "shareable"),
}


@dataclass
class Plan:
    """What to create: the engine's options plus what the API layer does around it."""

    options: RunOptions
    ports: list[str] = field(default_factory=list)        # "ip:host:container/proto"
    network: str = "none"                                  # docker's NetworkMode, as asked
    warnings: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)      # named volumes to create first
    stop_timeout: int | None = None


def _list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"{what}: expected a list of strings")
    return list(value)


def plan(body: dict[str, Any], *, name: str | None, volume_dir) -> Plan:
    from dockyard.dockerapi.errors import check_fields

    check_fields("container config", body, CONFIG_FIELDS)
    host = body.get("HostConfig") or {}
    if not isinstance(host, dict):
        raise InvalidArgument("HostConfig: expected an object")
    check_fields("HostConfig", host, HOST_FIELDS)
    image = body.get("Image")
    if not image or not isinstance(image, str):
        raise InvalidArgument("config: Image is required")
    if host.get("Privileged"):
        raise InvalidArgument("HostConfig.Privileged: privileged containers are not supported by dockyard; "
                              "add the capabilities you need with CapAdd instead")
    for key in UNSUPPORTED:
        if host.get(key) not in UNSUPPORTED[key]:
            raise InvalidArgument(f"HostConfig.{key}: not supported by dockyard ({key} {host[key]!r} would "
                                  "be silently ignored); leave it out")
    entry = body.get("Entrypoint")
    entrypoint = None if entry is None else _list(entry, "Entrypoint")
    if entrypoint == [""]:  # `--entrypoint ""` clears the image's entrypoint
        entrypoint = []
    cmd = body.get("Cmd")
    warnings: list[str] = []
    volumes, named = _binds(host, volume_dir)
    network = host.get("NetworkMode") or "default"
    ports = _ports(host.get("PortBindings") or {})
    if host.get("PublishAllPorts"):  # -P also covers the create body's ExposedPorts (`--expose`)
        bound = set(host.get("PortBindings") or {})
        ports += [k if "/" in k else f"{k}/tcp" for k in body.get("ExposedPorts") or {} if k not in bound]
    engine_network, warn = _network(network, ports)
    warnings += warn
    if engine_network == "host":
        ports = []
    opts = RunOptions(
        image=image, command=None if cmd is None else _list(cmd, "Cmd"), entrypoint=entrypoint,
        name=name.lstrip("/") if name else None, env=_list(body.get("Env"), "Env"), volumes=volumes,
        tmpfs=[f"{k}:{v}" if v else k for k, v in (host.get("Tmpfs") or {}).items()],
        workdir=body.get("WorkingDir") or None, user=body.get("User") or None,
        hostname=body.get("Hostname") or None, memory=host.get("Memory") or None,
        cpus=_cpus(host), pids_limit=_pids(host.get("PidsLimit")), network=engine_network,
        read_only=bool(host.get("ReadonlyRootfs")), cap_add=_list(host.get("CapAdd"), "CapAdd"),
        cap_drop=_list(host.get("CapDrop"), "CapDrop"), security_opt=_list(host.get("SecurityOpt"), "SecurityOpt"),
        runtime=host.get("Runtime") if host.get("Runtime") not in (None, "", "runc-default") else None,
        tty=bool(body.get("Tty")), interactive=bool(body.get("OpenStdin")),
        auto_remove=bool(host.get("AutoRemove")), labels=dict(body.get("Labels") or {}),
        dns=_list(host.get("Dns"), "Dns"),
    )
    if ENGINE_NETWORKS and engine_network not in ("host", "none"):
        opts.ports = ports  # type: ignore[attr-defined]
        opts.publish_all = bool(host.get("PublishAllPorts"))  # type: ignore[attr-defined]
        endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
        aliases = (endpoints.get(network) or endpoints.get(engine_network) or {}).get("Aliases") or []
        opts.network_aliases = [a for a in aliases if a]  # type: ignore[attr-defined]
    opts.validate()
    return Plan(opts, ports, network, warnings, named, body.get("StopTimeout"))


def _cpus(host: dict[str, Any]) -> float | None:
    if host.get("NanoCpus"):
        return int(host["NanoCpus"]) / 1e9
    if host.get("CpuQuota") and int(host["CpuQuota"]) > 0:
        return int(host["CpuQuota"]) / int(host.get("CpuPeriod") or 100_000)
    return None


def _pids(value: Any) -> int | None:
    if value in (None, 0):
        return None
    return int(value)


def _binds(host: dict[str, Any], volume_dir) -> tuple[list[str], list[str]]:
    """``Binds`` and bind/volume ``Mounts`` → engine volume specs; named volumes come from *volume_dir*."""
    specs, named = [], []
    for bind in _list(host.get("Binds"), "Binds"):
        parts = bind.split(":")
        if len(parts) < 2:
            raise InvalidArgument(f"invalid bind {bind!r}: expected SOURCE:DESTINATION[:MODE]")
        src, dest, mode = parts[0], parts[1], (parts[2] if len(parts) > 2 else "rw")
        if not src.startswith("/"):
            named.append(src)
            src = str(volume_dir(src))
        elif not os.path.exists(src):
            raise InvalidArgument(f"invalid mount config: bind source path does not exist: {src}")
        specs.append(f"{src}:{dest}:{'ro' if 'ro' in mode.split(',') else 'rw'}")
    for m in host.get("Mounts") or []:
        kind, src, dest = m.get("Type", "volume"), m.get("Source") or "", m.get("Target") or ""
        if kind == "tmpfs":
            continue
        if kind == "volume":
            if not src:
                raise InvalidArgument(f"mount {dest}: anonymous volumes are not supported; name the volume")
            named.append(src)
            src = str(volume_dir(src))
        elif kind != "bind":
            raise InvalidArgument(f"mount type {kind!r}: not supported; use bind, volume or tmpfs")
        elif not os.path.exists(src):
            raise InvalidArgument(f"invalid mount config for type \"bind\": bind source path does not exist: {src}")
        specs.append(f"{src}:{dest}:{'ro' if m.get('ReadOnly') else 'rw'}")
    return specs, named


def _ports(bindings: dict[str, Any]) -> list[str]:
    out = []
    for key, hosts in bindings.items():
        port, _, proto = key.partition("/")
        for h in hosts or [{}]:
            ip, hport = (h or {}).get("HostIp") or "", (h or {}).get("HostPort") or ""
            spec = f"{ip}:{hport}:{port}" if ip else (f"{hport}:{port}" if hport else port)
            out.append(f"{spec}/{proto or 'tcp'}")
    return out


#: the engine places containers on bridge and user networks (through dockyard.net) when it has ports
ENGINE_NETWORKS = "ports" in RunOptions._fields


def _network(mode: str, ports: list[str]) -> tuple[str, list[str]]:
    """Docker's NetworkMode → the engine's (``default`` is docker's name for ``bridge``)."""
    if mode in ("host", "none") or mode.startswith("container:"):
        return mode, ["Published ports are discarded when using host network mode"] if mode == "host" and ports \
            else []
    if mode == "default":
        mode = "bridge"
    if ENGINE_NETWORKS or mode in NETWORKS:
        return mode, []
    if mode == "bridge":
        if ports:
            raise InvalidArgument("port publishing (-p) is not available: this engine cannot join a bridge "
                                  "network; use --network host and let the server listen on the host port")
        return "none", []
    raise InvalidArgument(f"network {mode!r}: containers can join only host or none in this version")
