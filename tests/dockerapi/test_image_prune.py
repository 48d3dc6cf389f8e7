"""`docker image prune` through our daemon: what docker keeps (images a container was created from,
tagged ones without -a, ones the filters spare) and what it reports."""

from __future__ import annotations

from pathlib import Path

from tests.dockerapi.daemonproc import Daemon


def _build(daemon: Daemon, ctx: Path, tag: str, body: str) -> str:
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(f"FROM busybox\n{body}\n")
    daemon.docker("build", "-q", "-t", tag, str(ctx), timeout=120)
    return daemon.docker("image", "inspect", "-f", "{{.Id}}", tag).stdout.strip()


def _ids(daemon: Daemon) -> set[str]:
    return set(daemon.docker("images", "-a", "-q", "--no-trunc").stdout.split())


def test_prune_spares_used_and_tagged_images_and_honours_filters(daemon: Daemon, tmp_path: Path) -> None:
    old = _build(daemon, tmp_path / "a1", "pr-a:1", "LABEL team=a\nRUN echo one > /v")
    daemon.docker("create", "--name", "pr-user", "pr-a:1", "cat", "/v")
    new = _build(daemon, tmp_path / "a2", "pr-a:1", "LABEL team=a\nRUN echo two > /v")
    spare = _build(daemon, tmp_path / "b", "pr-b:1", "LABEL team=b\nRUN echo b > /v")
    assert len({old, new, spare}) == 3 and {old, new, spare} <= _ids(daemon)

    # dangling only: the old pr-a is untagged but pr-user was created from it
    out = daemon.docker("image", "prune", "-f").stdout
    assert old not in out and old in _ids(daemon)
    assert daemon.docker("start", "-a", "pr-user").stdout == "one\n"

    # -a with a label filter: unused tagged images with that label go, nothing else
    r = daemon.docker("image", "prune", "-af", "--filter", "label=team=b")
    assert f"deleted: {spare}" in r.stdout and "untagged: pr-b:1" in r.stdout
    assert spare not in _ids(daemon) and new in _ids(daemon)
    assert "busybox" in daemon.docker("images", "--format", "{{.Repository}}").stdout

    # until: nothing created before a date long past
    r = daemon.docker("image", "prune", "-af", "--filter", "until=2001-01-01T00:00:00Z")
    assert new in _ids(daemon) and "deleted:" not in r.stdout

    # the container gone, its image is dangling and unused: pruned
    daemon.docker("rm", "pr-user")
    assert f"deleted: {old}" in daemon.docker("image", "prune", "-f").stdout
    assert old not in _ids(daemon)

    r = daemon.docker("image", "prune", "-f", "--filter", "reference=x", check=False)
    assert r.returncode != 0 and "invalid filter 'reference'" in r.stderr
    daemon.docker("rmi", "pr-a:1")
