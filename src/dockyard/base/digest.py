"""Content digests (``algorithm:hex``) as the OCI image spec defines them.

Only sha256 and sha512 are accepted, the two algorithms the spec registers; the encoded part is
checked for length and alphabet so that a digest can be used safely as a file name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from dockyard.base.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

_LENGTHS = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"^[a-f0-9]+$")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """A content digest, ``algorithm:encoded`` (``sha256:<64 hex digits>``)."""

    algorithm: str
    encoded: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        algorithm, sep, encoded = text.partition(":")
        if not sep:
            raise InvalidArgument(f"digest {text!r}: missing algorithm; expected sha256:<64 hex digits>")
        want = _LENGTHS.get(algorithm)
        if want is None:
            raise InvalidArgument(f"digest {text!r}: unsupported algorithm {algorithm!r}; use sha256 or sha512")
        if len(encoded) != want or not _HEX.match(encoded):
            raise InvalidArgument(f"digest {text!r}: expected {want} lowercase hex digits after {algorithm}:")
        return cls(algorithm, encoded)

    @classmethod
    def from_bytes(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    @classmethod
    def from_stream(cls, stream: BinaryIO, algorithm: str = "sha256") -> Digest:
        h = hashlib.new(algorithm)
        while chunk := stream.read(_CHUNK):
            h.update(chunk)
        return cls(algorithm, h.hexdigest())

    def hasher(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)

    @property
    def short(self) -> str:
        """The 12-character id docker prints."""
        return self.encoded[:12]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"


def is_digest(text: str) -> bool:
    try:
        Digest.parse(text)
    except InvalidArgument:
        return False
    return True
