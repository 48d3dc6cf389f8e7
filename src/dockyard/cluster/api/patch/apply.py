"""Server-side apply and managed-fields tracking for ordinary writes, as kube-apiserver does them.

Every write records who set which field in ``metadata.managedFields``:

* :func:`update_managed_fields` — a create, update or non-apply patch by ``manager``: the fields the
  write added or changed become the manager's (taken from whoever owned them), fields it removed
  are released by everyone.  Nothing changed → no new entry and no new time.  Call it with the
  object *after* defaulting, as upstream does, so the writer owns the defaults its write produced.
* :func:`server_side_apply` — an apply: the configuration is merged onto the live object (maps by
  key, associative lists by their keys, sets by value, atomic fields replaced); fields the manager
  applied last time but omits now are removed unless another manager owns them; a change to a
  field another manager owns is a conflict (409) unless ``force``, which moves ownership.  The
  manager then owns exactly the fields of its configuration.

Like upstream, status is not tracked on the main resource and only status on the ``status``
subresource (pass ``reset_fields`` to change that, e.g. for a custom resource without a status
subresource), and an object that has no managed fields yet is first attributed to a
``before-first-apply`` manager so an apply cannot silently take over fields set earlier.  The
client-side → server-side apply hand-over for manager ``kubectl`` lives in :mod:`.lastapplied`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dockyard.cluster.api.patch import fieldpath, lastapplied, schema, typed
from dockyard.cluster.api.patch.errors import ApplyConflict, PatchError
from dockyard.cluster.api.patch.fieldpath import FieldSet
from dockyard.cluster.api.patch.jsonvalue import deep_copy, json_equal
from dockyard.cluster.api.patch.managed import STRIPPED, Entry, cap_update_managers, decode, encode
from dockyard.cluster.api.patch.schema import SchemaNode

BEFORE_FIRST_APPLY = "before-first-apply"

#: Containers that exist (empty) in a freshly constructed Go object of the served kinds: the
#: "old" side of a create is that zero object upstream, so these never show up as added (no
#: ``".": {}`` under ``f:spec`` in kubectl's output) while maps such as labels do.
_ZERO_OBJECT_PATHS: tuple[tuple[str, ...], ...] = (
    ("metadata",),
    ("spec",),
    ("status",),
    ("spec", "template"),
    ("spec", "template", "metadata"),
    ("spec", "template", "spec"),
    ("spec", "strategy"),
    ("spec", "updateStrategy"),
    ("spec", "jobTemplate"),
    ("spec", "jobTemplate", "spec"),
    ("spec", "jobTemplate", "spec", "template"),
    ("spec", "jobTemplate", "spec", "template", "metadata"),
    ("spec", "jobTemplate", "spec", "template", "spec"),
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _api_version(gvk: tuple[str, str, str]) -> str:
    group, version, _ = gvk
    return f"{group}/{version}" if group else version


def gvk_of(obj: dict[str, Any]) -> tuple[str, str, str]:
    """``(group, version, kind)`` from an object's apiVersion and kind."""
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    return (group, version, str(obj.get("kind", "")))


def default_reset_fields(subresource: str | None) -> FieldSet:
    """Fields a write through ``subresource`` never owns (upstream strategies' ResetFields)."""
    if subresource == "status":
        # Status strategies reset the spec (and, e.g. for Deployments, labels) on status writes.
        return {("f:spec",), ("f:metadata", "f:labels")}
    return {("f:status",)}


def zero_object(like: dict[str, Any]) -> dict[str, Any]:
    """The empty object a create is compared against: the zero-value containers ``like`` also has."""
    out: dict[str, Any] = {}
    for path in _ZERO_OBJECT_PATHS:
        source: Any = like
        target = out
        for name in path:
            source = source.get(name) if isinstance(source, dict) else None
            if not isinstance(source, dict):
                break
            target = target.setdefault(name, {})
        else:
            # PodSpec.containers has no omitempty: the zero pod spec holds "containers": null.
            if path[-1] == "spec" and isinstance(source.get("containers"), list):
                target["containers"] = []
    return out


def _without_managed(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    copy = deep_copy(obj)
    meta = copy.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return copy


def _owned(paths: FieldSet, reset: FieldSet) -> FieldSet:
    return fieldpath.without_prefixed(paths - STRIPPED, reset)


def _with_managed(obj: dict[str, Any], entries: list[Entry]) -> dict[str, Any]:
    encoded = encode(entries)
    meta = obj.setdefault("metadata", {})
    if encoded:
        meta["managedFields"] = encoded
    else:
        meta.pop("managedFields", None)
    return obj


def _record_update(
    old: dict[str, Any],
    new: dict[str, Any],
    entries: list[Entry],
    me: Entry,
    node: SchemaNode | None,
    reset: FieldSet,
) -> list[Entry]:
    """Upstream's Update: the writer takes what changed; everyone releases what was removed."""
    cmp = typed.compare(old, new, node)
    changed = _owned(cmp.modified | cmp.added, reset)
    removed = cmp.removed
    for entry in entries:
        entry.fields -= changed | removed
    if not changed:
        return [e for e in entries if e.fields]
    existing = next((e for e in entries if e.identity == me.identity), None)
    if existing is None:
        me.fields = changed
        entries.append(me)
    else:
        existing.fields |= changed
        existing.time = me.time
    return [e for e in entries if e.fields]


def update_managed_fields(
    old: dict | None,
    new: dict,
    *,
    manager: str,
    operation: str = "Update",
    gvk: tuple[str, str, str] | None = None,
    subresource: str | None = None,
    now: str | None = None,
    schema_node: SchemaNode | None = None,
    reset_fields: FieldSet | None = None,
) -> dict:
    """``new`` with ``metadata.managedFields`` updated for a non-apply write by ``manager``.

    ``old`` is the live object (None for a create).  If ``new`` carries managed fields of its own
    they are used (``[]`` resets them, as upstream); otherwise the live object's are kept.
    ``gvk`` defaults to the one ``new``'s apiVersion and kind name.
    """
    gvk = gvk or gvk_of(new)
    node = schema_node or schema.schema_for(gvk)
    reset = default_reset_fields(subresource) if reset_fields is None else reset_fields
    requested = (new.get("metadata") or {}).get("managedFields")
    entries = decode(requested) if requested is not None else None
    if entries is None or (not entries and requested != []):
        entries = decode((old or {}).get("metadata", {}).get("managedFields")) or []
    new_obj = _without_managed(new) or {}
    old_obj = _without_managed(old) if old is not None else zero_object(new_obj)
    me = Entry(manager, operation, _api_version(gvk), now or _now(), subresource=subresource or "")
    try:
        entries = _record_update(old_obj or {}, new_obj, entries, me, node, reset)
    except PatchError:
        # Upstream's UpdateNoErrors: a write never fails over bookkeeping; managed fields are reset.
        return new_obj
    entries = cap_update_managers(entries, me.time or _now())
    return _with_managed(new_obj, entries)


def server_side_apply(
    live: dict | None,
    applied: dict,
    *,
    manager: str,
    force: bool,
    gvk: tuple[str, str, str],
    subresource: str | None = None,
    now: str | None = None,
    schema_node: SchemaNode | None = None,
    reset_fields: FieldSet | None = None,
) -> dict:
    """The object after ``manager`` applies ``applied`` to ``live`` (None: the apply creates it)."""
    node = schema_node or schema.schema_for(gvk)
    reset = default_reset_fields(subresource) if reset_fields is None else reset_fields
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise PatchError("metadata.managedFields must be nil", status=400)
    stamp = now or _now()
    api_version = _api_version(gvk)
    live_obj = _without_managed(live) or {}
    entries = decode((live or {}).get("metadata", {}).get("managedFields")) or []
    if live is not None and not entries:
        first = Entry(BEFORE_FIRST_APPLY, "Update", api_version, stamp)
        entries = _record_update(zero_object(live_obj), live_obj, [], first, node, reset)
    me = Entry(manager, "Apply", api_version, stamp, subresource=subresource or "")
    previous = next((e for e in entries if e.identity == me.identity), None)
    others = [e for e in entries if e.identity != me.identity]
    config_set = _owned(typed.to_field_set(applied, node), reset)
    new_obj = typed.merge(live_obj, applied, node)
    if previous is not None:
        new_obj = typed.remove_paths(new_obj, _released(previous.fields, config_set, others), node)
    cmp = typed.compare(live_obj, new_obj, node)
    changed = fieldpath.without_prefixed(cmp.modified | cmp.added, reset)
    conflicts = [(entry, entry.fields & changed) for entry in others if entry.fields & changed]
    if conflicts and not force and manager == lastapplied.MANAGER:
        # Switching from client-side to server-side apply: what the annotation covers may be taken.
        allowed = lastapplied.allowed_conflicts(live_obj, node, api_version)
        conflicts = [(entry, paths - allowed) for entry, paths in conflicts if paths - allowed]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for entry in others:
        entry.fields -= changed | cmp.removed
    me.fields = config_set
    if previous is not None and json_equal(live_obj, new_obj):
        me.time = previous.time
    entries = [e for e in others if e.fields] + [me]
    result = _with_managed(new_obj, entries)
    lastapplied.sync_annotation(result, applied, manager)
    return result


def _released(last: FieldSet, config: FieldSet, others: list[Entry]) -> FieldSet:
    """Fields applied last time and not now that no manager owns (nor owns anything under)."""
    owned = set(config)
    for entry in others:
        owned |= entry.fields
    candidates = last - owned
    return {
        path for path in candidates if not any(len(o) > len(path) and o[: len(path)] == path for o in owned)
    }


def _conflict_error(conflicts: list[tuple[Entry, FieldSet]]) -> ApplyConflict:
    pairs: list[tuple[Entry, str]] = []
    for entry, paths in sorted(conflicts, key=lambda c: c[0].describe()):
        pairs.extend((entry, fieldpath.path_string(p)) for p in fieldpath.ordered(paths))
    if len(pairs) == 1:
        entry, path = pairs[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.describe()}: {path}"
    else:
        lines: list[str] = []
        for entry, paths in sorted(conflicts, key=lambda c: c[0].describe()):
            lines.append(f"conflicts with {entry.describe()}:")
            lines.extend(f"- {fieldpath.path_string(p)}" for p in fieldpath.ordered(paths))
        message = f"Apply failed with {len(pairs)} conflicts: " + "\n".join(lines)
    causes = [
        {"type": "FieldManagerConflict", "message": f"conflict with {entry.describe()}", "field": path}
        for entry, path in pairs
    ]
    return ApplyConflict(message, [(entry.manager, path) for entry, path in pairs], causes=causes)
