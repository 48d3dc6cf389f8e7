"""Secrets encrypted at rest with AES-256-GCM, as kube-apiserver's ``aesgcm`` provider does.

The key lives in ``<data root>/cluster/encryption.key`` (mode 0600, created on first start).
Stored values carry a ``k8s:enc:aesgcm:v1:key1:`` prefix, so plaintext written before encryption
was turned on still reads, and a later key rotation can tell keys apart.  Nothing here logs.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dockyard.base.errors import Internal

PREFIX = b"k8s:enc:aesgcm:v1:key1:"


class Encryptor:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def from_file(cls, path: Path) -> Encryptor:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(AESGCM.generate_key(bit_length=256))
                f.flush()
                os.fsync(f.fileno())
        key = path.read_bytes()
        if len(key) != 32:
            raise Internal(f"encryption key {path}: must be 32 bytes; restore it from backup")
        return cls(key)

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        # The storage key is the associated data: a value copied to another key will not decrypt.
        nonce = os.urandom(12)
        return PREFIX + nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, stored: bytes, *, context: bytes) -> bytes:
        if not stored.startswith(PREFIX):
            return stored
        body = stored[len(PREFIX):]
        try:
            return self._aead.decrypt(body[:12], body[12:], context)
        except Exception as e:
            raise Internal(f"stored secret {context.decode()!r}: cannot decrypt; is the key file the right one?") from e
