"""HTTP to the daemon over its unix socket: stdlib ``http.client`` (cheap to import), no pool.

One connection per request keeps it simple and costs ~0.1 ms on a unix socket.  Errors come back
as Docker's ``{"message": …}`` with a status; :func:`raise_for` turns them into our error
categories (404 → NotFound, 409 → Conflict, …) so the verbs print and exit as daemonless ones
do.  :meth:`Client.hijack` sends a request by hand and hands back the raw socket after the
``101`` (docker's attach/exec), since http.client has no notion of a switched protocol.
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import quote, urlencode

from dockyard.base import errors as E

API = "/v1.47"
_BY_STATUS: dict[int, type[E.DockyardError]] = {
    400: E.InvalidArgument, 401: E.Unauthenticated, 403: E.PermissionDenied, 404: E.NotFound,
    409: E.Conflict, 412: E.FailedPrecondition, 429: E.ResourceExhausted, 503: E.Unavailable,
}


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as e:
            sock.close()
            raise E.Unavailable(f"daemon at {self.path}: cannot connect ({e.strerror}); is `dockyard serve` "
                                "still running? DOCKYARD_HOST=local runs daemonless") from None
        self.sock = sock


def url(path: str, query: dict[str, Any] | None = None) -> str:
    q = {k: ("1" if v is True else "0" if v is False else str(v)) for k, v in (query or {}).items() if v is not None}
    return API + path + ("?" + urlencode(q) if q else "")


def seg(ref: str) -> str:
    """A name or id as one path segment (image names have slashes and colons)."""
    return quote(ref, safe="")


def raise_for(status: int, body: bytes) -> None:
    if status < 400:
        return
    try:
        message = json.loads(body).get("message") or ""
    except (ValueError, AttributeError):
        message = body.decode(errors="replace").strip()
    raise _BY_STATUS.get(status, E.Internal)(message or f"daemon answered HTTP {status}")


class Client:
    """The daemon at *path*; every method opens its own connection."""

    def __init__(self, path: str) -> None:
        self.path = path

    def open(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
             timeout: float | None = None) -> http.client.HTTPResponse:
        """Send a request; the response with its body unread (streams), errors already raised."""
        conn = _UnixConnection(self.path, timeout)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            conn.request(method, url(path, query), body=data, headers=headers)
            resp = conn.getresponse()
        except (ConnectionError, http.client.HTTPException) as e:
            conn.close()
            raise E.Unavailable(f"daemon at {self.path}: connection failed ({e}); is `dockyard serve` still "
                                "running?") from None
        if resp.status >= 400:
            raw = resp.read()
            conn.close()
            raise_for(resp.status, raw)
        return resp

    def call(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        """A whole request: the decoded JSON body (None when empty)."""
        resp = self.open(method, path, query, body)
        try:
            raw = resp.read()
        finally:
            resp.close()
        return json.loads(raw) if raw.strip() else None

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, query)

    def post(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.call("POST", path, query, body)

    def delete(self, path: str, **query: Any) -> Any:
        return self.call("DELETE", path, query)

    def hijack(self, path: str, query: dict[str, Any] | None = None, body: Any = None
               ) -> tuple[socket.socket, bytes, str]:
        """POST with ``Upgrade: tcp``: (the raw socket, bytes already read past the head, content type)."""
        data = b"" if body is None else json.dumps(body).encode()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError as e:
            sock.close()
            raise E.Unavailable(f"daemon at {self.path}: cannot connect ({e.strerror})") from None
        head = (f"POST {url(path, query)} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
        sock.sendall(head + data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                sock.close()
                raise E.Unavailable(f"daemon at {self.path}: closed the connection before answering")
            buf += chunk
        raw_head, _, rest = buf.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if status >= 400:
            length = int(headers.get("content-length") or 0)
            while len(rest) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            sock.close()
            raise_for(status, rest)
        if status != 101:
            sock.close()
            raise E.Internal(f"daemon at {self.path}: answered {status} to an attach; expected 101")
        return sock, rest, headers.get("content-type", "")
