"""The Docker API as one aiohttp application (the daemon adds sockets around it)."""

from __future__ import annotations

from aiohttp import web

from dockyard.dockerapi import errors, system
from dockyard.dockerapi.backend import BACKEND, Backend
from dockyard.dockerapi.routing import Routes

#: image loads and build contexts stream; JSON bodies are small
MAX_JSON = 16 << 20


def make_app(backend: Backend) -> web.Application:
    from dockyard.dockerapi import (
        archive,
        build,
        cliviews,
        containers,
        events,
        execs,
        images,
        networks,
        streams,
        volumes,
    )

    app = web.Application(middlewares=[system.headers_middleware, errors.middleware], client_max_size=MAX_JSON)
    app[BACKEND] = backend
    routes = Routes(app)
    system.register(routes)
    containers.register(routes)
    streams.register(routes)
    archive.register(routes)
    execs.register(routes)
    images.register(routes)
    build.register(routes)
    networks.register(routes)
    volumes.register(routes)
    routes.get("/events", events.events)
    cliviews.register(routes)
    return app
