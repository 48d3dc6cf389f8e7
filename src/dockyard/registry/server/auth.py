"""Who may do what: htpasswd (bcrypt) users, HTTP basic auth or bearer tokens from ``/token``.

Two modes, chosen at start-up, both checked by :func:`middleware`:

* ``basic`` (what docker-registry's htpasswd mode does): every request carries
  ``Authorization: Basic``; a 401 answers ``WWW-Authenticate: Basic realm=…``.
* ``token`` (Docker Hub's flow): a 401 answers ``WWW-Authenticate: Bearer realm=<us>/token,
  service=…,scope=repository:<name>:pull,push``; the client fetches a token from our own
  ``/token`` endpoint with its basic credentials (or none, for anonymous reads) and retries with
  ``Authorization: Bearer``.  Tokens are HS256 JWTs signed with a key kept in the data root, valid
  for five minutes, and carry the granted ``access`` list that each request is checked against.

Every htpasswd user may pull and push every repository; ``anonymous_read`` lets anyone pull.
bcrypt is slow on purpose, so a verified (user, password) pair is remembered for the process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
from aiohttp import web

from dockyard.base.errors import InvalidArgument
from dockyard.registry.server.errors import RegistryError

TOKEN_TTL = 300
_REPO_PATH = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags|referrers)/")


@dataclass
class AuthConfig:
    users: dict[str, bytes]
    mode: str = "basic"  # or "token"
    anonymous_read: bool = False
    service: str = "dockyard-registry"
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _verified: set[tuple[str, str]] = field(default_factory=set)

    def check(self, user: str, password: str) -> bool:
        hashed = self.users.get(user)
        if hashed is None:
            return False
        memo = (user, hashlib.sha256(password.encode()).hexdigest())
        if memo in self._verified:
            return True
        if hashed.startswith(b"$2y$"):  # apache's spelling of the same bcrypt variant
            hashed = b"$2b$" + hashed[4:]
        try:
            ok = bcrypt.checkpw(password.encode(), hashed)
        except ValueError:
            ok = False
        if ok:
            self._verified.add(memo)
        return ok


KEY: web.AppKey[AuthConfig | None] = web.AppKey("auth")


def load_htpasswd(path: Path) -> dict[str, bytes]:
    users = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        user, sep, hashed = line.strip().partition(":")
        if not sep or not hashed.startswith("$2"):
            raise InvalidArgument(f"htpasswd {path}:{n}: not a bcrypt entry; create it with `htpasswd -Bbn USER PASS`")
        users[user] = hashed.encode()
    return users


def load_key(path: Path) -> bytes:
    """The token signing key, created once and kept (0600) so tokens survive a restart."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()


# tokens ----------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(cfg: AuthConfig, subject: str, access: list[dict[str, Any]], now: float | None = None) -> str:
    now = time.time() if now is None else now
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"iss": "dockyard", "sub": subject, "aud": cfg.service, "iat": int(now),
              "nbf": int(now) - 5, "exp": int(now) + TOKEN_TTL, "jti": secrets.token_hex(8), "access": access}
    payload = _b64(json.dumps(claims).encode())
    sig = hmac.new(cfg.key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(sig)}"


def verify_token(cfg: AuthConfig, token: str, now: float | None = None) -> dict[str, Any] | None:
    try:
        header, payload, sig = token.split(".")
        want = hmac.new(cfg.key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, _unb64(sig)):
            return None
        claims = json.loads(_unb64(payload))
    except (ValueError, binascii.Error):
        return None
    now = time.time() if now is None else now
    if claims.get("aud") != cfg.service or not claims.get("nbf", 0) <= now < claims.get("exp", 0):
        return None
    return claims


def parse_scope(scope: str) -> dict[str, Any] | None:
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name:
        return None
    return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]}


def _allows(claims: dict[str, Any], repo: str | None, action: str | None) -> bool:
    if repo is None:
        return True
    for entry in claims.get("access", []):
        if entry.get("name") == repo and (action in entry.get("actions", []) or "*" in entry.get("actions", [])):
            return True
    return False


# the request side -------------------------------------------------------------------------
def _basic(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, binascii.Error):
        return None
    return user, password


def _needed(request: web.Request) -> tuple[str | None, str | None]:
    if request.path.rstrip("/") == "/v2":
        return None, None
    if request.path == "/v2/_catalog":
        return "catalog", "*"
    m = _REPO_PATH.match(request.path)
    repo = m.group(1) if m else None
    action = {"GET": "pull", "HEAD": "pull", "DELETE": "delete"}.get(request.method, "push")
    return repo, action


def _challenge(request: web.Request, cfg: AuthConfig, repo: str | None, action: str | None) -> RegistryError:
    if cfg.mode == "token":
        value = f'Bearer realm="{request.scheme}://{request.host}/token",service="{cfg.service}"'
        if repo == "catalog":
            value += ',scope="registry:catalog:*"'
        elif repo is not None:
            actions = "pull" if action == "pull" else f"pull,push{',delete' if action == 'delete' else ''}"
            value += f',scope="repository:{repo}:{actions}"'
    else:
        value = 'Basic realm="dockyard registry"'
    detail = [{"Type": "repository", "Name": repo, "Action": action}] if repo else None
    return RegistryError("UNAUTHORIZED", detail=detail, headers={"WWW-Authenticate": value})


@web.middleware
async def middleware(request: web.Request, handler):
    cfg = request.app[KEY]
    if cfg is None or not request.path.startswith("/v2"):
        return await handler(request)
    repo, action = _needed(request)
    creds = _basic(request)
    if creds is not None:
        if cfg.check(*creds):
            return await handler(request)
        raise _challenge(request, cfg, repo, action)
    header = request.headers.get("Authorization", "")
    if cfg.mode == "token" and header.lower().startswith("bearer "):
        claims = verify_token(cfg, header[7:].strip())
        if claims is not None and _allows(claims, repo, action):
            return await handler(request)
        raise _challenge(request, cfg, repo, action)
    # The /v2/ ping always challenges: clients (containers/image, docker) learn the auth scheme
    # only there, and would never send credentials for a push after an unchallenged ping.
    if cfg.anonymous_read and action == "pull":
        return await handler(request)
    raise _challenge(request, cfg, repo, action)


async def token_endpoint(request: web.Request) -> web.Response:
    """Docker's token protocol: GET /token?service=…&scope=…[&scope=…] with optional basic auth."""
    cfg = request.app[KEY]
    if cfg is None:
        raise RegistryError("UNSUPPORTED", "this registry does not issue tokens")
    creds = _basic(request)
    if creds is not None and not cfg.check(*creds):
        raise RegistryError("UNAUTHORIZED", "wrong user name or password",
                            headers={"WWW-Authenticate": 'Basic realm="dockyard registry"'})
    if creds is None and not cfg.anonymous_read:
        raise RegistryError("UNAUTHORIZED", "credentials required",
                            headers={"WWW-Authenticate": 'Basic realm="dockyard registry"'})
    access = []
    for scope in request.query.getall("scope", []):
        for part in scope.split(" "):
            entry = parse_scope(part)
            if entry is None:
                continue
            if creds is None:
                entry["actions"] = [a for a in entry["actions"] if a == "pull"]
            access.append(entry)
    subject = creds[0] if creds else ""
    token = issue_token(cfg, subject, access)
    body = {"token": token, "access_token": token, "expires_in": TOKEN_TTL,
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return web.json_response(body)
