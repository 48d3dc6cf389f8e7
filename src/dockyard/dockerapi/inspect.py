"""``GET /containers/{id}/json``: the engine's inspect view completed to Docker's shape.

docker-py and the CLI read ``State``, ``Config`` (Tty, OpenStdin, Image), ``HostConfig``
(AutoRemove, NetworkMode, PortBindings), ``NetworkSettings`` (Ports, IPAddress, Networks) and
``Mounts``; testcontainers reads ``NetworkSettings.Ports`` to find a published port.
"""

from __future__ import annotations

from typing import Any

from dockyard.dockerapi import extras


def ports_list(extra: dict[str, Any], *, running: bool) -> list[dict[str, Any]]:
    """``docker ps``'s Ports: published bindings (while running) and exposed ports."""
    out = []
    bindings = extra.get("PortBindings") or {}
    for key in sorted(set(extra.get("ExposedPorts") or {}) | set(bindings)):
        port, _, proto = key.partition("/")
        hosts = bindings.get(key) or []
        if running and hosts:
            for h in hosts:
                out.append({"IP": h.get("HostIp") or "0.0.0.0", "PrivatePort": int(port),
                            "PublicPort": int(h.get("HostPort") or 0), "Type": proto or "tcp"})
        else:
            out.append({"PrivatePort": int(port), "Type": proto or "tcp"})
    return out


def _ports_map(extra: dict[str, Any], network: str, running: bool) -> dict[str, Any]:
    bindings = extra.get("PortBindings") or {}
    ports: dict[str, Any] = {k: None for k in extra.get("ExposedPorts") or {}}
    for key, hosts in bindings.items():
        ports[key] = [{"HostIp": h.get("HostIp") or "0.0.0.0", "HostPort": str(h.get("HostPort") or "")}
                      for h in hosts or []] if running else None
    if network == "host":
        return {}
    return ports


def container_doc(engine, rec, data_root) -> dict[str, Any]:
    from dockyard.engine import views

    doc = views.inspect(engine, rec)
    extra = extras.load(data_root, rec.id)
    state = doc["State"]
    state["Status"] = {"creating": "created"}.get(state["Status"], state["Status"])
    state.setdefault("Error", "")
    image_id = doc["Image"]
    doc["Image"] = image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
    network = extra.get("NetworkMode") or rec.options.network
    host = doc["HostConfig"]
    host.update({"NetworkMode": network, "PortBindings": extra.get("PortBindings") or {},
                 "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "Privileged": False,
                 "LogConfig": {"Type": "json-file", "Config": {}},
                 "PublishAllPorts": bool(getattr(rec.options, "publish_all", False)),
                 "Dns": list(getattr(rec.options, "dns", None) or [])})
    attach = extra.get("Attach") or [False, True, True]
    doc["Config"].update({"ExposedPorts": extra.get("ExposedPorts") or {}, "AttachStdin": bool(attach[0]),
                          "AttachStdout": bool(attach[1]), "AttachStderr": bool(attach[2]),
                          "StdinOnce": False, "Volumes": None, "Domainname": "",
                          "Cmd": doc["Config"]["Cmd"] or (doc["Args"] and [doc["Path"], *doc["Args"]]),
                          "StopTimeout": extra.get("StopTimeout")})
    running = state["Running"]
    ports = _ports_map(extra, network, running) if network in ("host", "none") else \
        {k: None for k in extra.get("ExposedPorts") or {}}
    net_name = "host" if network == "host" else ("none" if network == "none" else network)
    endpoint = {"IPAMConfig": None, "Links": None, "Aliases": None, "NetworkID": net_name, "EndpointID": "",
                "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": "", "DriverOpts": None}
    doc["NetworkSettings"] = {"Bridge": "", "SandboxID": rec.pod, "SandboxKey": "", "Ports": ports,
                              "IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "",
                              "Networks": {net_name: endpoint}}
    _attachment(engine, rec, doc, extra, running)
    for m in doc["Mounts"]:
        m.update({"Mode": "" if m["RW"] else "ro", "Propagation": "rprivate"})
        volume = _volume_name(data_root, m["Source"])
        if volume:
            m.update({"Type": "volume", "Name": volume, "Driver": "local"})
    return doc


def _attachment(engine, rec, doc: dict[str, Any], extra: dict[str, Any], running: bool) -> None:
    """Addresses and resolved host ports from the net layer, for bridge and user networks."""
    from dockyard.base.errors import DockyardError

    opts = rec.options
    if opts.network in ("host", "none") or opts.network.startswith("container:"):
        return
    try:
        from dockyard.engine import network

        att = network.net(engine).attachment(rec.pod)
    except (DockyardError, ImportError, AttributeError):
        return
    settings = doc["NetworkSettings"]
    settings.update({"IPAddress": att.ip, "IPPrefixLen": att.prefixlen, "Gateway": att.gateway,
                     "SandboxKey": str(att.netns_path or "")})
    nets = {}
    for name, ip in (att.addresses or {att.network: att.ip}).items():
        nets[name] = {"IPAMConfig": None, "Links": None, "Aliases": list(getattr(opts, "network_aliases", [])),
                      "NetworkID": name, "EndpointID": rec.pod, "Gateway": att.gateway if name == att.network
                      else "", "IPAddress": ip, "IPPrefixLen": att.prefixlen, "MacAddress": "", "DriverOpts": None}
    settings["Networks"] = nets
    if running:
        ports: dict[str, Any] = {k: None for k in extra.get("ExposedPorts") or {}}
        for row in att.ports:
            ports.setdefault(f"{row.container_port}/{row.proto}", None)
            key = f"{row.container_port}/{row.proto}"
            ports[key] = [*(ports[key] or []), {"HostIp": row.host_ip or "0.0.0.0", "HostPort": str(row.host_port)}]
        settings["Ports"] = ports


def _volume_name(data_root, source: str) -> str | None:
    prefix = str(data_root / "volumes") + "/"
    if source.startswith(prefix) and source.endswith("/_data"):
        return source[len(prefix):-len("/_data")]
    return None
