"""Distribution's error codes and JSON bodies: ``{"errors": [{"code", "message", "detail"}]}``.

Clients (docker, skopeo, containerd) branch on ``code``, so every failure the server answers
carries one of the codes the distribution spec lists, with the HTTP status distribution uses.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

# code -> (HTTP status, default message), as in distribution's registry/api/errcode tables.
CODES: dict[str, tuple[int, str]] = {
    "BLOB_UNKNOWN": (404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (404, "blob upload unknown to registry"),
    "DIGEST_INVALID": (400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (400, "manifest references a manifest or blob unknown to registry"),
    "MANIFEST_INVALID": (400, "manifest invalid"),
    "MANIFEST_UNKNOWN": (404, "manifest unknown"),
    "NAME_INVALID": (400, "invalid repository name"),
    "NAME_UNKNOWN": (404, "repository name not known to registry"),
    "SIZE_INVALID": (400, "provided length did not match content length"),
    "UNAUTHORIZED": (401, "authentication required"),
    "DENIED": (403, "requested access to the resource is denied"),
    "UNSUPPORTED": (405, "the operation is unsupported"),
    "TOOMANYREQUESTS": (429, "too many requests"),
    "RANGE_INVALID": (416, "invalid content range"),
    "PAGINATION_NUMBER_INVALID": (400, "invalid number of results requested"),
}


class RegistryError(Exception):
    """An error answered to the client as distribution's JSON body."""

    def __init__(self, code: str, message: str | None = None, *, detail: Any = None,
                 status: int | None = None, headers: dict[str, str] | None = None) -> None:
        default_status, default_message = CODES[code]
        self.code = code
        self.message = message or default_message
        self.detail = detail
        self.status = status or default_status
        self.headers = headers or {}
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            entry["detail"] = self.detail
        return {"errors": [entry]}

    def response(self) -> web.Response:
        return web.Response(
            status=self.status,
            body=json.dumps(self.body()).encode(),
            content_type="application/json",
            headers=self.headers,
        )
