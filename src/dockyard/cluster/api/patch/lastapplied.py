"""The bridge between client-side apply's annotation and server-side apply, for manager ``kubectl``.

``kubectl apply`` (client-side) records what it applied in the
``kubectl.kubernetes.io/last-applied-configuration`` annotation and its writes are owned by
``kubectl-client-side-apply``.  When a user switches to ``kubectl apply --server-side`` (manager
``kubectl``), kube-apiserver does two things so the switch is painless, and so do we:

* conflicts on fields that the annotation lists, with the value the live object still has, are
  not conflicts — the user is re-applying the same configuration through the other mechanism — so
  the apply proceeds as if forced; a field changed since (by ``kubectl patch``, ``edit``,
  ``scale``, a controller) is a real conflict with whoever changed it;
* after a server-side apply by ``kubectl`` the annotation, if present, is rewritten to the newly
  applied configuration, so a later client-side apply computes its three-way diff correctly.

Other managers opt out simply by having another name, as upstream documents.
"""

from __future__ import annotations

import json
from typing import Any

from dockyard.cluster.api.patch import typed
from dockyard.cluster.api.patch.errors import PatchError
from dockyard.cluster.api.patch.fieldpath import FieldSet
from dockyard.cluster.api.patch.schema import SchemaNode

ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
MANAGER = "kubectl"


def _annotation(obj: dict[str, Any] | None) -> str | None:
    value = ((obj or {}).get("metadata") or {}).get("annotations", {}).get(ANNOTATION)
    return value if isinstance(value, str) else None


def allowed_conflicts(live: dict[str, Any] | None, node: SchemaNode | None, api_version: str) -> FieldSet:
    """Fields the live object's last-applied annotation covers *with the value they still have*.

    A field the annotation lists but whose live value differs (or that is gone) was changed since
    by someone else — ``kubectl patch``, ``kubectl edit``, ``kubectl scale`` — so taking it over is a
    real conflict, exactly as upstream's lastAppliedManager decides.  Empty when the annotation is
    absent, unreadable or of another apiVersion than the one being applied.
    """
    text = _annotation(live)
    if not text:
        return set()
    try:
        last = json.loads(text)
        if not isinstance(last, dict) or last.get("apiVersion") != api_version:
            return set()
        covered = typed.to_field_set(last, node)
        changed = typed.compare(last, live, node)
    except (ValueError, PatchError):
        # A stale or malformed annotation simply allows nothing.
        return set()
    return covered - changed.modified - changed.added - changed.removed


def encode_last_applied(applied: dict[str, Any]) -> str:
    """The annotation value for ``applied`` as Go's JSON encoder writes it: sorted keys, newline."""
    obj = json.loads(json.dumps(applied))
    meta = obj.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        meta["annotations"].pop(ANNOTATION, None)
        if not meta["annotations"]:
            del meta["annotations"]
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # encoding/json escapes these for safe embedding in HTML.
    for char, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text + "\n"


def sync_annotation(result: dict[str, Any], applied: dict[str, Any], manager: str) -> None:
    """After an apply by ``kubectl``, refresh an existing last-applied annotation in place."""
    if manager != MANAGER or _annotation(result) is None:
        return
    result["metadata"]["annotations"][ANNOTATION] = encode_last_applied(applied)
