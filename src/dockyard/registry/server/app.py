"""The registry's aiohttp application: routing on ``/v2/``, error bodies, start-up and serving.

Repository names contain slashes, so aiohttp's router cannot split ``/v2/<name>/blobs/<digest>``;
one catch-all route hands the tail to :data:`ROUTES`, a table of (pattern, method → handler) tried
in order — upload URLs before blob URLs, as ``uploads`` would otherwise look like a digest.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from dockyard.base import log
from dockyard.base.errors import DockyardError
from dockyard.registry.server import auth, blobs, manifests, tags, uploads
from dockyard.registry.server.context import KEY, Registry
from dockyard.registry.server.errors import RegistryError

_log = log.get("registry.server")
Handler = Callable[..., Awaitable[web.StreamResponse]]

ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(r"^_catalog$"), {"GET": tags.catalog}),
    (re.compile(r"^(.+)/blobs/uploads/?$"), {"POST": uploads.start}),
    (re.compile(r"^(.+)/blobs/uploads/([^/]+)$"),
     {"PATCH": uploads.patch, "PUT": uploads.put, "GET": uploads.status, "DELETE": uploads.cancel}),
    (re.compile(r"^(.+)/blobs/([^/]+)$"),
     {"GET": blobs.get_blob, "HEAD": blobs.get_blob, "DELETE": blobs.delete_blob}),
    (re.compile(r"^(.+)/manifests/([^/]+)$"),
     {"GET": manifests.get, "HEAD": manifests.get, "PUT": manifests.put, "DELETE": manifests.delete}),
    (re.compile(r"^(.+)/tags/list$"), {"GET": tags.tags_list}),
    (re.compile(r"^(.+)/referrers/([^/]+)$"), {"GET": manifests.referrers}),
]


async def base(request: web.Request) -> web.Response:
    return web.json_response({})


async def dispatch(request: web.Request) -> web.StreamResponse:
    tail = request.match_info["tail"]
    for pattern, methods in ROUTES:
        m = pattern.match(tail)
        if m is None:
            continue
        handler = methods.get(request.method)
        if handler is None:
            raise RegistryError("UNSUPPORTED", f"{request.method} is not supported on {request.path}")
        return await handler(request, *m.groups())
    raise web.HTTPNotFound(text="404 page not found\n")


@web.middleware
async def errors(request: web.Request, handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except RegistryError as e:
        response = e.response()
    except DockyardError as e:  # a content store or state failure: say what, not a stack trace
        _log.warning("%s %s: %s", request.method, request.path, e)
        response = RegistryError("UNSUPPORTED", str(e), status=e.http_status).response()
    response.headers.setdefault("Docker-Distribution-API-Version", "registry/2.0")
    return response


def make_app(registry: Registry, *, auth_config: auth.AuthConfig | None = None) -> web.Application:
    # client_max_size bounds only request.read()/post(); blob bodies are streamed, never read whole.
    app = web.Application(middlewares=[errors, auth.middleware], client_max_size=registry.manifest_limit + 1)
    app[KEY] = registry
    app[auth.KEY] = auth_config
    app.router.add_get("/v2/", base)
    app.router.add_get("/v2", base)
    app.router.add_get("/token", auth.token_endpoint)
    app.router.add_route("*", "/v2/{tail:.+}", dispatch)
    app.on_cleanup.append(lambda _app: _close(registry))
    return app


async def _close(registry: Registry) -> None:
    registry.close()


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 5000
    htpasswd: Path | None = None
    token_auth: bool = False
    anonymous_read: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None


def auth_from(options: ServeOptions, data_root: Path) -> auth.AuthConfig | None:
    if options.htpasswd is None:
        return None
    return auth.AuthConfig(
        users=auth.load_htpasswd(options.htpasswd),
        mode="token" if options.token_auth else "basic",
        anonymous_read=options.anonymous_read,
        key=auth.load_key(data_root / "registry-token.key"),
    )


async def serve(data_root: Path, options: ServeOptions, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve until cancelled; *ready* gets the URL once listening (port 0 picks a free port)."""
    registry = Registry.open(data_root)
    app = make_app(registry, auth_config=auth_from(options, data_root))
    ssl_ctx = None
    if options.tls_cert:
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(options.tls_cert, options.tls_key)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port, ssl_context=ssl_ctx, backlog=512)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    scheme = "https" if ssl_ctx else "http"
    if ready:
        ready(f"{scheme}://{options.host}:{port}")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
