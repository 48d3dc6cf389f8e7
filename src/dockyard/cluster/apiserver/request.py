"""Reading an API request: the URL's resource coordinates, query options and the decoded body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web

from dockyard.cluster.api.errors import BadRequest, NotFoundError, UnsupportedMediaType
from dockyard.cluster.api.kinds import Kind, Registry
from dockyard.cluster.api.protobuf import decode_object

PROTOBUF = "application/vnd.kubernetes.protobuf"

#: Upstream's limit for a request body (3 MiB); anything larger is 413.
MAX_BODY = 3 * 1024 * 1024


@dataclass(slots=True)
class Target:
    """What a resource URL names: ``/apis/G/V[/namespaces/NS]/PLURAL[/NAME[/SUB]]``."""

    group: str
    version: str
    kind: Kind | None
    namespace: str | None
    name: str | None
    subresource: str


def parse_path(registry: Registry, path: str) -> Target | None:
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        group, version, rest = "", parts[1] if len(parts) > 1 else "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return Target(group, version, None, None, None, "")
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3 and not (group == "" and rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    kind = registry.lookup(group, version, plural)
    if kind is None:
        gr = f"{plural}.{group}" if group else plural
        raise NotFoundError(f"the server could not find the requested resource ({gr})",
                            details={"kind": plural, "group": group})
    if len(rest) > 3:
        raise NotFoundError("the server could not find the requested resource")
    return Target(group, version, kind, namespace, rest[1] if len(rest) > 1 else None,
                  rest[2] if len(rest) > 2 else "")


async def read_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise BadRequest("the body of the request was empty")
    ctype = request.content_type
    if ctype == PROTOBUF:  # kubectl ≥ 1.32's typed commands; unsupported content is a 415, never dropped
        return decode_object(raw)
    try:
        if ctype.endswith("yaml"):
            return yaml.safe_load(raw)
        if ctype.endswith("json") or ctype in ("", "application/octet-stream", "text/plain"):
            return json.loads(raw)
    except (ValueError, yaml.YAMLError) as e:
        raise BadRequest(f"the body of the request could not be decoded: {_first_line(e)}") from None
    raise UnsupportedMediaType(f'the body of the request was in an unknown format - accepted media types '
                               f'include: application/json, application/yaml, application/vnd.kubernetes.protobuf '
                               f'(got "{ctype}")')


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


def dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise BadRequest(f'dryRun: Unsupported value: "{v}": supported values: "All"')
    return bool(values)


def manager(request: web.Request, default: str = "") -> str:
    fm = request.query.get("fieldManager")
    if fm:
        return fm
    agent = request.headers.get("User-Agent", "")
    return agent.split("/")[0] if agent else default or "unknown"


def wants_table(request: web.Request) -> bool:
    for part in request.headers.get("Accept", "").split(","):
        params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return True
        if part.split(";")[0].strip() in ("application/json", "*/*") and "as" not in params:
            return False
    return False
