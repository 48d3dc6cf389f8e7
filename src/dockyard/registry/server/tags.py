"""Listings: ``GET /v2/<name>/tags/list`` and ``GET /v2/_catalog``, both paginated with
``n``/``last`` and a ``Link: <…>; rel="next"`` header when more remain, in lexical order."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

from aiohttp import web

from dockyard.registry.server.context import registry, repo_name
from dockyard.registry.server.errors import RegistryError

#: Page size when the client names none; docker-registry answers up to 100 by default too.
DEFAULT_PAGE = 1000


def _page_size(request: web.Request) -> int | None:
    text = request.query.get("n")
    if text is None:
        return None
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise RegistryError("PAGINATION_NUMBER_INVALID", detail={"n": text})
    return n


def _paged(request: web.Request, path: str, fetch: Callable[[str | None, int | None], list[str]]):
    n = _page_size(request)
    last = request.query.get("last")
    if n == 0:
        return [], {}
    limit = n if n is not None else DEFAULT_PAGE
    items = fetch(last, limit + 1)
    headers = {}
    if len(items) > limit:
        items = items[:limit]
        query = urlencode({"n": limit, "last": items[-1]})
        headers["Link"] = f'<{path}?{query}>; rel="next"'
    return items, headers


async def tags_list(request: web.Request, name: str) -> web.Response:
    reg = registry(request)
    repo = repo_name(name)
    if not reg.state.repo_exists(repo):
        raise RegistryError("NAME_UNKNOWN", detail={"name": repo})
    tags, headers = _paged(request, f"/v2/{repo}/tags/list",
                           lambda last, n: reg.state.tags(repo, last=last, n=n))
    body = json.dumps({"name": repo, "tags": tags}).encode()
    return web.Response(body=body, content_type="application/json", headers=headers)


async def catalog(request: web.Request) -> web.Response:
    reg = registry(request)
    repos, headers = _paged(request, "/v2/_catalog", lambda last, n: reg.state.repos(last=last, n=n))
    body = json.dumps({"repositories": repos}).encode()
    return web.Response(body=body, content_type="application/json", headers=headers)
