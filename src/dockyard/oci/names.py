"""Image references as docker spells them: ``[registry/]path[:tag][@digest]``.

Names are stored fully qualified (``docker.io/library/busybox:latest``) so that two spellings of
one image are one row, and shown in docker's familiar form (``busybox:latest``).
"""

from __future__ import annotations

import re

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.base.record import Frozen

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
# A pattern, compiled (and cached by `re`) on first use: most references name no registry.
_DOMAIN = r"^(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$"


class Reference(Frozen):
    """A parsed image reference: registry domain, repository path, tag and/or digest."""

    _fields = ("domain", "path", "tag", "digest")
    __slots__ = _fields
    domain: str
    path: str
    tag: str | None
    digest: Digest | None

    def __init__(self, domain: str, path: str, tag: str | None = None, digest: Digest | None = None) -> None:
        self._set(domain=domain, path=path, tag=tag, digest=digest)

    @property
    def repository(self) -> str:
        """``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    @property
    def canonical(self) -> str:
        """``docker.io/library/busybox:latest`` (or ``…@sha256:…`` when pinned by digest only)."""
        out = self.repository
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    @property
    def familiar(self) -> str:
        return familiar(self.canonical)

    @property
    def familiar_repository(self) -> str:
        return familiar(self.repository)


def parse(ref: str, *, default_tag: str | None = DEFAULT_TAG) -> Reference:
    text = ref.strip()
    if not text:
        raise InvalidArgument("image reference: empty; expected e.g. busybox or busybox:latest")
    digest = None
    if "@" in text:
        text, _, dg = text.partition("@")
        digest = Digest.parse(dg)
    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1:]
        if not _TAG.match(tag):
            raise InvalidArgument(f"image reference {ref!r}: invalid tag {tag!r}")
    first, sep, rest = text.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        if not re.match(_DOMAIN, first):
            raise InvalidArgument(f"image reference {ref!r}: invalid registry {first!r}")
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, text
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = f"library/{path}"
    for component in path.split("/"):
        if not _COMPONENT.match(component):
            raise InvalidArgument(
                f"image reference {ref!r}: invalid name component {component!r}; "
                "use lowercase letters, digits and separators . _ -"
            )
    if tag is None and digest is None:
        tag = default_tag
    return Reference(domain, path, tag, digest)


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
    if "/" in rest and ("." in first or ":" in first or first == "localhost"):
        return name
    if rest.startswith("library/") and "/" not in rest[len("library/"):].split("@", 1)[0]:
        return rest[len("library/"):]
    return rest


def split_tag(name: str) -> tuple[str, str]:
    """``busybox:latest`` → (``busybox``, ``latest``); digest-pinned names give tag ``<none>``."""
    base = name.split("@", 1)[0]
    slash, colon = base.rfind("/"), base.rfind(":")
    if colon > slash:
        return base[:colon], base[colon + 1:]
    return base, "<none>"
