"""Version conversion for kinds served in more than one version but stored once.

kube-apiserver stores a HorizontalPodAutoscaler as autoscaling/v2 and serves autoscaling/v1 by
converting on every read and write (kubectl ≤ 1.32's ``kubectl autoscale`` still posts v1).  v1
knows one metric: ``targetCPUUtilizationPercentage`` ↔ a v2 ``Resource`` metric for ``cpu`` with
an ``Utilization`` target.  What v1 cannot express (other metrics, ``behavior``, conditions) rides
in the ``autoscaling.alpha.kubernetes.io/*`` annotations, upstream's round-trip convention, so an
update through v1 keeps what a v2 client wrote.  Pure functions on JSON dicts.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
ANNOTATION = "autoscaling.alpha.kubernetes.io/"
METRICS, CURRENT, CONDITIONS, BEHAVIOR = (ANNOTATION + s for s in ("metrics", "current-metrics", "conditions",
                                                                   "behavior"))


def _is_cpu_utilization(m: Obj) -> bool:
    res = m.get("resource") or {}
    return m.get("type") == "Resource" and res.get("name") == "cpu" and \
        (res.get("target") or {}).get("type") == "Utilization"


def hpa_v2_to_v1(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v1"
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    spec = out.get("spec") or {}
    others = []
    for m in spec.pop("metrics", None) or []:
        if _is_cpu_utilization(m) and "targetCPUUtilizationPercentage" not in spec:
            spec["targetCPUUtilizationPercentage"] = m["resource"]["target"].get("averageUtilization")
        else:
            others.append(m)
    if others:
        annotations[METRICS] = json.dumps(others, separators=(",", ":"))
    if spec.get("behavior"):
        annotations[BEHAVIOR] = json.dumps(spec.pop("behavior"), separators=(",", ":"))
    spec.pop("behavior", None)
    status = out.get("status")
    if isinstance(status, dict):
        current_others = []
        for m in status.pop("currentMetrics", None) or []:
            cur = ((m.get("resource") or {}).get("current") or {})
            if m.get("type") == "Resource" and (m.get("resource") or {}).get("name") == "cpu" and \
                    "averageUtilization" in cur:
                status["currentCPUUtilizationPercentage"] = cur["averageUtilization"]
            else:
                current_others.append(m)
        if current_others:
            annotations[CURRENT] = json.dumps(current_others, separators=(",", ":"))
        if status.get("conditions"):
            annotations[CONDITIONS] = json.dumps(status.pop("conditions"), separators=(",", ":"))
        status.pop("conditions", None)
        status.setdefault("currentReplicas", 0)
    if annotations:
        meta["annotations"] = annotations
    return out


def hpa_v1_to_v2(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v2"
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    spec = out.get("spec")
    if isinstance(spec, dict):
        metrics = []
        target = spec.pop("targetCPUUtilizationPercentage", None)
        if target is not None:
            metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": target}}})
        metrics += _loads(annotations.pop(METRICS, None), [])
        if metrics:
            spec["metrics"] = metrics
        behavior = _loads(annotations.pop(BEHAVIOR, None), None)
        if behavior:
            spec["behavior"] = behavior
    status = out.get("status")
    current = _loads(annotations.pop(CURRENT, None), [])
    conditions = _loads(annotations.pop(CONDITIONS, None), [])
    if isinstance(status, dict):
        cpu = status.pop("currentCPUUtilizationPercentage", None)
        if cpu is not None:
            current.insert(0, {"type": "Resource", "resource": {"name": "cpu", "current": {
                "averageUtilization": cpu}}})
        if current:
            status["currentMetrics"] = current
        if conditions:
            status["conditions"] = conditions
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return out


def _loads(text: Any, default: Any) -> Any:
    if not isinstance(text, str):
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


#: (group, kind, from version, to version) → converter.
CONVERTERS: dict[tuple[str, str, str, str], Callable[[Obj], Obj]] = {
    ("autoscaling", "HorizontalPodAutoscaler", "v2", "v1"): hpa_v2_to_v1,
    ("autoscaling", "HorizontalPodAutoscaler", "v1", "v2"): hpa_v1_to_v2,
}


def convert(group: str, kind: str, obj: Obj, *, from_version: str, to_version: str) -> Obj:
    if from_version == to_version:
        return obj
    return CONVERTERS[(group, kind, from_version, to_version)](obj)
