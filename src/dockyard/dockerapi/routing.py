"""Routes with and without the ``/vX.Y`` prefix that Docker clients put on every path.

Clients ping first (``/_ping`` answers ``API-Version``) and then use the lower of their version
and ours; we accept any version from :data:`MIN_VERSION` up to :data:`API_VERSION`, and answer
older shapes the same way (the fields we fill are stable across those versions).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

API_VERSION = "1.47"
MIN_VERSION = "1.24"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Routes:
    """Collects ``(method, path, handler)`` and adds each twice: bare and under ``/v{version}``."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def add(self, method: str, path: str, handler: Handler) -> None:
        self.app.router.add_route(method, path, handler)
        self.app.router.add_route(method, r"/v{version:[0-9]+\.[0-9]+}" + path, handler)

    def get(self, path: str, handler: Handler) -> None:
        self.add("GET", path, handler)

    def post(self, path: str, handler: Handler) -> None:
        self.add("POST", path, handler)

    def delete(self, path: str, handler: Handler) -> None:
        self.add("DELETE", path, handler)

    def put(self, path: str, handler: Handler) -> None:
        self.add("PUT", path, handler)

    def head(self, path: str, handler: Handler) -> None:
        self.add("HEAD", path, handler)


def version_of(request: web.Request) -> tuple[int, int]:
    text = request.match_info.get("version") or API_VERSION
    major, _, minor = text.partition(".")
    return int(major), int(minor)
