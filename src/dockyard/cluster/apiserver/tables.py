"""Table responses (``Accept: …;as=Table;g=meta.k8s.io;v=v1``): the columns ``kubectl get`` prints.

Columns per kind follow kube-apiserver's printers (pkg/printers/internalversion); priority-1
columns are the extra ones of ``-o wide``.  Custom resources get Name, their CRD's
``additionalPrinterColumns`` and Age.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dockyard.base.clock import parse_rfc3339
from dockyard.cluster.api import conversion
from dockyard.cluster.api.kinds import Kind

Obj = dict[str, Any]
Cell = Callable[[Obj, float], Any]
Column = tuple[str, str, int, Cell]  # name, type, priority, cell


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    return f"{h // (24 * 365)}y{(h // 24) % 365}d"


def _g(obj: Any, *path: str | int) -> Any:
    for p in path:
        if isinstance(p, int):
            obj = obj[p] if isinstance(obj, list) and len(obj) > p else None
        else:
            obj = obj.get(p) if isinstance(obj, dict) else None
    return obj


def _age(obj: Obj, now: float) -> str:
    ts = _g(obj, "metadata", "creationTimestamp")
    return human_duration(now - parse_rfc3339(ts)) if ts else "<unknown>"


def _since(ts: str | None, now: float) -> str:
    return human_duration(now - parse_rfc3339(ts)) if ts else "<unknown>"


def _name(obj: Obj, now: float) -> str:
    return obj["metadata"].get("name", "")


def _n(*path: str) -> Cell:
    return lambda o, now: int(_g(o, *path) or 0)


def _containers(o: Obj) -> list[Obj]:
    return _g(o, "spec", "template", "spec", "containers") or _g(o, "spec", "jobTemplate", "spec", "template",
                                                                     "spec", "containers") or []


def _selector(o: Obj, now: float) -> str:
    sel = _g(o, "spec", "selector") or {}
    if "matchLabels" in sel or "matchExpressions" in sel:
        parts = [f"{k}={v}" for k, v in (sel.get("matchLabels") or {}).items()]
        for e in sel.get("matchExpressions") or []:
            op = e.get("operator", "")
            vals = ",".join(e.get("values") or [])
            parts.append({"In": f"{e['key']} in ({vals})", "NotIn": f"{e['key']} notin ({vals})",
                          "Exists": e["key"], "DoesNotExist": f"!{e['key']}"}.get(op, e["key"]))
        return ",".join(parts) or "<none>"
    return ",".join(f"{k}={v}" for k, v in sel.items()) or "<none>"


_WIDE_WORKLOAD: list[Column] = [
    ("Containers", "string", 1, lambda o, n: ",".join(c.get("name", "") for c in _containers(o))),
    ("Images", "string", 1, lambda o, n: ",".join(c.get("image", "") for c in _containers(o))),
    ("Selector", "string", 1, _selector),
]


def _pod_ready(o: Obj, now: float) -> str:
    statuses = _g(o, "status", "containerStatuses") or []
    total = len(_g(o, "spec", "containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(o: Obj, now: float) -> str:
    reason = _g(o, "status", "reason") or _g(o, "status", "phase") or "Unknown"
    for s in _g(o, "status", "containerStatuses") or []:
        waiting = _g(s, "state", "waiting", "reason")
        terminated = _g(s, "state", "terminated", "reason")
        if waiting or terminated:
            reason = waiting or terminated
    if _g(o, "metadata", "deletionTimestamp"):
        reason = "Terminating"
    return reason


def _svc_ports(o: Obj, now: float) -> str:
    out = []
    for p in _g(o, "spec", "ports") or []:
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        out.append(f"{p.get('port')}{node}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _svc_external(o: Obj, now: float) -> str:
    spec = o.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return spec.get("externalName", "<none>")
    ips = list(spec.get("externalIPs") or [])
    ips += [i.get("ip") or i.get("hostname") for i in _g(o, "status", "loadBalancer", "ingress") or []]
    if not ips and spec.get("type") == "LoadBalancer":
        return "<pending>"
    return ",".join(ips) or "<none>"


def _ep(o: Obj, now: float) -> str:
    eps = [f"{a.get('ip')}:{p.get('port')}" for s in o.get("subsets") or [] for a in s.get("addresses") or []
           for p in s.get("ports") or [{}]]
    return ",".join(eps[:3]) + (f" + {len(eps) - 3} more..." if len(eps) > 3 else "") if eps else "<none>"


def _node_status(o: Obj, now: float) -> str:
    ready = [c for c in _g(o, "status", "conditions") or [] if c.get("type") == "Ready"]
    status = "Ready" if ready and ready[0].get("status") == "True" else "NotReady" if ready else "Unknown"
    return status + (",SchedulingDisabled" if _g(o, "spec", "unschedulable") else "")


def _roles(o: Obj, now: float) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix):] for k in (_g(o, "metadata", "labels") or {}) if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _job_status(o: Obj, now: float) -> str:
    for c in _g(o, "status", "conditions") or []:
        if c.get("status") == "True" and c.get("type") in ("Complete", "Failed", "Suspended", "FailureTarget"):
            return {"FailureTarget": "FailureTarget"}.get(c["type"], c["type"])
    return "Running"


def _job_duration(o: Obj, now: float) -> str:
    start = _g(o, "status", "startTime")
    if not start:
        return ""
    end = _g(o, "status", "completionTime")
    return human_duration((parse_rfc3339(end) if end else now) - parse_rfc3339(start))


def _hpa_targets(o: Obj, now: float) -> str:
    if o.get("apiVersion") == "autoscaling/v1":  # upstream prints from the internal (v2-shaped) object
        o = conversion.hpa_v1_to_v2(o)
    out = []
    current = _g(o, "status", "currentMetrics") or []
    for i, m in enumerate(_g(o, "spec", "metrics") or []):
        if m.get("type") == "Resource":
            target = _g(m, "resource", "target") or {}
            cur = _g(current, i, "resource", "current", "averageUtilization")
            want = target.get("averageUtilization")
            if want is not None:
                out.append(f"{m['resource']['name']}: {'<unknown>' if cur is None else str(cur) + '%'}/{want}%")
            else:
                out.append(f"{m['resource']['name']}: <unknown>/{target.get('averageValue', '')}")
    return ", ".join(out) or "<none>"


_AGE: Column = ("Age", "string", 0, _age)
NAME: Column = ("Name", "string", 0, _name)

COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "Pod"): [NAME, ("Ready", "string", 0, _pod_ready), ("Status", "string", 0, _pod_status),
                  ("Restarts", "string", 0, lambda o, n: str(sum(int(s.get("restartCount", 0)) for s in
                                                                   _g(o, "status", "containerStatuses") or []))),
                  _AGE, ("IP", "string", 1, lambda o, n: _g(o, "status", "podIP") or "<none>"),
                  ("Node", "string", 1, lambda o, n: _g(o, "spec", "nodeName") or "<none>"),
                  ("Nominated Node", "string", 1, lambda o, n: _g(o, "status", "nominatedNodeName") or "<none>"),
                  ("Readiness Gates", "string", 1, lambda o, n: "<none>")],
    ("", "Namespace"): [NAME, ("Status", "string", 0, lambda o, n: _g(o, "status", "phase") or ""), _AGE],
    ("", "Service"): [NAME, ("Type", "string", 0, lambda o, n: _g(o, "spec", "type") or ""),
                      ("Cluster-IP", "string", 0, lambda o, n: _g(o, "spec", "clusterIP") or "<none>"),
                      ("External-IP", "string", 0, _svc_external), ("Port(s)", "string", 0, _svc_ports), _AGE,
                      ("Selector", "string", 1, lambda o, n: ",".join(
                          f"{k}={v}" for k, v in sorted((_g(o, "spec", "selector") or {}).items())) or "<none>")],
    ("", "Endpoints"): [NAME, ("Endpoints", "string", 0, _ep), _AGE],
    ("", "ConfigMap"): [NAME, ("Data", "integer", 0, lambda o, n: len(o.get("data") or {}) +
                               len(o.get("binaryData") or {})), _AGE],
    ("", "Secret"): [NAME, ("Type", "string", 0, lambda o, n: o.get("type", "")),
                     ("Data", "integer", 0, lambda o, n: len(o.get("data") or {})), _AGE],
    ("", "ServiceAccount"): [NAME, ("Secrets", "integer", 0, lambda o, n: len(o.get("secrets") or [])), _AGE],
    ("", "Event"): [("Last Seen", "string", 0, lambda o, n: _since(o.get("lastTimestamp") or o.get("eventTime")
                                                                  or _g(o, "metadata", "creationTimestamp"), n)),
                    ("Type", "string", 0, lambda o, n: o.get("type", "")),
                    ("Reason", "string", 0, lambda o, n: o.get("reason", "")),
                    ("Object", "string", 0, lambda o, n: f"{str(_g(o, 'involvedObject', 'kind') or '').lower()}/"
                                                          f"{_g(o, 'involvedObject', 'name') or ''}"),
                    ("Message", "string", 0, lambda o, n: str(o.get("message", "")).strip())],
    ("", "Node"): [NAME, ("Status", "string", 0, _node_status), ("Roles", "string", 0, _roles), _AGE,
                   ("Version", "string", 0, lambda o, n: _g(o, "status", "nodeInfo", "kubeletVersion") or ""),
                   ("Internal-IP", "string", 1, lambda o, n: next((a["address"] for a in _g(o, "status", "addresses")
                                                                  or [] if a.get("type") == "InternalIP"), "<none>"))],
    ("", "PersistentVolumeClaim"): [
        NAME, ("Status", "string", 0, lambda o, n: _g(o, "status", "phase") or ""),
        ("Volume", "string", 0, lambda o, n: _g(o, "spec", "volumeName") or ""),
        ("Capacity", "string", 0, lambda o, n: _g(o, "status", "capacity", "storage") or ""),
        ("Access Modes", "string", 0, lambda o, n: ",".join(
            {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
            .get(m, m) for m in _g(o, "status", "accessModes") or [])),
        ("StorageClass", "string", 0, lambda o, n: _g(o, "spec", "storageClassName") or "<unset>"),
        ("VolumeAttributesClass", "string", 0, lambda o, n: _g(o, "spec", "volumeAttributesClassName") or "<unset>"),
        _AGE, ("VolumeMode", "string", 1, lambda o, n: _g(o, "spec", "volumeMode") or "")],
    ("apps", "Deployment"): [
        NAME, ("Ready", "string", 0, lambda o, n: f"{_g(o, 'status', 'readyReplicas') or 0}/{_g(o, 'spec', 'replicas') or 0}"),
        ("Up-to-date", "integer", 0, _n("status", "updatedReplicas")),
        ("Available", "integer", 0, _n("status", "availableReplicas")), _AGE, *_WIDE_WORKLOAD],
    ("", "ReplicationController"): [NAME, ("Desired", "integer", 0, _n("spec", "replicas")),
                                    ("Current", "integer", 0, _n("status", "replicas")),
                                    ("Ready", "integer", 0, _n("status", "readyReplicas")), _AGE, *_WIDE_WORKLOAD],
    ("apps", "ReplicaSet"): [NAME, ("Desired", "integer", 0, _n("spec", "replicas")),
                             ("Current", "integer", 0, _n("status", "replicas")),
                             ("Ready", "integer", 0, _n("status", "readyReplicas")), _AGE, *_WIDE_WORKLOAD],
    ("apps", "StatefulSet"): [
        NAME, ("Ready", "string", 0, lambda o, n: f"{_g(o, 'status', 'readyReplicas') or 0}/{_g(o, 'spec', 'replicas') or 0}"),
        _AGE, *_WIDE_WORKLOAD[:2]],
    ("apps", "DaemonSet"): [
        NAME, ("Desired", "integer", 0, _n("status", "desiredNumberScheduled")),
        ("Current", "integer", 0, _n("status", "currentNumberScheduled")),
        ("Ready", "integer", 0, _n("status", "numberReady")),
        ("Up-to-date", "integer", 0, _n("status", "updatedNumberScheduled")),
        ("Available", "integer", 0, _n("status", "numberAvailable")),
        ("Node Selector", "string", 0, lambda o, n: ",".join(f"{k}={v}" for k, v in (
            _g(o, "spec", "template", "spec", "nodeSelector") or {}).items()) or "<none>"), _AGE, *_WIDE_WORKLOAD],
    ("batch", "Job"): [NAME, ("Status", "string", 0, _job_status),
                       ("Completions", "string", 0, lambda o, n: f"{_g(o, 'status', 'succeeded') or 0}/"
                                                                 f"{_g(o, 'spec', 'completions') or 1}"),
                       ("Duration", "string", 0, _job_duration), _AGE, *_WIDE_WORKLOAD],
    ("batch", "CronJob"): [NAME, ("Schedule", "string", 0, lambda o, n: _g(o, "spec", "schedule") or ""),
                           ("Timezone", "string", 0, lambda o, n: _g(o, "spec", "timeZone") or "<none>"),
                           ("Suspend", "boolean", 0, lambda o, n: "True" if _g(o, "spec", "suspend") else "False"),
                           ("Active", "integer", 0, lambda o, n: len(_g(o, "status", "active") or [])),
                           ("Last Schedule", "string", 0, lambda o, n: _since(_g(o, "status", "lastScheduleTime"), n)
                            if _g(o, "status", "lastScheduleTime") else "<none>"), _AGE, *_WIDE_WORKLOAD],
    ("autoscaling", "HorizontalPodAutoscaler"): [
        NAME, ("Reference", "string", 0, lambda o, n: f"{_g(o, 'spec', 'scaleTargetRef', 'kind')}/"
                                                      f"{_g(o, 'spec', 'scaleTargetRef', 'name')}"),
        ("Targets", "string", 0, _hpa_targets), ("MinPods", "string", 0, lambda o, n: str(_g(o, "spec", "minReplicas") or 1)),
        ("MaxPods", "integer", 0, _n("spec", "maxReplicas")), ("Replicas", "integer", 0, _n("status", "currentReplicas")),
        _AGE],
    ("networking.k8s.io", "Ingress"): [
        NAME, ("Class", "string", 0, lambda o, n: _g(o, "spec", "ingressClassName") or "<none>"),
        ("Hosts", "string", 0, lambda o, n: ",".join(r.get("host", "*") for r in _g(o, "spec", "rules") or []) or "*"),
        ("Address", "string", 0, lambda o, n: ",".join(i.get("ip") or i.get("hostname", "") for i in
                                                        _g(o, "status", "loadBalancer", "ingress") or [])),
        ("Ports", "string", 0, lambda o, n: "80, 443" if _g(o, "spec", "tls") else "80"), _AGE],
    ("discovery.k8s.io", "EndpointSlice"): [
        NAME, ("AddressType", "string", 0, lambda o, n: o.get("addressType", "")),
        ("Ports", "string", 0, lambda o, n: ",".join(str(p.get("port")) for p in o.get("ports") or []) or "<unset>"),
        ("Endpoints", "string", 0, lambda o, n: ",".join(a for e in o.get("endpoints") or []
                                                         for a in e.get("addresses") or []) or "<unset>"), _AGE],
    ("coordination.k8s.io", "Lease"): [NAME, ("Holder", "string", 0, lambda o, n: _g(o, "spec", "holderIdentity") or ""), _AGE],
    ("apiextensions.k8s.io", "CustomResourceDefinition"): [
        NAME, ("Created At", "date", 0, lambda o, n: _g(o, "metadata", "creationTimestamp"))],
    ("rbac.authorization.k8s.io", "Role"): [NAME, ("Created At", "string", 0, lambda o, n: _g(o, "metadata", "creationTimestamp"))],
    ("rbac.authorization.k8s.io", "ClusterRole"): [NAME, ("Created At", "string", 0, lambda o, n: _g(o, "metadata", "creationTimestamp"))],
    ("rbac.authorization.k8s.io", "RoleBinding"): [NAME, ("Role", "string", 0, lambda o, n: f"{_g(o, 'roleRef', 'kind')}/{_g(o, 'roleRef', 'name')}"), _AGE],
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): [NAME, ("Role", "string", 0, lambda o, n: f"{_g(o, 'roleRef', 'kind')}/{_g(o, 'roleRef', 'name')}"), _AGE],
}


def _quota(prefix_limits: bool) -> Cell:
    """``pods: 0/10, requests.cpu: 0/1`` — used/hard per resource, limits.* in their own column."""
    def cell(o: Obj, now: float) -> str:
        hard, used = _g(o, "status", "hard") or {}, _g(o, "status", "used") or {}
        return ", ".join(f"{r}: {used.get(r, '0')}/{hard[r]}" for r in sorted(hard)
                         if r.startswith("limits.") == prefix_limits)
    return cell


def _int_or_na(*path: str) -> Cell:
    return lambda o, n: str(_g(o, *path)) if _g(o, *path) is not None else "N/A"


COLUMNS.update({
    # events.k8s.io/v1 is printed from the same internal Event upstream: its fields renamed.
    ("events.k8s.io", "Event"): [
        ("Last Seen", "string", 0, lambda o, n: _since(o.get("deprecatedLastTimestamp") or o.get("eventTime")
                                                       or _g(o, "metadata", "creationTimestamp"), n)),
        ("Type", "string", 0, lambda o, n: o.get("type", "")),
        ("Reason", "string", 0, lambda o, n: o.get("reason", "")),
        ("Object", "string", 0, lambda o, n: f"{str(_g(o, 'regarding', 'kind') or '').lower()}/"
                                              f"{_g(o, 'regarding', 'name') or ''}"),
        ("Message", "string", 0, lambda o, n: str(o.get("note", "")).strip())],
    ("", "ResourceQuota"): [NAME, _AGE, ("Request", "string", 0, _quota(False)),
                            ("Limit", "string", 0, _quota(True))],
    ("scheduling.k8s.io", "PriorityClass"): [
        NAME, ("Value", "integer", 0, _n("value")),
        ("Global-Default", "boolean", 0, lambda o, n: bool(o.get("globalDefault"))), _AGE,
        ("PreemptionPolicy", "string", 0, lambda o, n: o.get("preemptionPolicy") or "")],
    ("policy", "PodDisruptionBudget"): [
        NAME, ("Min Available", "string", 0, _int_or_na("spec", "minAvailable")),
        ("Max Unavailable", "string", 0, _int_or_na("spec", "maxUnavailable")),
        ("Allowed Disruptions", "integer", 0, _n("status", "disruptionsAllowed")), _AGE],
})


def _jsonpath(path: str) -> Cell:
    parts = [p for p in path.strip().lstrip(".").split(".") if p]

    def get(o: Obj, now: float) -> Any:
        return _g(o, *parts)

    return get


def columns_for(kind: Kind) -> list[Column]:
    if kind.crd:
        extra: list[Column] = []
        for c in kind.printer_columns:
            extra.append((c["name"], c.get("type", "string"), int(c.get("priority", 0)), _jsonpath(c["jsonPath"])))
        return [NAME, *extra, _AGE] if not any(c[0] == "Age" for c in extra) else [NAME, *extra]
    return COLUMNS.get((kind.group, kind.kind), [NAME, _AGE])


def to_table(kind: Kind, objects: list[Obj], *, now: float, include_object: str = "PartialObjectMetadata",
             list_meta: Obj | None = None, headers: bool = True) -> Obj:
    cols = columns_for(kind)
    rows = []
    for o in objects:
        if include_object == "Object":
            ref: Any = o
        elif include_object == "None":
            ref = None
        else:
            ref = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata", {})}
        rows.append({"cells": [_safe(fn, o, now) for *_, fn in cols], "object": ref})
    table: Obj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta or {}, "rows": rows}
    if headers:
        table["columnDefinitions"] = [
            {"name": name, "type": typ, "format": "name" if name == "Name" else "", "description": "",
             "priority": prio} for name, typ, prio, _ in cols]
    return table


def _safe(fn: Cell, o: Obj, now: float) -> Any:
    try:
        value = fn(o, now)
    except (KeyError, TypeError, ValueError, IndexError):
        return "<unknown>"
    return "<none>" if value is None else value
