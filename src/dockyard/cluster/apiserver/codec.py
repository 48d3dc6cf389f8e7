"""Objects ⇄ stored bytes.

Objects are stored as compact JSON with ``metadata`` as the first key and without
``resourceVersion`` (the store's ``mod_rev`` is the resource version, as in kube-apiserver).  That
layout lets a list splice the resource version into each stored document without parsing it,
which is what keeps a list of 10k pods fast.  Secrets go through :class:`Encryptor`.
"""

from __future__ import annotations

import json
from typing import Any

from dockyard.cluster.apiserver.encryption import Encryptor
from dockyard.cluster.store import KeyValue

_HEAD = b'{"metadata":{'
ENCRYPTED_PREFIXES = ("/registry/core/secrets/",)


class Codec:
    def __init__(self, encryptor: Encryptor | None = None) -> None:
        self.encryptor = encryptor

    def _encrypted(self, key: str) -> bool:
        return self.encryptor is not None and key.startswith(ENCRYPTED_PREFIXES)

    def encode(self, key: str, obj: dict[str, Any]) -> bytes:
        meta = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
        data = json.dumps({"metadata": meta, **{k: v for k, v in obj.items() if k != "metadata"}},
                          separators=(",", ":")).encode()
        if self._encrypted(key):
            assert self.encryptor is not None
            return self.encryptor.encrypt(data, context=key.encode())
        return data

    def plain(self, kv: KeyValue) -> bytes:
        if self._encrypted(kv.key):
            assert self.encryptor is not None
            return self.encryptor.decrypt(kv.value, context=kv.key.encode())
        return kv.value

    def raw(self, kv: KeyValue, rev: int | None = None) -> bytes:
        """The object's JSON with its resource version, without decoding it."""
        data = self.plain(kv)
        rv = b'"resourceVersion":"%d"' % (rev if rev is not None else kv.mod_rev)
        if data.startswith(_HEAD):
            rest = data[len(_HEAD):]
            return _HEAD + rv + (b"," + rest if not rest.startswith(b"}") else rest)
        obj = json.loads(data)
        obj.setdefault("metadata", {})["resourceVersion"] = str(rev if rev is not None else kv.mod_rev)
        return json.dumps(obj, separators=(",", ":")).encode()

    def decode(self, kv: KeyValue, rev: int | None = None) -> dict[str, Any]:
        obj = json.loads(self.plain(kv))
        obj.setdefault("metadata", {})["resourceVersion"] = str(rev if rev is not None else kv.mod_rev)
        return obj
