"""docker config.json compatibility: auths entries, credential helpers, login/logout round trips."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from dockyard.registry.client.credentials import DOCKER_HUB_KEY, Credentials, erase, lookup, store


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    return tmp_path / "docker" / "config.json"


def test_store_lookup_erase_in_config_json(docker_config):
    assert lookup("myreg:5000") is None
    store("myreg:5000", Credentials("alice", "pw:with:colons"))
    store("docker.io", Credentials("bob", "hub"))
    doc = json.loads(docker_config.read_text())
    assert base64.b64decode(doc["auths"]["myreg:5000"]["auth"]) == b"alice:pw:with:colons"
    assert DOCKER_HUB_KEY in doc["auths"]
    assert stat.S_IMODE(os.stat(docker_config).st_mode) == 0o600
    assert lookup("myreg:5000") == Credentials("alice", "pw:with:colons")
    assert lookup("index.docker.io") == Credentials("bob", "hub")
    assert erase("myreg:5000") and not erase("myreg:5000")
    assert lookup("myreg:5000") is None


def test_docker_written_spellings_are_found(docker_config):
    docker_config.parent.mkdir(parents=True)
    docker_config.write_text(json.dumps({"auths": {
        "https://reg.example/v2/": {"auth": base64.b64encode(b"u:p").decode()},
        "other.example": {"identitytoken": "tok"},
    }, "HttpHeaders": {"User-Agent": "kept"}}))
    assert lookup("reg.example") == Credentials("u", "p")
    assert lookup("other.example") == Credentials("<token>", "tok")
    store("new.example", Credentials("a", "b"))
    assert json.loads(docker_config.read_text())["HttpHeaders"] == {"User-Agent": "kept"}


def test_credential_helper_is_used(docker_config, tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    vault = tmp_path / "vault.json"
    helper = bindir / "docker-credential-testvault"
    # A real helper speaking docker's protocol, keeping secrets in a file.
    helper.write_text(f"""#!/usr/bin/env python3
import json, sys, pathlib
p = pathlib.Path({str(vault)!r}); db = json.loads(p.read_text()) if p.exists() else {{}}
action, data = sys.argv[1], sys.stdin.read().strip()
if action == "store":
    d = json.loads(data); db[d["ServerURL"]] = d; p.write_text(json.dumps(db))
elif action == "get":
    if data not in db: print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps({{"ServerURL": data, "Username": db[data]["Username"], "Secret": db[data]["Secret"]}}))
elif action == "erase":
    db.pop(data, None); p.write_text(json.dumps(db))
""")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    docker_config.parent.mkdir(parents=True)
    docker_config.write_text(json.dumps({"credHelpers": {"vault.example": "testvault"}}))
    assert lookup("vault.example") is None
    assert "testvault" in store("vault.example", Credentials("carol", "secret"))
    assert lookup("vault.example") == Credentials("carol", "secret")
    assert "auths" not in json.loads(docker_config.read_text())  # the secret never hit the file
    assert erase("vault.example") and lookup("vault.example") is None
