"""Parsing WWW-Authenticate challenges, and which registries count as insecure."""

from __future__ import annotations

from dockyard.registry.client.auth import parse_challenges
from dockyard.registry.client.settings import ClientSettings


def test_bearer_challenge_with_commas_inside_quotes():
    [c] = parse_challenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                           'scope="repository:library/busybox:pull,push"')
    assert c.scheme == "bearer"
    assert c.params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                        "scope": "repository:library/busybox:pull,push"}


def test_basic_and_multiple_challenges():
    assert [c.scheme for c in parse_challenges('Basic realm="x"')] == ["basic"]
    both = parse_challenges('Basic realm="r", Bearer realm="https://t/token",service=s')
    assert [c.scheme for c in both] == ["basic", "bearer"]
    assert both[1].params == {"realm": "https://t/token", "service": "s"}


def test_loopback_is_insecure_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCKYARD_INSECURE_REGISTRIES", raising=False)
    s = ClientSettings.load(tmp_path)
    assert s.is_insecure("localhost:5000") and s.is_insecure("127.0.0.1:5000") and s.is_insecure("[::1]:5000")
    assert not s.is_insecure("registry.example") and not s.is_insecure("10.0.0.1:5000")


def test_settings_file_and_environment(tmp_path, monkeypatch):
    (tmp_path / "registries.json").write_text(
        '{"insecure-registries": ["reg.lan:5000"], "registry-mirrors": ["https://mirror.lan"]}')
    monkeypatch.setenv("DOCKYARD_REGISTRY_MIRRORS", "http://first.lan")
    monkeypatch.setenv("DOCKYARD_INSECURE_REGISTRIES", "other.lan")
    s = ClientSettings.load(tmp_path)
    assert s.is_insecure("reg.lan:5000") and s.is_insecure("other.lan")
    assert s.mirrors == ["http://first.lan", "https://mirror.lan"]
    assert ClientSettings.load(tmp_path, insecure=True).is_insecure("anything.example")
