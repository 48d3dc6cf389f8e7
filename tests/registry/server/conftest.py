from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dockyard.registry.server.app import make_app
from dockyard.registry.server.auth import AuthConfig
from dockyard.registry.server.context import Registry


@pytest.fixture
async def make_api(data_root: Path):
    """Start (and restart) in-process servers on the test's data root; all closed at the end."""
    clients: list[TestClient] = []

    async def make(auth: AuthConfig | None = None) -> TestClient:
        app = make_app(Registry.open(data_root), auth_config=auth)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for c in clients:
        if not c._closed:
            await c.close()


@pytest.fixture
async def api(make_api) -> AsyncIterator[TestClient]:
    yield await make_api()
