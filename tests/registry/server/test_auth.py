"""htpasswd basic auth, the bearer-token flow through /token, and anonymous reads."""

from __future__ import annotations

import base64
import subprocess

import bcrypt
import pytest

from dockyard.registry.server.auth import AuthConfig, issue_token, load_htpasswd, verify_token

from ..helpers import require_tool

USERS = {"alice": bcrypt.hashpw(b"s3cret", bcrypt.gensalt(4))}


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _bearer(challenge: str) -> dict[str, str]:
    assert challenge.startswith("Bearer ")
    return dict(part.split("=", 1) for part in challenge[7:].replace('"', "").split(",", 2))


async def test_basic_auth_required_then_accepted(make_api):
    api = await make_api(AuthConfig(USERS))
    resp = await api.get("/v2/")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert (await resp.json())["errors"][0]["code"] == "UNAUTHORIZED"
    assert (await api.get("/v2/", headers=_basic("alice", "wrong"))).status == 401
    assert (await api.get("/v2/", headers=_basic("alice", "s3cret"))).status == 200
    assert (await api.post("/v2/r/blobs/uploads/", headers=_basic("alice", "s3cret"))).status == 202


async def test_anonymous_read_allows_pull_but_not_push(make_api):
    api = await make_api(AuthConfig(USERS, anonymous_read=True))
    assert (await api.get("/v2/")).status == 401  # the ping still tells clients how to log in
    assert (await api.get("/v2/r/manifests/latest")).status == 404  # allowed, just absent
    assert (await api.post("/v2/r/blobs/uploads/")).status == 401


async def test_token_flow(make_api):
    api = await make_api(AuthConfig(USERS, mode="token"))
    resp = await api.post("/v2/team/app/blobs/uploads/")
    assert resp.status == 401
    challenge = _bearer(resp.headers["WWW-Authenticate"])
    assert challenge["realm"].endswith("/token")
    assert challenge["scope"] == "repository:team/app:pull,push"
    params = {"service": challenge["service"], "scope": challenge["scope"]}
    assert (await api.get("/token", params=params)).status == 401
    assert (await api.get("/token", params=params, headers=_basic("alice", "nope"))).status == 401
    token = (await (await api.get("/token", params=params, headers=_basic("alice", "s3cret"))).json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.post("/v2/team/app/blobs/uploads/", headers=headers)).status == 202
    # the token covers only the repository it was issued for
    assert (await api.post("/v2/other/blobs/uploads/", headers=headers)).status == 401
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (await api.post("/v2/team/app/blobs/uploads/", headers={"Authorization": f"Bearer {forged}"})).status == 401


async def test_anonymous_token_grants_pull_only(make_api):
    api = await make_api(AuthConfig(USERS, mode="token", anonymous_read=True))
    body = await (await api.get("/token", params={"scope": "repository:r:pull,push"})).json()
    claims = verify_token(AuthConfig(USERS, mode="token", key=b""), body["token"]) or {}
    assert claims == {}  # a different key never verifies
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert (await api.get("/v2/r/tags/list", headers=headers)).status == 404
    assert (await api.post("/v2/r/blobs/uploads/", headers=headers)).status == 401


def test_token_expiry_and_signature():
    cfg = AuthConfig(USERS, mode="token")
    token = issue_token(cfg, "alice", [], now=1000.0)
    assert verify_token(cfg, token, now=1100.0) is not None
    assert verify_token(cfg, token, now=1000.0 + 301) is None
    header, _payload, sig = token.split(".")
    tampered = base64.urlsafe_b64encode(b'{"aud":"dockyard-registry","exp":9e12}').rstrip(b"=").decode()
    assert verify_token(cfg, f"{header}.{tampered}.{sig}", now=1100.0) is None


@pytest.mark.e2e
def test_htpasswd_file_from_apache_tool(tmp_path):
    line = subprocess.run([require_tool("htpasswd"), "-Bbn", "bob", "pw"], check=True,
                          capture_output=True, text=True).stdout
    (tmp_path / "htpasswd").write_text(line)
    cfg = AuthConfig(load_htpasswd(tmp_path / "htpasswd"))
    assert cfg.check("bob", "pw") and not cfg.check("bob", "pw2") and not cfg.check("eve", "pw")
