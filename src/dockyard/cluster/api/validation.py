"""Validation: what the real server rejects with 422 Invalid, with the same field paths and texts.

Covers object metadata (names, labels, annotations) for every kind and the per-kind rules a user
is most likely to trip over (containers, selectors matching templates, service ports, Job restart
policies, CRD names).  :func:`validate` returns causes; the caller raises ``Invalid`` with them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from dockyard.cluster.api.errors import cause
from dockyard.cluster.api.selectors import labels_match, selector_from_label_selector
from dockyard.cluster.api.validation_policy import VALIDATORS as POLICY_VALIDATORS

Obj = dict[str, Any]
Causes = list[dict[str, str]]

_SUB = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_1035 = r"[a-z]([-a-z0-9]*[a-z0-9])?"
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 f"validation is '{_SUB}')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             f"validation is '{_LABEL}')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               f"regex used for validation is '{_1035}')")
_QNAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LVALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _q(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def check_name(name: str, style: str = "subdomain") -> str | None:
    """The upstream message if *name* is not valid in *style*, else None."""
    regex, msg, limit = {"subdomain": (_SUB, SUBDOMAIN_MSG, 253), "label": (_LABEL, LABEL_MSG, 63),
                         "dns1035": (_1035, DNS1035_MSG, 63)}[style]
    if len(name) > limit:
        return f"must be no more than {limit} characters"
    return None if re.fullmatch(regex, name) else msg


def _qualified_key(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and check_name(prefix) is not None:
        return "prefix part " + SUBDOMAIN_MSG
    if not name or len(name) > 63 or not _QNAME.match(name):
        return ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    return None


NAME_STYLE = {"Namespace": "label", "Service": "dns1035", "Pod": "subdomain"}


def validate_metadata(obj: Obj, kind: str, namespaced: bool) -> Causes:
    causes: Causes = []
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    if not name and not meta.get("generateName"):
        causes.append(cause("metadata.name", "Required", "name or generateName is required"))
    elif name and (msg := check_name(name, NAME_STYLE.get(kind, "subdomain"))):
        causes.append(cause("metadata.name", "Invalid", f"{_q(name)}: {msg}"))
    for key, value in (meta.get("labels") or {}).items():
        if msg := _qualified_key(key):
            causes.append(cause("metadata.labels", "Invalid", f"{_q(key)}: {msg}"))
        if not isinstance(value, str) or len(value) > 63 or not _LVALUE.match(value):
            causes.append(cause("metadata.labels", "Invalid", f"{_q(value)}: a valid label must be an empty "
                                "string or consist of alphanumeric characters, '-', '_' or '.', and must start "
                                "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                                "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"))
    for key in meta.get("annotations") or {}:
        if msg := _qualified_key(key):
            causes.append(cause("metadata.annotations", "Invalid", f"{_q(key)}: {msg}"))
    return causes


def _containers(spec: Obj, path: str) -> Causes:
    causes: Causes = []
    containers = spec.get("containers")
    if not containers:
        return [cause(f"{path}.containers", "Required", "")]
    seen: set[str] = set()
    for i, c in enumerate(containers):
        p = f"{path}.containers[{i}]"
        if not isinstance(c, dict):
            causes.append(cause(p, "Invalid", "must be an object"))
            continue
        name = c.get("name") or ""
        if not name:
            causes.append(cause(f"{p}.name", "Required", ""))
        elif msg := check_name(name, "label"):
            causes.append(cause(f"{p}.name", "Invalid", f"{_q(name)}: {msg}"))
        elif name in seen:
            causes.append(cause(f"{p}.name", "Duplicate", _q(name)))
        seen.add(name)
        if not c.get("image"):
            causes.append(cause(f"{p}.image", "Required", ""))
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        causes.append(cause(f"{path}.restartPolicy", "NotSupported",
                            f'{_q(policy)}: supported values: "Always", "OnFailure", "Never"'))
    return causes


def _pod(obj: Obj) -> Causes:
    return _containers(obj.get("spec") or {}, "spec")


def _workload(obj: Obj) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    selector = spec.get("selector")
    tmpl = spec.get("template") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    if not selector:
        causes.append(cause("spec.selector", "Required", ""))
    elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(cause("spec.selector", "Invalid", "empty selector is invalid for deployment"))
    elif not labels_match(selector_from_label_selector(selector), labels):
        causes.append(cause("spec.template.metadata.labels", "Invalid",
                            f"map[string]string{{{_gomap(labels)}}}: `selector` does not match template `labels`"))
    if (replicas := spec.get("replicas")) is not None and (not isinstance(replicas, int) or replicas < 0):
        causes.append(cause("spec.replicas", "Invalid", f"{replicas}: must be greater than or equal to 0"))
    return causes + _containers(tmpl.get("spec") or {}, "spec.template.spec")


def _gomap(labels: dict[str, str]) -> str:
    return ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))


def _job(obj: Obj) -> Causes:
    spec = obj.get("spec") or {}
    tspec = (spec.get("template") or {}).get("spec") or {}
    causes = _containers(tspec, "spec.template.spec")
    if tspec.get("restartPolicy") not in ("OnFailure", "Never"):
        causes.append(cause("spec.template.spec.restartPolicy", "NotSupported",
                            f'{_q(tspec.get("restartPolicy", ""))}: supported values: "OnFailure", "Never"'))
    return causes


def _service(obj: Obj) -> Causes:
    spec = obj.get("spec") or {}
    causes: Causes = []
    if spec.get("type", "ClusterIP") not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        causes.append(cause("spec.type", "NotSupported", f'{_q(spec.get("type"))}: supported values: '
                            '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'))
    ports = spec.get("ports") or []
    if not ports and spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(cause("spec.ports", "Required", ""))
    for i, p in enumerate(ports):
        port = p.get("port") if isinstance(p, dict) else None
        if not isinstance(port, int) or not 0 < port < 65536:
            causes.append(cause(f"spec.ports[{i}].port", "Invalid",
                                f"{port}: must be between 1 and 65535, inclusive"))
        if len(ports) > 1 and not (isinstance(p, dict) and p.get("name")):
            causes.append(cause(f"spec.ports[{i}].name", "Required", ""))
    return causes


def _crd(obj: Obj) -> Causes:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    expected = f"{names.get('plural', '')}.{spec.get('group', '')}"
    causes: Causes = []
    if (obj.get("metadata") or {}).get("name") != expected:
        causes.append(cause("metadata.name", "Invalid", f"{_q(obj.get('metadata', {}).get('name'))}: "
                            "must be spec.names.plural+\".\"+spec.group"))
    for field in ("plural", "kind"):
        if not names.get(field):
            causes.append(cause(f"spec.names.{field}", "Required", ""))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(cause("spec.scope", "NotSupported", f'{_q(spec.get("scope", ""))}: supported values: '
                            '"Cluster", "Namespaced"'))
    if not spec.get("versions"):
        causes.append(cause("spec.versions", "Invalid", "[]: must have exactly one version marked as storage version"))
    return causes


def _rc(obj: Obj) -> Causes:
    return _containers(((obj.get("spec") or {}).get("template") or {}).get("spec") or {}, "spec.template.spec")


VALIDATORS: dict[tuple[str, str], Callable[[Obj], Causes]] = {
    ("", "ReplicationController"): _rc,
    ("", "Pod"): _pod, ("apps", "Deployment"): _workload, ("apps", "ReplicaSet"): _workload,
    ("apps", "StatefulSet"): _workload, ("apps", "DaemonSet"): _workload, ("batch", "Job"): _job,
    ("", "Service"): _service, ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    **POLICY_VALIDATORS,
}


def validate(group: str, kind: str, obj: Obj, *, namespaced: bool) -> Causes:
    causes = validate_metadata(obj, kind, namespaced)
    fn = VALIDATORS.get((group, kind))
    return causes + (fn(obj) if fn else [])
