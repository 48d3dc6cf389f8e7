"""Talking to one registry: choosing the endpoint, authenticating, and mapping failures.

:class:`RegistrySession` pings ``/v2/`` on each candidate endpoint (docker.io mirrors first for
pulls, then the registry; for an insecure registry HTTPS without verification, then plain HTTP),
learns the auth challenge there, and sends every later request with the right
``Authorization``.  HTTP failures become dockyard's error categories with a message a user can act
on (:func:`error_for`); aiohttp's exceptions never leak out of this module's callers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from dockyard.base import log
from dockyard.base.errors import (
    DockyardError,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from dockyard.registry.client.auth import Authenticator, parse_challenges
from dockyard.registry.client.credentials import Credentials
from dockyard.registry.client.settings import ClientSettings

_log = log.get("registry.client")
DOCKER_HUB = "registry-1.docker.io"
TIMEOUT = aiohttp.ClientTimeout(total=None, connect=30, sock_read=300)


class RegistrySession:
    def __init__(self, domain: str, *, settings: ClientSettings, credentials: Credentials | None = None,
                 use_mirrors: bool = False, connections: int = 8) -> None:
        self.domain = domain
        self.settings = settings
        self.auth = Authenticator(domain, credentials)
        self._use_mirrors = use_mirrors
        self._connections = connections
        self.base = ""
        self._session: aiohttp.ClientSession | None = None
        self._ssl: Any = None

    def _candidates(self) -> list[tuple[str, Any]]:
        host = DOCKER_HUB if self.domain == "docker.io" else self.domain
        out: list[tuple[str, Any]] = []
        if self.domain == "docker.io" and self._use_mirrors:
            out += [(m.rstrip("/"), None) for m in self.settings.mirrors]
        if self.settings.is_insecure(self.domain):
            out += [(f"https://{host}", False), (f"http://{host}", None)]
        else:
            out.append((f"https://{host}", self.settings.ssl_context(self.domain)))
        return out

    async def __aenter__(self) -> RegistrySession:
        connector = aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(connector=connector, timeout=TIMEOUT, auto_decompress=False)
        try:
            await self._ping()
        except BaseException:
            await self._session.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use RegistrySession as an async context manager"
        return self._session

    async def _ping(self) -> None:
        errors = []
        for base, ssl in self._candidates():
            try:
                async with self.session.get(f"{base}/v2/", ssl=ssl) as resp:
                    if resp.status == 401:
                        challenges = parse_challenges(resp.headers.get("WWW-Authenticate", ""))
                        self.auth.challenge = next((c for c in challenges if c.scheme == "bearer"),
                                                   challenges[0] if challenges else None)
                    elif resp.status >= 500 or resp.status == 404:
                        errors.append(f"{base}: {resp.status}")
                        continue
                self.base, self._ssl = base, ssl
                return
            except (aiohttp.ClientError, OSError) as e:
                errors.append(f"{base}: {e}")
        raise Unavailable(
            f"registry {self.domain}: cannot connect ({'; '.join(errors)})",
            hint="check the name and your network (offline?); for a plain-HTTP registry use --insecure",
        )

    @asynccontextmanager
    async def request(self, method: str, path: str, *, scopes: tuple[str, ...], data: Any = None,
                      headers: dict[str, str] | None = None, replayable: bool = True,
                      ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send one request (``path`` under the endpoint, or an absolute Location URL)."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base}{path}"
        for attempt in range(2):
            hdrs = dict(headers or {})
            if value := await self.auth.header(self.session, scopes):
                hdrs["Authorization"] = value
            try:
                resp = await self.session.request(method, url, data=data, headers=hdrs, ssl=self._ssl,
                                                  allow_redirects=True)
            except (aiohttp.ClientError, OSError) as e:
                raise Unavailable(f"registry {self.domain}: {method} {path} failed ({e})",
                                  hint="check your network and retry; transfers resume where they stopped") from e
            if resp.status == 401 and attempt == 0 and replayable:
                challenges = parse_challenges(resp.headers.get("WWW-Authenticate", ""))
                resp.release()
                if challenges:
                    self.auth.challenge = challenges[0]
                self.auth.forget(scopes)
                continue
            try:
                yield resp
            finally:
                resp.release()
            return

    async def url(self, location: str) -> str:
        return location if location.startswith(("http://", "https://")) else f"{self.base}{location}"


async def error_for(resp: aiohttp.ClientResponse, what: str, *, domain: str) -> DockyardError:
    """An actionable error for a failed response about *what* (``image "busybox:latest"``)."""
    detail = await _error_message(resp)
    suffix = f" ({detail})" if detail else ""
    if resp.status == 401:
        return Unauthenticated(f"{what}: unauthorized at {domain}{suffix}", hint=f"run `dockyard login {domain}`")
    if resp.status == 403:
        return PermissionDenied(f"{what}: access denied by {domain}{suffix}")
    if resp.status == 404:
        return NotFound(f"{what}: not found at {domain}{suffix}",
                        hint="check the name and tag; private images need `dockyard login`")
    if resp.status == 429:
        retry = resp.headers.get("Retry-After") or resp.headers.get("RateLimit-Reset")
        when = f"retry after {retry} seconds" if retry else "retry later"
        return ResourceExhausted(f"{what}: rate limited by {domain}{suffix}", hint=when)
    if resp.status >= 500:
        return Unavailable(f"{what}: {domain} answered {resp.status}{suffix}", hint="retry later")
    return FailedPrecondition(f"{what}: {domain} answered {resp.status}{suffix}")


async def _error_message(resp: aiohttp.ClientResponse) -> str:
    try:
        text = (await resp.content.read(65536)).decode(errors="replace")
    except (aiohttp.ClientError, OSError):
        return ""
    try:
        errors = json.loads(text).get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
    except (ValueError, AttributeError):
        return text.strip()[:200]
