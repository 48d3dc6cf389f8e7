"""``metadata.managedFields`` entries: decoding, encoding, manager identity and housekeeping.

Upstream keys a manager by everything but its time and fields: name, operation, subresource, and —
for ``Update`` entries only — the apiVersion (an applier keeps one entry however it applies).
Entries are written sorted by operation (``Apply`` before ``Update``), then time, then name, with
keys in the order kubectl shows them.  At most ten ``Update`` managers are kept; older ones are
folded into one ``ancient-changes`` entry, as kube-apiserver does to bound object size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.cluster.api.patch import fieldpath
from dockyard.cluster.api.patch.fieldpath import FieldSet

MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"

#: Fields no manager ever owns: identity and bookkeeping the server sets (upstream's stripMeta set).
STRIPPED: frozenset[tuple[str, ...]] = frozenset(
    {
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata",),
        *(
            ("f:metadata", f"f:{name}")
            for name in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            )
        ),
    }
)


@dataclass(slots=True)
class Entry:
    """One field manager's ownership record."""

    manager: str
    operation: str
    api_version: str
    time: str | None
    fields: FieldSet = field(default_factory=set)
    subresource: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str]:
        version = self.api_version if self.operation == "Update" else ""
        return (self.manager, self.operation, version, self.subresource)

    def describe(self) -> str:
        """The manager as upstream prints it in conflicts: ``"kubectl" using apps/v1``."""
        text = f'"{self.manager}"'
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = fieldpath.to_fields_v1(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def decode(raw: Any) -> list[Entry] | None:
    """Entries from a ``managedFields`` list; None when it is absent or not a valid list."""
    if not isinstance(raw, list):
        return None
    entries: list[Entry] = []
    for item in raw:
        if not isinstance(item, dict) or item.get("fieldsType", "FieldsV1") != "FieldsV1":
            return None
        if item.get("operation") not in ("Apply", "Update"):
            return None
        fields = item.get("fieldsV1") or {}
        if not isinstance(fields, dict):
            return None
        entries.append(
            Entry(
                manager=str(item.get("manager", "")),
                operation=item["operation"],
                api_version=str(item.get("apiVersion", "")),
                time=item.get("time"),
                fields=fieldpath.from_fields_v1(fields),
                subresource=str(item.get("subresource", "")),
            )
        )
    return entries


def encode(entries: list[Entry]) -> list[dict[str, Any]]:
    """The ``managedFields`` list for entries, sorted as upstream, empty entries dropped."""
    kept = [e for e in entries if e.fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version))
    return [e.to_json() for e in kept]


def cap_update_managers(entries: list[Entry], now: str) -> list[Entry]:
    """Fold the oldest ``Update`` entries into ``ancient-changes`` beyond the upstream limit of ten."""
    updates = [e for e in entries if e.operation == "Update"]
    if len(updates) <= MAX_UPDATE_MANAGERS:
        return entries
    updates.sort(key=lambda e: e.time or "")
    folded = updates[: len(updates) - MAX_UPDATE_MANAGERS + 1]
    ancient = next((e for e in folded if e.manager == ANCIENT_CHANGES), None)
    fields: FieldSet = set()
    for entry in folded:
        fields |= entry.fields
    version = folded[-1].api_version
    merged = Entry(ANCIENT_CHANGES, "Update", version, ancient.time if ancient else now, fields)
    folded_ids = {id(e) for e in folded}
    return [e for e in entries if id(e) not in folded_ids] + [merged]
