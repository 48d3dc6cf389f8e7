"""Label and field selectors, parsed as the real server parses them and matched against objects.

Label selectors accept every operator of the query syntax (``=``, ``==``, ``!=``, ``in``,
``notin``, ``key``, ``!key``, and ``<``/``>`` on integers).  Field selectors accept ``=``, ``==``
and ``!=`` on ``metadata.name``, ``metadata.namespace`` and the per-kind fields in
:data:`FIELDS` — the ones kubectl and controllers use; anything else is a 400 as upstream.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dockyard.base.errors import InvalidArgument

Requirement = tuple[str, str, tuple[str, ...]]  # key, operator, values

_KEY = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_KEY_RE = re.compile(f"^{_KEY}$")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside ``( … )``."""
    terms, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    return [t.strip() for t in terms if t.strip()]


def parse_label_selector(text: str) -> list[Requirement]:
    reqs: list[Requirement] = []
    for term in _split_terms(text or ""):
        reqs.append(_parse_term(term, text))
    return reqs


def _parse_term(term: str, whole: str) -> Requirement:
    m = re.match(r"^(\S+)\s+(in|notin)\s*\((.*)\)$", term)
    if m:
        values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
        return _checked(m.group(1), m.group(2), values, whole)
    for op in ("==", "!=", "=", "<", ">"):
        if op in term:
            key, _, value = term.partition(op)
            return _checked(key.strip(), {"==": "="}.get(op, op), (value.strip(),), whole)
    if term.startswith("!"):
        return _checked(term[1:].strip(), "!", (), whole)
    return _checked(term, "exists", (), whole)


def _checked(key: str, op: str, values: tuple[str, ...], whole: str) -> Requirement:
    if not _KEY_RE.match(key) or len(key.split("/")[-1]) > 63:
        raise InvalidArgument(f'unable to parse requirement: found \'{key}\', expected: identifier in "{whole}"')
    for v in values:
        if len(v) > 63 or not _VALUE.match(v):
            raise InvalidArgument(f"unable to parse requirement: invalid label value: \"{v}\" in \"{whole}\"")
        if op in ("<", ">") and not v.lstrip("-").isdigit():
            raise InvalidArgument(f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in \"{whole}\"")
    return key, op, values


def labels_match(reqs: list[Requirement], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        value = labels.get(key)
        first = values[0] if values else ""
        if op == "=":
            ok = present and value == first
        elif op == "!=":
            ok = not present or value != first
        elif op in ("in", "notin"):
            ok = (present and value in values) if op == "in" else (not present or value not in values)
        elif op in ("exists", "!"):
            ok = present if op == "exists" else not present
        else:  # < and >, integers only
            try:
                ok = present and (int(value) < int(first) if op == "<" else int(value) > int(first))
            except (TypeError, ValueError):
                ok = False
        if not ok:
            return False
    return True


def selector_from_label_selector(sel: dict[str, Any] | None) -> list[Requirement]:
    """A ``LabelSelector`` object (matchLabels/matchExpressions) as requirements."""
    if not sel:
        return []
    reqs: list[Requirement] = [(k, "=", (v,)) for k, v in (sel.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for e in sel.get("matchExpressions") or []:
        reqs.append((e["key"], ops.get(e.get("operator", ""), "in"), tuple(e.get("values") or ())))
    return reqs


def _path(*parts: str) -> Callable[[dict[str, Any]], str]:
    def get(obj: dict[str, Any]) -> str:
        cur: Any = obj
        for p in parts:
            cur = cur.get(p) if isinstance(cur, dict) else None
        return "" if cur is None else str(cur)

    return get


_COMMON = {"metadata.name": _path("metadata", "name"), "metadata.namespace": _path("metadata", "namespace")}
_INVOLVED = {f"involvedObject.{f}": _path("involvedObject", f)
             for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}
FIELDS: dict[str, dict[str, Callable[[dict[str, Any]], str]]] = {
    "Pod": {"spec.nodeName": _path("spec", "nodeName"), "spec.restartPolicy": _path("spec", "restartPolicy"),
            "spec.schedulerName": _path("spec", "schedulerName"),
            "spec.serviceAccountName": _path("spec", "serviceAccountName"),
            "status.phase": _path("status", "phase"), "status.podIP": _path("status", "podIP"),
            "status.nominatedNodeName": _path("status", "nominatedNodeName")},
    "Event": {**_INVOLVED, "reason": _path("reason"), "source": _path("source", "component"),
              "type": _path("type"), "reportingComponent": _path("reportingComponent")},
    "Secret": {"type": _path("type")},
    "Node": {"spec.unschedulable": _path("spec", "unschedulable")},
    "Namespace": {"status.phase": _path("status", "phase")},
    "ReplicaSet": {"status.replicas": _path("status", "replicas")},
    "Job": {"status.successful": _path("status", "succeeded")},
}

FieldRequirement = tuple[Callable[[dict[str, Any]], str], bool, str]  # getter, equal?, value


def parse_field_selector(text: str, kind: str) -> list[FieldRequirement]:
    allowed = {**_COMMON, **FIELDS.get(kind, {})}
    out: list[FieldRequirement] = []
    for term in _split_terms(text or ""):
        for op in ("!=", "==", "="):
            if op in term:
                field, _, value = term.partition(op)
                break
        else:
            raise InvalidArgument(f"invalid selector: '{text}'; can't understand '{term}'")
        getter = allowed.get(field.strip())
        if getter is None:
            raise InvalidArgument(f'field label not supported: {field.strip()}')
        out.append((getter, op != "!=", value.strip()))
    return out


def fields_match(reqs: list[FieldRequirement], obj: dict[str, Any]) -> bool:
    return all((getter(obj) == value) == equal for getter, equal, value in reqs)
