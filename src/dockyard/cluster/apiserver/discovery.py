"""Discovery documents: legacy (``/api``, ``/apis``, per group-version) and aggregated (v2, v2beta1).

kubectl ≥ 1.30 asks for the aggregated form first (one request instead of one per group-version)
and falls back to the legacy form; both are built from the same :class:`Registry` rows.
"""

from __future__ import annotations

from typing import Any

from dockyard.cluster.api.kinds import Kind, Registry

Obj = dict[str, Any]
SUB_VERBS = ["get", "patch", "update"]
AGGREGATED = "apidiscovery.k8s.io"


def api_versions() -> Obj:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}


def _group_entry(group: str, versions: list[str]) -> Obj:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(registry: Registry) -> Obj:
    groups = [_group_entry(g, vs) for g, vs in registry.groups().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> Obj | None:
    versions = registry.groups().get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def resource_list(registry: Registry, group: str, version: str) -> Obj | None:
    kinds = [k for k in registry.all() if k.group == group and k.version == version]
    if not kinds:
        return None
    resources: list[Obj] = []
    for k in kinds:
        entry: Obj = {"name": k.plural, "singularName": k.singular, "namespaced": k.namespaced, "kind": k.kind,
                      "verbs": k.verbs()}
        if k.short_names:
            entry["shortNames"] = list(k.short_names)
        if k.categories:
            entry["categories"] = list(k.categories)
        resources.append(entry)
        if k.status:
            resources.append({"name": f"{k.plural}/status", "singularName": "", "namespaced": k.namespaced,
                              "kind": k.kind, "verbs": SUB_VERBS})
        if k.scale:
            resources.append({"name": f"{k.plural}/scale", "singularName": "", "namespaced": k.namespaced,
                              "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": SUB_VERBS})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}".lstrip("/"),
            "resources": resources}


def _aggregated_resource(k: Kind) -> Obj:
    entry: Obj = {"resource": k.plural, "responseKind": {"group": k.group, "version": k.version, "kind": k.kind},
                  "scope": "Namespaced" if k.namespaced else "Cluster", "singularResource": k.singular,
                  "verbs": k.verbs()}
    if k.short_names:
        entry["shortNames"] = list(k.short_names)
    if k.categories:
        entry["categories"] = list(k.categories)
    subs = []
    if k.status:
        subs.append({"subresource": "status", "responseKind": {"group": k.group, "version": k.version,
                                                               "kind": k.kind}, "verbs": SUB_VERBS})
    if k.scale:
        subs.append({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1",
                                                              "kind": "Scale"}, "verbs": SUB_VERBS})
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(registry: Registry, *, legacy: bool, version: str = "v2") -> Obj:
    """``/api`` (legacy=True: the core group only) or ``/apis`` as an APIGroupDiscoveryList."""
    items = []
    for group, versions in registry.groups().items():
        if (group == "") != legacy:
            continue
        vs = []
        for v in versions:
            kinds = [k for k in registry.all() if k.group == group and k.version == v]
            vs.append({"version": v, "resources": [_aggregated_resource(k) for k in kinds], "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": vs})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"{AGGREGATED}/{version}", "metadata": {},
            "items": items}


def wants_aggregated(accept: str) -> str | None:
    """The aggregated discovery version the client prefers, if any (first acceptable wins)."""
    for part in accept.split(","):
        params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
        if params.get("g") == AGGREGATED and params.get("as") == "APIGroupDiscoveryList" and \
                params.get("v") in ("v2", "v2beta1"):
            return params["v"]
        if part.split(";")[0].strip() in ("application/json", "*/*"):
            return None
    return None
