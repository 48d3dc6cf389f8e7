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


def endpoint_doc(network: str, *, network_id: str = "", endpoint_id: str = "", gateway: str = "",
                 ip: str = "", prefixlen: int = 0, mac: str = "", aliases: list[str] | None = None,
                 dns_names: list[str] | None = None) -> dict[str, Any]:
    """One entry of ``NetworkSettings.Networks`` (inspect and ``docker ps`` alike)."""
    return {"IPAMConfig": None, "Links": None, "Aliases": aliases or None, "MacAddress": mac, "DriverOpts": None,
            "GwPriority": 0, "NetworkID": network_id or network, "EndpointID": endpoint_id, "Gateway": gateway,
            "IPAddress": ip, "IPPrefixLen": prefixlen, "IPv6Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "DNSNames": dns_names or None}


def net_endpoints(engine, rec, *, pid: int = 0) -> tuple[dict[str, dict[str, Any]], list[Any]] | None:
    """``{network: endpoint}`` and the resolved port rows of a container on bridge or a user
    network, read from ``net.db`` alone (no pyroute2: ``docker ps`` stays cheap); None if it has
    no sandbox there.  *pid*: its init, to read each interface's MAC address while it runs."""
    import hashlib

    from dockyard.engine import network

    if not network.uses_net(rec.options):
        return None
    store = network.store(engine)
    if store.sandbox(rec.pod) is None:
        return None
    nets: dict[str, dict[str, Any]] = {}
    for ep in store.endpoints(pod_id=rec.pod):
        row = store.network(ep.network)
        if row is None:
            continue
        user_net = ep.network != "bridge"
        aliases = list(dict.fromkeys([*ep.aliases, *rec.options.network_aliases])) if user_net else []
        nets[ep.network] = endpoint_doc(
            ep.network, network_id=row.id, gateway=row.gateway, ip=ep.address,
            endpoint_id=hashlib.sha256(f"{rec.pod}/{ep.network}".encode()).hexdigest(),
            prefixlen=int(row.subnet.rpartition("/")[2] or 0), mac=_mac(pid, ep.ifname), aliases=aliases,
            dns_names=list(dict.fromkeys([rec.name, rec.id[:12], *aliases])) if user_net else None)
    return nets, list(store.ports(pod_id=rec.pod))


def _mac(pid: int, ifname: str) -> str:
    """The interface's address as the container sees it (its /sys belongs to its netns)."""
    if not pid:
        return ""
    try:
        with open(f"/proc/{pid}/root/sys/class/net/{ifname}/address") as f:
            return f.read().strip()
    except OSError:
        return ""


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
    doc["NetworkSettings"] = {"Bridge": "", "SandboxID": rec.pod, "SandboxKey": "", "Ports": ports,
                              "IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "",
                              "Networks": {} if network.startswith("container:") else {network: endpoint_doc(network)}}
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
    found = net_endpoints(engine, rec, pid=int(doc.get("State", {}).get("Pid") or 0))
    if found:
        settings["Networks"] = found[0]
        settings["MacAddress"] = found[0].get(att.network, {}).get("MacAddress", "")
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
