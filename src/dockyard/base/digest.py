"""Content digests (``algorithm:hex``) as the OCI image spec defines them.

Only sha256 and sha512 are accepted, the two algorithms the spec registers; the encoded part is
checked for length and alphabet so that a digest can be used safely as a file name.
"""

from __future__ import annotations

import re

from dockyard.base.errors import InvalidArgument
from dockyard.base.record import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    import hashlib
    from typing import BinaryIO

_LENGTHS = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"^[a-f0-9]+$")
_CHUNK = 1 << 20


class Digest(Frozen):
    """A content digest, ``algorithm:encoded`` (``sha256:<64 hex digits>``); ordered by both."""

    _fields = ("algorithm", "encoded")
    __slots__ = _fields
    algorithm: str
    encoded: str

    def __init__(self, algorithm: str, encoded: str) -> None:
        self._set(algorithm=algorithm, encoded=encoded)

    def __lt__(self, other: Digest) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.algorithm, self.encoded) < (other.algorithm, other.encoded)

    def __le__(self, other: Digest) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.algorithm, self.encoded) <= (other.algorithm, other.encoded)

    def __gt__(self, other: Digest) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.algorithm, self.encoded) > (other.algorithm, other.encoded)

    def __ge__(self, other: Digest) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.algorithm, self.encoded) >= (other.algorithm, other.encoded)

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
        import hashlib  # here, not at the top: ~2 ms that `dockyard run` never needs

        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    @classmethod
    def from_stream(cls, stream: BinaryIO, algorithm: str = "sha256") -> Digest:
        import hashlib

        h = hashlib.new(algorithm)
        while chunk := stream.read(_CHUNK):
            h.update(chunk)
        return cls(algorithm, h.hexdigest())

    def hasher(self) -> hashlib._Hash:
        import hashlib

        return hashlib.new(self.algorithm)

    @property
    def short(self) -> str:
        """The 12-character id docker prints."""
        return self.encoded[:12]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"


def sha256_hex(data: bytes) -> str:
    """sha256 of a small *data* (a chain ID, a key), without ``hashlib``: its OpenSSL binding costs
    ~2 ms to import, ten times the builtin module's, on the path of every ``dockyard run``."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # Python 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef]  # Python 3.11
        except ImportError:  # a build without the builtin modules
            from hashlib import sha256  # type: ignore[no-redef]
    return sha256(data).hexdigest()


def is_digest(text: str) -> bool:
    try:
        Digest.parse(text)
    except InvalidArgument:
        return False
    return True
