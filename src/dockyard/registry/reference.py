"""Image references, parsed and normalised exactly as docker (distribution/reference) does.

``busybox`` → ``docker.io/library/busybox:latest``; ``localhost:5000/ns/app:1@sha256:…`` keeps
its registry, path, tag and digest.  The first path component is a registry host only when it
contains a ``.`` or a ``:``, is ``localhost``, or has an upper-case letter — the same rule docker
uses, so the same string names the same image in both tools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.base.errors import InvalidArgument

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE = re.compile(rf"^((?:{_DOMAIN}/)?{_PATH})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$")
_PATH_RE = re.compile(rf"^{_PATH}$")
_TAG_RE = re.compile(rf"^{_TAG}$")
_HEX64 = re.compile(r"^[a-f0-9]{64}$")


@dataclass(frozen=True, slots=True)
class Reference:
    """A fully qualified reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``docker.io/library/busybox`` — the repository without tag or digest."""
        return f"{self.domain}/{self.path}"

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest if pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, check_tag(tag), None)

    def familiar(self) -> str:
        """The short form docker prints: ``busybox:latest``, ``me/app:1``, ``host:5000/app:1``."""
        name = self.name
        if self.domain == DEFAULT_DOMAIN:
            name = self.path.removeprefix(OFFICIAL_PREFIX) if self.path.count("/") == 1 else self.path
        return name + self._suffix()

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self._suffix()


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


def parse(text: str, *, default_tag: str | None = "latest") -> Reference:
    """Parse and normalise *text*; a reference with neither tag nor digest gets *default_tag*."""
    if not text:
        raise InvalidArgument("image reference '': empty; give a name such as busybox or host:5000/app:1")
    if _HEX64.match(text):
        raise InvalidArgument(
            f"image reference {text!r}: a 64-byte hexadecimal string is an image id, not a repository name"
        )
    m = _REFERENCE.match(text)
    if m is None:
        raise InvalidArgument(_explain(text))
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    if len(name) > NAME_MAX:
        raise InvalidArgument(f"image reference {text!r}: repository name longer than {NAME_MAX} characters")
    domain, path = split_domain(name)
    if path.lower() != path or not _PATH_RE.match(path):
        raise InvalidArgument(_explain(text))
    if digest is not None:
        _check_digest(text, digest)
    if tag is None and digest is None:
        tag = default_tag
    return Reference(domain, path, tag, digest)


def check_tag(tag: str) -> str:
    if not _TAG_RE.match(tag):
        raise InvalidArgument(f"tag {tag!r}: invalid; use up to 128 letters, digits, '_', '.' or '-'")
    return tag


def check_repository(name: str) -> str:
    """A repository path as a registry server sees it (``ns/app``, no domain, no tag)."""
    if len(name) > NAME_MAX or not _PATH_RE.match(name):
        raise InvalidArgument(f"repository name {name!r}: invalid; use lowercase path components")
    return name


def is_domain(text: str) -> bool:
    return bool(_DOMAIN_RE.match(text))


def _check_digest(text: str, digest: str) -> None:
    from dockyard.base.digest import Digest

    try:
        Digest.parse(digest)
    except InvalidArgument as e:
        raise InvalidArgument(f"image reference {text!r}: {e}") from None


def _explain(text: str) -> str:
    name = text.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    if any(c.isupper() for c in split_domain(name)[1]):
        return f"image reference {text!r}: repository name must be lowercase"
    return f"image reference {text!r}: invalid reference format"
