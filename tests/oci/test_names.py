"""Reference parsing matches docker's (distribution/reference ParseNormalizedNamed + TagNameOnly).

The one parser (:mod:`dockyard.oci.names`), which registry, build, engine, cli and dockerapi share.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.oci import names
from dockyard.oci.names import parse

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
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest and Digest.parse(digest))
    assert names.normalize(str(ref)) == str(ref)  # the full form parses back to itself


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


@pytest.mark.parametrize(("text", "domain", "path"), [
    ("Foo/bar", "Foo", "bar"),  # an upper-case first component is a host, as in docker
    ("[fe80::1]/app", "[fe80::1]", "app"),
    ("[::1]/app:1", "[::1]", "app"),
    ("my-host.example:443/a/b", "my-host.example:443", "a/b"),
])
def test_registry_hosts_follow_dockers_rule(text, domain, path):
    ref = parse(text)
    assert (ref.domain, ref.path) == (domain, path)


@pytest.mark.parametrize("text", [
    " busybox",  # docker does not trim; neither do we
    "busybox ",
    "-bad.host/app",  # host components neither start nor end with '-'
    "bad-.host/app",
    "host:port/app",
    "[::1/app",
    "a@b@sha256:" + "a" * 64,
])
def test_what_docker_refuses_we_refuse(text):
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        parse(text)


def test_reference_forms():
    ref = parse(f"localhost:5000/ns/app:1@{D}")
    assert ref.name == ref.repository == "localhost:5000/ns/app"
    assert ref.reference == D and ref.canonical == f"localhost:5000/ns/app:1@{D}"
    assert str(ref.with_tag("2")) == "localhost:5000/ns/app:2"
    assert parse("docker.io/my.org/x").familiar() == "docker.io/my.org/x:latest"  # short form would change meaning
    assert names.familiar("docker.io/Me/x:1") == "docker.io/Me/x:1"
    with pytest.raises(InvalidArgument, match="tag"):
        parse("a").with_tag("-x")


def test_registry_server_checks():
    assert names.is_domain("127.0.0.1:5000") and names.is_domain("[::1]:5000") and names.is_domain("h")
    assert not names.is_domain("h:x") and not names.is_domain("a_b.io")
    assert names.check_repository("ns/app") == "ns/app"
    for bad in ("NS/app", "a//b", "a" * 256, "a:b"):
        with pytest.raises(InvalidArgument, match="repository name"):
            names.check_repository(bad)


@given(st.text(alphabet="aZ09._-/é", max_size=12))
def test_plain_word_shortcut_agrees_with_the_grammar(path):
    # parse skips the regex for plain words; the answer must be the one the grammar gives
    assert names._path_ok(path) == (re.match(names._PATH, path) is not None)
