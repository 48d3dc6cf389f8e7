"""``GET /containers/json`` (``docker ps``): each container's summary and docker's filters over it.

The summary carries what clients read from a listing: the resolved published ports (``-p
127.0.0.1::80`` shows the port the net layer picked, as inspect does) and ``NetworkSettings.Networks``
per network (testcontainers reads ``Networks[bridge].Gateway`` when it runs inside a container).
Filters are docker's: ``status name id label ancestor network publish expose exited before
since``; any other key is refused with docker's 400 ``invalid filter 'KEY'`` instead of being
ignored, which would list containers the caller asked to leave out.
"""

from __future__ import annotations

import shlex
import time
from typing import Any

from dockyard.base.errors import InvalidArgument, NotFound
from dockyard.dockerapi import extras
from dockyard.dockerapi.inspect import endpoint_doc, net_endpoints, ports_list

KNOWN = frozenset({"status", "name", "id", "label", "ancestor", "network", "publish", "expose", "exited",
                   "before", "since"})
STATES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def docker_state(status: str) -> str:
    return {"creating": "created", "stopped": "exited"}.get(status, status)


def label_match(labels: dict[str, str], wanted: list[str]) -> bool:
    for w in wanted:
        key, eq, value = w.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


def check(flt: dict[str, list[str]]) -> None:
    """Refuse what docker refuses, before any container is looked at."""
    for key, values in flt.items():
        if key not in KNOWN:
            raise InvalidArgument(f"invalid filter '{key}'")
        for v in values:
            if key == "status" and v not in STATES:
                raise InvalidArgument(f"invalid filter 'status={v}'")
            if key == "exited" and not v.lstrip("-").isdigit():
                raise InvalidArgument(f"invalid filter 'exited={v}'")
            if key in ("publish", "expose"):
                _port_range(key, v)


def _port_range(key: str, text: str) -> tuple[int, int, str]:
    """``80``, ``80/udp``, ``8000-8080/tcp`` → (low, high, proto)."""
    ports, _, proto = text.partition("/")
    low, _, high = ports.partition("-")
    if not low.isdigit() or (high and not high.isdigit()) or proto not in ("", "tcp", "udp", "sctp"):
        raise InvalidArgument(f"invalid filter '{key}={text}'")
    return int(low), int(high or low), proto or "tcp"


def _command(rec) -> str:
    return " ".join(shlex.quote(a) for a in (rec.options.entrypoint or []) + (rec.options.command or []))


def status_text(st) -> str:
    def ago(ts):
        secs = max(0, int(time.time() - (ts or time.time())))
        for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
            if secs >= size:
                return f"{secs // size} {unit}"
        return "Less than a second" if secs < 1 else f"{secs} seconds"

    if st.status == "running":
        return f"Up {ago(st.started_at)}"
    if st.status == "exited":
        return f"Exited ({st.exit_code or 0}) {ago(st.finished_at)} ago"
    return docker_state(st.status).capitalize()


def summary(engine, rec, st, extra: dict[str, Any]) -> dict[str, Any]:
    mode = extra.get("NetworkMode") or rec.options.network
    found = net_endpoints(engine, rec, pid=st.pid if st.running else 0)
    if found is None:
        ports = ports_list(extra, running=st.running)
        networks = {} if mode.startswith("container:") else {mode: endpoint_doc(mode)}
    else:
        networks, rows = found
        ports = _resolved_ports(extra, rows) if st.running else ports_list(extra, running=False)
    return {
        "Id": rec.id, "Names": [f"/{rec.name}"], "Image": rec.image, "ImageID": _image_id(rec.image_id),
        "Command": _command(rec), "Created": int(rec.created), "Ports": ports,
        "Labels": rec.options.labels, "State": docker_state(st.status), "Status": status_text(st),
        "HostConfig": {"NetworkMode": mode}, "NetworkSettings": {"Networks": networks}, "Mounts": [],
    }


def _image_id(image_id: str) -> str:
    return image_id if image_id.startswith("sha256:") or not image_id else f"sha256:{image_id}"


def _resolved_ports(extra: dict[str, Any], rows: list[Any]) -> list[dict[str, Any]]:
    """Published ports as the net layer bound them, then the exposed ones nobody published."""
    out = [{"IP": r.host_ip or "0.0.0.0", "PrivatePort": r.container_port, "PublicPort": r.host_port,
            "Type": r.proto} for r in rows]
    bound = {(r.container_port, r.proto) for r in rows}
    for key in sorted(set(extra.get("ExposedPorts") or {}) | set(extra.get("PortBindings") or {})):
        port, _, proto = key.partition("/")
        if port.isdigit() and (int(port), proto or "tcp") not in bound:
            out.append({"PrivatePort": int(port), "Type": proto or "tcp"})
    return out


def _ancestor(rec, wanted: list[str]) -> bool:
    def names(ref: str) -> set[str]:
        base = ref.removeprefix("docker.io/").removeprefix("library/")
        return {ref, base, base if ":" in base.rpartition("/")[2] or "@" in base else f"{base}:latest"}

    mine = names(rec.image)
    image_id = rec.image_id.removeprefix("sha256:")
    return any(names(w) & mine or (len(w.removeprefix("sha256:")) >= 4
                                   and image_id.startswith(w.removeprefix("sha256:"))) for w in wanted)


def _ports_match(ports: list[dict[str, Any]], wanted: list[str], field: str) -> bool:
    for text in wanted:
        low, high, proto = _port_range(field, text)
        key = "PublicPort" if field == "publish" else "PrivatePort"
        if any(p.get(key) and low <= p[key] <= high and p["Type"] == proto for p in ports):
            return True
    return False


def matches(doc: dict[str, Any], rec, st, flt: dict[str, list[str]], created: dict[str, tuple[float, float]]
            ) -> bool:
    """*created*: the ``before``/``since`` bounds, resolved once for the whole listing."""
    networks = doc["NetworkSettings"]["Networks"]
    checks = {
        "status": lambda w: doc["State"] in w,
        "name": lambda w: any(x.lstrip("/") in rec.name for x in w),
        "id": lambda w: any(rec.id.startswith(x) for x in w),
        "label": lambda w: label_match(rec.options.labels, w),
        "ancestor": lambda w: _ancestor(rec, w),
        "network": lambda w: any(x in networks or any(e["NetworkID"].startswith(x) for e in networks.values())
                                 for x in w),
        "publish": lambda w: _ports_match(doc["Ports"], w, "publish"),
        "expose": lambda w: _ports_match(doc["Ports"], w, "expose"),
        "exited": lambda w: st.status == "exited" and int(st.exit_code or 0) in {int(x) for x in w},
        "before": lambda w: rec.created < created["before"][0],
        "since": lambda w: rec.created > created["since"][1],
    }
    return all(not wanted or checks[key](wanted) for key, wanted in flt.items())


def gather(engine, data_root, *, all_: bool, flt: dict[str, list[str]], limit: int | None) -> list[dict[str, Any]]:
    """The listing, newest first as docker's (worker threads only)."""
    check(flt)
    bounds = {key: _bound(engine, flt[key]) for key in ("before", "since") if flt.get(key)}
    out = []
    for rec in engine.list(include_sandboxes=False):  # newest first
        st = engine.status(rec)
        if not all_ and not st.running and "status" not in flt:
            continue  # a status filter lists stopped containers without -a, as docker's does
        doc = summary(engine, rec, st, extras.load(data_root, rec.id))
        if matches(doc, rec, st, flt, bounds):
            out.append(doc)
    return out[:limit] if limit and limit > 0 else out


def _bound(engine, refs: list[str]) -> tuple[float, float]:
    """(earliest, latest) creation time of the containers *refs* name."""
    times = []
    for ref in refs:
        try:
            times.append(engine.get(ref).created)
        except NotFound:
            raise NotFound(f"No such container: {ref}") from None
    return min(times), max(times)
