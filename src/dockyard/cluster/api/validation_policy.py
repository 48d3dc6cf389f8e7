"""Validation of the scaling and policy kinds: HorizontalPodAutoscaler, PodDisruptionBudget,
PriorityClass and ResourceQuota — upstream's field paths and messages for what a user can get
wrong with ``kubectl autoscale``, ``create pdb``, ``create priorityclass`` and ``create quota``.

Kept apart from :mod:`.validation` (workloads and core objects) so each stays one screenful;
:mod:`.validation` merges :data:`VALIDATORS` into its table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from dockyard.cluster.api.errors import cause

Obj = dict[str, Any]
Causes = list[dict[str, str]]

#: Upstream's scheduling.HighestUserDefinablePriority and the classes it creates itself.
HIGHEST_USER_PRIORITY = 1_000_000_000
SYSTEM_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_PERCENT = re.compile(r"^[0-9]+%$")
QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
               "regex used for validation is '[0-9]+%')")


def _q(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def _hpa(obj: Obj) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    ref = spec.get("scaleTargetRef") or {}
    for f in ("kind", "name"):
        if not ref.get(f):
            causes.append(cause(f"spec.scaleTargetRef.{f}", "Required", ""))
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    if isinstance(low, int) and low < 1:
        causes.append(cause("spec.minReplicas", "Invalid", f"{low}: must be greater than or equal to 1"))
    if not isinstance(high, int) or high < 1:
        causes.append(cause("spec.maxReplicas", "Invalid", f"{_q(high or 0)}: must be greater than 0"))
    elif isinstance(low, int) and high < low:
        causes.append(cause("spec.maxReplicas", "Invalid",
                            f"{high}: must be greater than or equal to `minReplicas`"))
    for i, m in enumerate(spec.get("metrics") or []):
        target = ((m or {}).get("resource") or {}).get("target") or {}
        util = target.get("averageUtilization")
        if util is not None and (not isinstance(util, int) or util < 1):
            causes.append(cause(f"spec.metrics[{i}].resource.target.averageUtilization", "Invalid",
                                f"{util}: must be greater than 0"))
    return causes


def _int_or_percent(value: Any, path: str) -> Causes:
    if isinstance(value, int):
        return [] if value >= 0 else [cause(path, "Invalid", f"{value}: must be greater than or equal to 0")]
    if not isinstance(value, str) or not _PERCENT.match(value):
        return [cause(path, "Invalid", f"{_q(value)}: {PERCENT_MSG}")]
    if int(value[:-1]) > 100:
        return [cause(path, "Invalid", f"{_q(value)}: must not be greater than 100%")]
    return []


def _pdb(obj: Obj) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        causes.append(cause("spec", "Invalid", f"{json.dumps(spec, separators=(',', ':'))}: minAvailable and "
                            "maxUnavailable cannot be both set"))
    for f in ("minAvailable", "maxUnavailable"):
        if spec.get(f) is not None:
            causes += _int_or_percent(spec[f], f"spec.{f}")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("IfHealthyBudget", "AlwaysAllow"):
        causes.append(cause("spec.unhealthyPodEvictionPolicy", "NotSupported",
                            f'{_q(policy)}: supported values: "AlwaysAllow", "IfHealthyBudget"'))
    return causes


def _priority_class(obj: Obj) -> Causes:
    name = (obj.get("metadata") or {}).get("name") or ""
    value = obj.get("value")
    causes: Causes = []
    if not isinstance(value, int):
        causes.append(cause("value", "Required", ""))
    if name.startswith("system-"):
        if SYSTEM_CLASSES.get(name) != value:
            causes.append(cause("metadata.name", "Forbidden",
                                "priority class names with 'system-' prefix are reserved for system use only"))
    elif isinstance(value, int) and value > HIGHEST_USER_PRIORITY:
        causes.append(cause("value", "Forbidden",
                            f"maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"))
    policy = obj.get("preemptionPolicy")
    if policy not in (None, "PreemptLowerPriority", "Never"):
        causes.append(cause("preemptionPolicy", "NotSupported",
                            f'{_q(policy)}: supported values: "Never", "PreemptLowerPriority"'))
    return causes


def _resource_quota(obj: Obj) -> Causes:
    causes: Causes = []
    for name, value in ((obj.get("spec") or {}).get("hard") or {}).items():
        text = str(value)
        path = f"spec.hard[{name}]"
        if not _QUANTITY.match(text):
            causes.append(cause(path, "Invalid", f"{_q(text)}: {QUANTITY_MSG}"))
        elif text.startswith("-"):
            causes.append(cause(path, "Invalid", f"{_q(text)}: must be greater than or equal to 0"))
    for i, scope in enumerate((obj.get("spec") or {}).get("scopes") or []):
        if scope not in ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
                         "CrossNamespacePodAffinity", "VolumeAttributesClass"):
            causes.append(cause(f"spec.scopes[{i}]", "NotSupported", f"{_q(scope)}: unsupported scope"))
    return causes


VALIDATORS: dict[tuple[str, str], Callable[[Obj], Causes]] = {
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("policy", "PodDisruptionBudget"): _pdb,
    ("scheduling.k8s.io", "PriorityClass"): _priority_class,
    ("", "ResourceQuota"): _resource_quota,
}


def _priority_class_update(old: Obj, new: Obj) -> Causes:
    if old.get("value") != new.get("value"):
        return [cause("value", "Forbidden", "may not be changed in an update.")]
    return []


#: Rules that compare the stored object with its replacement (ValidateXUpdate upstream).
UPDATE_VALIDATORS: dict[tuple[str, str], Callable[[Obj, Obj], Causes]] = {
    ("scheduling.k8s.io", "PriorityClass"): _priority_class_update,
}


def validate_update(group: str, kind: str, old: Obj, new: Obj) -> Causes:
    fn = UPDATE_VALIDATORS.get((group, kind))
    return fn(old, new) if fn else []
