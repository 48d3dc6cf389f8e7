"""The API server's composition root: store + registry + resources → an aiohttp application.

Routes: ``/api`` and ``/apis`` (discovery, then resources), ``/version``, ``/healthz`` ``/livez``
``/readyz``, ``/openapi/v2`` and ``/openapi/v3``.  A middleware turns every error into a
``Status`` body with upstream's code and authenticates/authorizes the caller (:mod:`.auth`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from dockyard.base import log
from dockyard.base.errors import DockyardError
from dockyard.cluster.api.errors import ApiError, NotAcceptable, NotFoundError, TooLarge, Unauthorized
from dockyard.cluster.api.kinds import Registry
from dockyard.cluster.apiserver import discovery, openapi, openapi_proto
from dockyard.cluster.apiserver.auth import Authenticator, Authorizer, User
from dockyard.cluster.apiserver.codec import Codec
from dockyard.cluster.apiserver.encryption import Encryptor
from dockyard.cluster.apiserver.handlers import Handlers, respond
from dockyard.cluster.apiserver.request import MAX_BODY, parse_path
from dockyard.cluster.apiserver.resources import Resources
from dockyard.cluster.store import Store

logger = log.get("cluster.apiserver")
VERSION = {
    "major": "1", "minor": str(openapi.SERVED_MINOR), "gitVersion": f"v1.{openapi.SERVED_MINOR}.0",
    "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc",
    "platform": f"linux/{'amd64' if platform.machine() == 'x86_64' else platform.machine()}",
}
PUBLIC = ("/healthz", "/livez", "/readyz", "/version")
ANONYMOUS = User("system:anonymous", ("system:unauthenticated",))
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           406: "NotAcceptable", 409: "Conflict", 410: "Expired", 412: "Conflict", 413: "RequestEntityTooLarge",
           415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
           503: "ServiceUnavailable"}


@dataclass
class ApiServer:
    store: Store
    data_root: Path
    authenticator: Authenticator = field(default_factory=Authenticator)
    registry: Registry = field(default_factory=Registry)

    def __post_init__(self) -> None:
        encryptor = Encryptor.from_file(self.data_root / "cluster" / "encryption.key")
        self.resources = Resources(store=self.store, registry=self.registry, codec=Codec(encryptor))
        self.authorizer = Authorizer(self.resources)
        self.handlers = Handlers(self.resources, self.authorizer)
        self.openapi = openapi.OpenAPICache(self.registry)

    #: Like kube-apiserver's etcd compaction: every interval, forget history older than one interval.
    compaction_interval: float = 300.0

    async def start(self) -> None:
        await self.store.start()
        await self.resources.bootstrap()
        self._compactor = asyncio.create_task(self._compact_forever())

    async def close(self) -> None:
        self._compactor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._compactor
        await self.store.close()

    async def _compact_forever(self) -> None:
        previous = await self.store.revision()
        while True:
            await asyncio.sleep(self.compaction_interval)
            current = await self.store.revision()
            if previous:
                await self.store.compact(previous)
            previous = current

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors, self._auth])
        app.router.add_get("/version", lambda r: respond(VERSION))
        for path in ("/healthz", "/livez", "/readyz"):
            app.router.add_get(path, lambda r: web.Response(text="ok"))
            app.router.add_get(path + "/{check:.*}", lambda r: web.Response(text="ok"))
        app.router.add_get("/openapi/v2", self._openapi_v2)
        app.router.add_get("/openapi/v3", lambda r: web.Response(body=self.openapi.v3_index(),
                                                                 content_type="application/json"))
        app.router.add_get("/openapi/v3/{name:.*}", self._openapi_v3)
        app.router.add_route("*", "/api", self._api_root)
        app.router.add_route("*", "/apis", self._apis_root)
        app.router.add_route("*", "/api/{tail:.*}", self._resource)
        app.router.add_route("*", "/apis/{tail:.*}", self._resource)
        app.router.add_get("/", lambda r: respond({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez",
                                                             "/openapi/v2", "/openapi/v3", "/readyz", "/version"]}))
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as e:
            return respond(e.status(), e.code)
        except web.HTTPRequestEntityTooLarge:
            return respond(TooLarge("Request entity too large: limit is 3145728").status(), 413)
        except DockyardError as e:
            code = getattr(e, "http_status", 500)
            return respond({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": str(e), "reason": REASONS.get(code, "InternalError"), "code": code}, code)
        except web.HTTPException as e:
            if e.status >= 400:
                return respond({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": e.reason, "reason": REASONS.get(e.status, "Unknown"), "code": e.status},
                               e.status)
            raise
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return respond({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": f"the body of the request could not be decoded: {e}",
                            "reason": "BadRequest", "code": 400}, 400)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        public = request.path in PUBLIC or request.path.startswith(("/healthz/", "/livez/", "/readyz/"))
        try:
            user = self.authenticator.authenticate(request)
        except Unauthorized:
            if not public:
                raise
            user = ANONYMOUS  # as upstream's system:public-info-viewer: kubectl's dispatcher asks first
        request["user"] = user
        if not public:
            await self.authorizer.authorize(user, request, parse_path(self.registry, request.path)
                                            if request.path.startswith("/api") else None)
        return await handler(request)

    async def _openapi_v2(self, request: web.Request) -> web.Response:
        accept = request.headers.get("Accept", "")
        first = accept.split(",")[0].split(";")[0].strip()
        if first.startswith("application/com.github.proto-openapi.spec.v2"):  # kubectl's only request
            return web.Response(body=self.openapi.v2_protobuf(), headers={"Content-Type": openapi_proto.CONTENT_TYPE})
        if "protobuf" in accept and "json" not in accept and "*/*" not in accept:
            raise NotAcceptable("only application/json and the gnostic protobuf are served for /openapi/v2")
        return web.Response(body=self.openapi.v2(), content_type="application/json")

    async def _openapi_v3(self, request: web.Request) -> web.Response:
        doc = self.openapi.v3(request.match_info["name"])
        if doc is None:
            raise NotFoundError("the server could not find the requested resource")
        return web.Response(body=doc, content_type="application/json")

    def _discovery(self, request: web.Request, legacy: bool) -> web.Response:
        version = discovery.wants_aggregated(request.headers.get("Accept", ""))
        if version:
            doc = discovery.aggregated(self.registry, legacy=legacy, version=version)
            ctype = f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
            return web.Response(body=json.dumps(doc).encode(), headers={"Content-Type": ctype})
        return respond(discovery.api_versions() if legacy else discovery.api_group_list(self.registry))

    async def _api_root(self, request: web.Request) -> web.Response:
        return self._discovery(request, legacy=True)

    async def _apis_root(self, request: web.Request) -> web.Response:
        return self._discovery(request, legacy=False)

    async def _resource(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if parts[0] == "apis" and len(parts) == 2:
            doc = discovery.api_group(self.registry, parts[1])
            if doc is None:
                raise NotFoundError("the server could not find the requested resource")
            return respond(doc)
        target = parse_path(self.registry, request.path)
        if target is None:
            raise NotFoundError("the server could not find the requested resource")
        if target.kind is None:
            doc = discovery.resource_list(self.registry, target.group, target.version)
            if doc is None:
                raise NotFoundError("the server could not find the requested resource")
            return respond(doc)
        return await self.handlers.dispatch(request, target)
