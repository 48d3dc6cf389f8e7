"""List with selectors and pagination: ``limit``/``continue`` read at one revision, as etcd lists do.

The continue token carries the revision of the first page and the last key returned, so every
page comes from the same snapshot even while others write (410 once that revision is compacted).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from dockyard.cluster.api.errors import BadRequest, Gone
from dockyard.cluster.api.kinds import Kind
from dockyard.cluster.api.selectors import (
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)
from dockyard.cluster.apiserver.codec import Codec
from dockyard.cluster.store import Compacted, KeyValue, Store

BATCH = 500


def encode_continue(rev: int, key: str, prefix: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": rev, "start": key[len(prefix):]}
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()


def decode_continue(token: str, prefix: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), prefix + str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise BadRequest("continue key is not valid: illegal base64 data") from None


class Selection:
    def __init__(self, kind: Kind, label_selector: str = "", field_selector: str = "") -> None:
        self.labels = parse_label_selector(label_selector)
        self.fields = parse_field_selector(field_selector, kind.kind)

    @property
    def everything(self) -> bool:
        return not self.labels and not self.fields

    def matches(self, obj: dict[str, Any]) -> bool:
        return labels_match(self.labels, (obj.get("metadata") or {}).get("labels")) and \
            fields_match(self.fields, obj)


async def list_page(store: Store, codec: Codec, prefix: str, selection: Selection, *, limit: int,
                    token: str, revision: int = 0) -> tuple[list[KeyValue], list[dict[str, Any]] | None, int, str]:
    """Matching items (raw, and decoded when a selector needed decoding), revision, next token.

    *revision* reads at a past revision (``resourceVersionMatch=Exact``); a continue token wins."""
    rev, after = decode_continue(token, prefix) if token else (revision, "")
    out: list[KeyValue] = []
    decoded: list[dict[str, Any]] = []
    try:
        while True:
            want = BATCH if not selection.everything or not limit else limit - len(out)
            items, read_rev, more = await store.list(prefix, start_after=after, limit=max(want, 1) if limit or
                                                     not selection.everything else 0, revision=rev)
            rev = rev or read_rev
            for kv in items:
                if not selection.everything:
                    obj = codec.decode(kv)
                    if not selection.matches(obj):
                        after = kv.key
                        continue
                    decoded.append(obj)
                out.append(kv)
                after = kv.key
                if limit and len(out) >= limit:
                    break
            if limit and len(out) >= limit:
                more = more or kv.key != items[-1].key
                return out, decoded if not selection.everything else None, rev, \
                    encode_continue(rev, after, prefix) if more else ""
            if not more:
                return out, decoded if not selection.everything else None, rev, ""
    except Compacted:
        if not token:
            raise Gone(f"too old resource version: {revision}") from None
        raise Gone("The provided continue parameter is too old to display a consistent list result. You can "
                   "start a new list without the continue parameter.") from None
