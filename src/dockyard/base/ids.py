"""Identifiers and names: random ids, docker-style names, DNS-1123 labels."""

from __future__ import annotations

import os
import re

from dockyard.base.errors import InvalidArgument

# Patterns, not compiled ones: `re` compiles each on first use (and caches it), so a process that
# checks no names — every unnamed `dockyard run` — skips ~0.3 ms of compiling.
_DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_CONTAINER_NAME = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"

_ADJECTIVES = (
    "brave", "calm", "eager", "fond", "gentle", "happy", "keen", "lucid", "merry", "nimble",
    "proud", "quiet", "rapid", "sharp", "steady", "swift", "tidy", "vivid", "warm", "zesty",
)
_NOUNS = (
    "anchor", "barge", "buoy", "crane", "dinghy", "ferry", "galley", "harbor", "hull", "keel",
    "mast", "pier", "quay", "rudder", "sail", "skiff", "tug", "wharf", "yacht", "schooner",
)


def new_id() -> str:
    """A 64-hex-digit id, like docker's container ids."""
    return os.urandom(32).hex()  # what secrets.token_hex does, without its hmac/hashlib imports


def random_name() -> str:
    """A readable name for an unnamed container (``swift_ferry_3f2a``)."""
    a, n = int.from_bytes(os.urandom(4), "big"), int.from_bytes(os.urandom(4), "big")
    return f"{_ADJECTIVES[a % len(_ADJECTIVES)]}_{_NOUNS[n % len(_NOUNS)]}_{os.urandom(2).hex()}"


def check_container_name(name: str) -> str:
    if not re.match(_CONTAINER_NAME, name) or len(name) > 253:
        raise InvalidArgument(
            f"name {name!r}: invalid; use letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return name


def check_dns1123_label(name: str, *, what: str = "name") -> str:
    if len(name) > 63 or not re.match(_DNS1123_LABEL, name):
        raise InvalidArgument(
            f"{what} {name!r}: must be a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
    return name


def check_dns1123_subdomain(name: str, *, what: str = "name") -> str:
    if len(name) > 253 or not re.match(_DNS1123_SUBDOMAIN, name):
        raise InvalidArgument(
            f"{what} {name!r}: must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters)"
        )
    return name
