"""Image references, parsed and normalised exactly as docker (distribution/reference) does.

The one parser of ``[registry/]path[:tag][@digest]`` in dockyard: ``busybox`` →
``docker.io/library/busybox:latest``; ``localhost:5000/ns/app:1@sha256:…`` keeps its registry,
path, tag and digest.  The first path component is a registry host only when it contains a ``.``
or a ``:``, is ``localhost``, or has an upper-case letter — docker's rule, so the same string names
the same image in both tools.  Names are stored fully qualified so two spellings of one image are
one row, and shown in docker's familiar form (``busybox:latest``).

This module is on the path of every ``dockyard run``: it compiles no regex at import (the
patterns are compiled, and cached by :mod:`re`, on first use) and imports neither ``dataclasses``
nor ``typing``.
"""

from __future__ import annotations

import re

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.base.record import Frozen

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX = 255

# docker's grammar as pattern text; `re` compiles each on its first use, not at import.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = rf"^{_COMPONENT}(?:/{_COMPONENT})*$"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$"
_TAG = r"^[\w][\w.-]{0,127}$"
_DIGEST = r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$"
_HEX64 = r"^[a-f0-9]{64}$"


class Reference(Frozen):
    """A fully qualified reference: ``domain/path[:tag][@digest]``."""

    _fields = ("domain", "path", "tag", "digest")
    __slots__ = _fields
    domain: str
    path: str
    tag: str | None
    digest: Digest | None

    def __init__(self, domain: str, path: str, tag: str | None = None, digest: Digest | None = None) -> None:
        self._set(domain=domain, path=path, tag=tag, digest=digest)

    @property
    def name(self) -> str:
        """``docker.io/library/busybox`` — the repository without tag or digest."""
        return f"{self.domain}/{self.path}"

    repository = name

    @property
    def canonical(self) -> str:
        """``docker.io/library/busybox:latest`` (or ``…@sha256:…`` when pinned by digest only)."""
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest if pinned, else the tag."""
        return str(self.digest) if self.digest else self.tag or DEFAULT_TAG

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, check_tag(tag), None)

    def familiar(self) -> str:
        """The short form docker prints: ``busybox:latest``, ``me/app:1``, ``host:5000/app:1``."""
        return familiar(self.canonical)

    def __str__(self) -> str:
        return self.canonical


def split_domain(name: str) -> tuple[str, str]:
    """Docker's splitDockerDomain: decide whether the first component is a registry host."""
    first, sep, rest = name.partition("/")
    if not sep or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse(text: str, *, default_tag: str | None = DEFAULT_TAG) -> Reference:
    """Parse and normalise *text*; a reference with neither tag nor digest gets *default_tag*."""
    if not text:
        raise InvalidArgument("image reference '': empty; give a name such as busybox or host:5000/app:1")
    if len(text) == 64 and re.match(_HEX64, text):
        raise InvalidArgument(
            f"image reference {text!r}: a 64-byte hexadecimal string is an image id, not a repository name"
        )
    name, at, digest = text.partition("@")
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1:]
    domain, path = split_domain(name)
    ok = (_path_ok(path)
          and (tag is None or (_plain(tag) and len(tag) <= 128) or re.match(_TAG, tag) is not None)
          and (not at or re.match(_DIGEST, digest) is not None)
          and (domain == DEFAULT_DOMAIN or re.match(_DOMAIN, domain) is not None))
    if not ok:
        raise InvalidArgument(_explain(text))
    if len(name) > NAME_MAX:
        raise InvalidArgument(f"image reference {text!r}: repository name longer than {NAME_MAX} characters")
    parsed_digest = None
    if at:
        try:
            parsed_digest = Digest.parse(digest)
        except InvalidArgument as e:
            raise InvalidArgument(f"image reference {text!r}: {e}") from None
    if tag is None and parsed_digest is None:
        tag = default_tag
    return Reference(domain, path, tag, parsed_digest)


def _plain(word: str) -> bool:
    """ASCII letters and digits only: valid as a tag and (lowercase) as a path component."""
    return word.isascii() and word.isalnum()


def _path_ok(path: str) -> bool:
    # Most paths (library/busybox, me/app) are plain words: skip compiling the grammar for them.
    if all(_plain(c) and c.lower() == c for c in path.split("/")):
        return True
    return re.match(_PATH, path) is not None


def check_tag(tag: str) -> str:
    if not re.match(_TAG, tag):
        raise InvalidArgument(f"tag {tag!r}: invalid; use up to 128 letters, digits, '_', '.' or '-'")
    return tag


def check_repository(name: str) -> str:
    """A repository path as a registry server sees it (``ns/app``, no domain, no tag)."""
    if len(name) > NAME_MAX or not re.match(_PATH, name):
        raise InvalidArgument(f"repository name {name!r}: invalid; use lowercase path components")
    return name


def is_domain(text: str) -> bool:
    """Whether *text* is a registry host as docker spells one (``host``, ``h.io:5000``, ``[::1]``)."""
    return re.match(_DOMAIN, text) is not None


def _explain(text: str) -> str:
    name = text.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    if any(c.isupper() for c in split_domain(name)[1]):
        return f"image reference {text!r}: repository name must be lowercase"
    return f"image reference {text!r}: invalid reference format"


def normalize(ref: str) -> str:
    """``busybox`` → ``docker.io/library/busybox:latest``."""
    return parse(ref).canonical


def familiar(name: str) -> str:
    """``docker.io/library/busybox:latest`` → ``busybox:latest``; other registries stay whole.

    Shortened only where the short form parses back to the same name (``docker.io/library/a/b``
    stays ``library/a/b``; ``docker.io/my.org/x`` keeps its domain, or ``my.org`` would be one).
    """
    prefix = f"{DEFAULT_DOMAIN}/"
    if not name.startswith(prefix):
        return name
    rest = name[len(prefix):]
    first = rest.split("/", 1)[0]
    if "/" in rest and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        return name
    if rest.startswith(OFFICIAL_PREFIX) and "/" not in rest[len(OFFICIAL_PREFIX):].split("@", 1)[0]:
        return rest[len(OFFICIAL_PREFIX):]
    return rest


def split_tag(name: str) -> tuple[str, str]:
    """``busybox:latest`` → (``busybox``, ``latest``); digest-pinned names give tag ``<none>``."""
    base = name.split("@", 1)[0]
    slash, colon = base.rfind("/"), base.rfind(":")
    if colon > slash:
        return base[:colon], base[colon + 1:]
    return base, "<none>"
