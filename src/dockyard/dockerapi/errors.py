"""Errors in Docker's shape: ``{"message": "..."}`` with the status code clients branch on.

docker-py turns 404 into ``NotFound``, 409 into ``APIError`` with ``is_client_error``, and the
CLI prints ``Error response from daemon: <message>``.  Our error categories map onto those
statuses; a failed precondition is Docker's 409 (e.g. "container is not running") rather than
HTTP's 412, which no Docker client expects.  Also here: reading JSON bodies and query values
strictly, so bad input fails with a 400 naming the field instead of half-creating something.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dockyard.base import log
from dockyard.base.errors import DockyardError, FailedPrecondition, InvalidArgument

_log = log.get("dockerapi")

#: Docker's statuses differ from plain HTTP for some categories.
_STATUS = {FailedPrecondition: 409}


def error_response(status: int, message: str) -> web.Response:
    # exactly "application/json": the docker CLI decodes the message only for that content type
    return web.Response(body=json.dumps({"message": message}).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def status_of(err: DockyardError) -> int:
    for cls, status in _STATUS.items():
        if isinstance(err, cls):
            return status
    return err.http_status


@web.middleware
async def middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    try:
        return await handler(request)
    except DockyardError as e:
        return error_response(status_of(e), str(e))
    except web.HTTPException as e:
        if e.status >= 400 and e.content_type != "application/json":
            reason = "page not found" if e.status == 404 else (e.text or e.reason)
            return error_response(e.status, reason)
        raise
    except (ConnectionResetError, BrokenPipeError):
        raise
    except Exception as e:
        _log.exception("%s %s failed", request.method, request.path)
        return error_response(500, f"internal error: {e}")


async def json_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise InvalidArgument("request body: empty; expected a JSON object")
        return {}
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise InvalidArgument(f"request body: malformed JSON ({e})") from None
    if body is None and not required:
        return {}
    if not isinstance(body, dict):
        raise InvalidArgument("request body: expected a JSON object")
    return body


def check_fields(what: str, body: dict[str, Any], known: set[str]) -> None:
    """Refuse fields we do not know (a typo must not be silently ignored)."""
    unknown = sorted(set(body) - known)
    if unknown:
        raise InvalidArgument(f"{what}: unknown field {unknown[0]!r}")


def qbool(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    return value.lower() not in ("0", "false", "no")


def qint(request: web.Request, name: str, default: int | None = None) -> int | None:
    value = request.query.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"query parameter {name}={value!r}: not an integer") from None


def filters(request: web.Request) -> dict[str, list[str]]:
    """Docker's ``filters`` JSON: ``{"status": ["running"]}`` or the old ``{"status": {"running": true}}``."""
    raw = request.query.get("filters")
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"filters {raw!r}: malformed JSON") from None
    if not isinstance(data, dict):
        raise InvalidArgument("filters: expected a JSON object")
    out = {}
    for key, value in data.items():
        out[key] = [k for k, v in value.items() if v] if isinstance(value, dict) else list(value)
    return out
