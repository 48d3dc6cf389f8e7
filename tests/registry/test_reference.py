"""Reference parsing matches docker's (distribution/reference ParseNormalizedNamed + TagNameOnly)."""

from __future__ import annotations

import pytest

from dockyard.base.errors import InvalidArgument
from dockyard.registry.reference import parse

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(("text", "domain", "path", "tag", "digest"), [
    ("busybox", "docker.io", "library/busybox", "latest", None),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
    ("library/busybox", "docker.io", "library/busybox", "latest", None),
    ("docker.io/busybox", "docker.io", "library/busybox", "latest", None),
    ("index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", None),
    ("me/app", "docker.io", "me/app", "latest", None),
    ("me/team/app:v2", "docker.io", "me/team/app", "v2", None),
    ("localhost/app", "localhost", "app", "latest", None),
    ("localhost:5000/app:1", "localhost:5000", "app", "1", None),
    ("127.0.0.1:5000/ns/name:tag", "127.0.0.1:5000", "ns/name", "tag", None),
    (f"127.0.0.1:5000/ns/name:tag@{D}", "127.0.0.1:5000", "ns/name", "tag", D),
    (f"busybox@{D}", "docker.io", "library/busybox", None, D),
    ("ghcr.io/owner/repo", "ghcr.io", "owner/repo", "latest", None),
    ("Registry.Example/app", "Registry.Example", "app", "latest", None),  # upper case: a host
    ("[::1]:5000/app", "[::1]:5000", "app", "latest", None),
    ("a.b/c__d/e-f.g_h:T_1.x", "a.b", "c__d/e-f.g_h", "T_1.x", None),
    ("quay.io/a--b/c", "quay.io", "a--b/c", "latest", None),
    ("host:5000/app:" + "t" * 128, "host:5000", "app", "t" * 128, None),
])
def test_valid_references(text, domain, path, tag, digest):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)


@pytest.mark.parametrize(("text", "familiar", "full"), [
    ("busybox", "busybox:latest", "docker.io/library/busybox:latest"),
    ("me/app:1", "me/app:1", "docker.io/me/app:1"),
    ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest"),
    ("docker.io/library/a/b", "library/a/b:latest", "docker.io/library/a/b:latest"),
])
def test_familiar_and_full_forms(text, familiar, full):
    ref = parse(text)
    assert ref.familiar() == familiar and str(ref) == full


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty"),
    ("Busybox", "must be lowercase"),
    ("me/App", "must be lowercase"),
    ("busybox:", "invalid reference format"),
    (":tag", "invalid reference format"),
    ("busybox::tag", "invalid reference format"),
    ("busybox:" + "t" * 129, "invalid reference format"),
    ("busybox:-tag", "invalid reference format"),
    ("a/-b", "invalid reference format"),
    ("a/b_", "invalid reference format"),
    ("a//b", "invalid reference format"),
    ("a/b@sha256:abc", "invalid reference format"),
    ("a/b@sha256:" + "g" * 64, "invalid reference format"),
    ("a/b@md5:" + "a" * 32, "unsupported algorithm"),
    ("a" * 64, "64-byte hexadecimal"),
    ("host:5000/" + "a" * 256, "longer than 255"),
    ("a b", "invalid reference format"),
    ("http://host/app", "invalid reference format"),
])
def test_invalid_references(text, why):
    with pytest.raises(InvalidArgument, match=why):
        parse(text)


def test_default_tag_can_be_turned_off():
    assert parse("busybox", default_tag=None).tag is None
    assert parse("busybox", default_tag=None).reference == "latest"
