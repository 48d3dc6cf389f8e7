"""Answering a registry's ``WWW-Authenticate`` challenge: basic, or the bearer-token flow.

The token flow (Docker Hub, distribution, our own server): a request answered 401 with
``Bearer realm="https://auth.example/token",service="reg",scope="repository:app:pull"`` means
"fetch a token from *realm* for that *service* and *scope*, with your basic credentials if you
have any, then retry with ``Authorization: Bearer <token>``".  Tokens are cached per scope until
they expire; an anonymous token is how public images are pulled from Docker Hub.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field

import aiohttp

from dockyard.base import log
from dockyard.base.errors import Unauthenticated, Unavailable
from dockyard.registry.client.credentials import Credentials

_TOKEN = re.compile(r'\s*,?\s*(?:(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]*)|([A-Za-z][\w-]*))')


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "basic" or "bearer"
    params: dict[str, str]


def parse_challenges(header: str) -> list[Challenge]:
    """``Bearer realm="…",service="…"`` (possibly several schemes) → challenges, in order."""
    out: list[Challenge] = []
    pos = 0
    while pos < len(header) and (m := _TOKEN.match(header, pos)) and m.end() > pos:
        pos = m.end()
        if m.group(3):
            out.append(Challenge(m.group(3).lower(), {}))
        elif out:
            value = m.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            out[-1].params[m.group(1).lower()] = value
    return out


def repo_scope(repo: str, *actions: str) -> str:
    return f"repository:{repo}:{','.join(actions)}"


@dataclass
class Authenticator:
    """Auth state for one registry host: its challenge, the user's credentials, cached tokens."""

    domain: str
    credentials: Credentials | None = None
    challenge: Challenge | None = None
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    def basic_header(self) -> str | None:
        if self.credentials is None:
            return None
        raw = f"{self.credentials.username}:{self.credentials.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    async def header(self, session: aiohttp.ClientSession, scopes: tuple[str, ...]) -> str | None:
        """The ``Authorization`` value to send for *scopes*, fetching a token if needed."""
        if self.challenge is None:
            return None
        if self.challenge.scheme == "basic":
            return self.basic_header()
        key = " ".join(sorted(scopes))
        cached = self._tokens.get(key)
        if cached and cached[1] > time.monotonic():
            return f"Bearer {cached[0]}"
        token, ttl = await self._fetch_token(session, scopes)
        self._tokens[key] = (token, time.monotonic() + max(ttl - 10, 10))
        return f"Bearer {token}"

    def forget(self, scopes: tuple[str, ...]) -> None:
        self._tokens.pop(" ".join(sorted(scopes)), None)

    async def _fetch_token(self, session: aiohttp.ClientSession, scopes: tuple[str, ...]) -> tuple[str, int]:
        assert self.challenge is not None
        realm = self.challenge.params.get("realm")
        if not realm:
            raise Unauthenticated(f"registry {self.domain}: bearer challenge without a realm; cannot log in")
        params: list[tuple[str, str]] = []
        if service := self.challenge.params.get("service"):
            params.append(("service", service))
        params += [("scope", s) for s in scopes]
        headers = {}
        if self.credentials is not None and self.credentials.username != "<token>":
            headers["Authorization"] = self.basic_header() or ""
            params.append(("account", self.credentials.username))
        try:
            async with session.get(realm, params=params, headers=headers) as resp:
                if resp.status in (401, 403):
                    raise Unauthenticated(
                        f"registry {self.domain}: incorrect username or password",
                        hint=f"run `dockyard login {self.domain}`",
                    )
                if resp.status != 200:
                    raise Unavailable(f"registry {self.domain}: token service {realm} answered {resp.status}")
                body = await resp.json(content_type=None)
        except aiohttp.ClientError as e:
            raise Unavailable(f"registry {self.domain}: token service {realm} unreachable ({e})") from e
        token = body.get("token") or body.get("access_token")
        if not token:
            raise Unavailable(f"registry {self.domain}: token service {realm} returned no token")
        log.register_secret(token)
        return token, int(body.get("expires_in") or 60)
