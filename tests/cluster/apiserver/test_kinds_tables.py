"""Every served kind no other test exercises end to end — StatefulSet, DaemonSet, ReplicaSet, PVC, Node,
Lease, Endpoints, EndpointSlice, ServiceAccount, events.k8s.io Event — applied with kubectl, read back
with upstream's defaults, and listed with the columns kubectl prints against a real server."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

TEMPLATE = {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
SELECTOR = {"matchLabels": {"app": "w"}}


def manifests(node: str) -> list[dict]:
    return [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "sts"},
         "spec": {"serviceName": "sts", "selector": SELECTOR, "template": TEMPLATE}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"},
         "spec": {"selector": SELECTOR, "template": TEMPLATE}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
         "spec": {"selector": SELECTOR, "template": TEMPLATE}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}},
        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "lock"},
         "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}},
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
         "subsets": [{"addresses": [{"ip": "10.0.0.5"}], "ports": [{"port": 80}]}]},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "web-abc"},
         "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.5"]}], "ports": [{"port": 80}]},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bot"}},
        {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e2"}, "reason": "Pulled",
         "type": "Normal", "note": "pulled it", "action": "Pull", "reportingController": "me",
         "reportingInstance": "me-1", "eventTime": "2026-01-01T00:00:00.000000Z",
         "regarding": {"kind": "Pod", "name": "p1"}},
    ]


HEADERS = {
    "statefulsets": "NAME READY AGE",
    "daemonsets": "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE",
    "replicasets": "NAME DESIRED CURRENT READY AGE",
    "persistentvolumeclaims": "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
    "leases.coordination.k8s.io": "NAME HOLDER AGE",
    "endpoints": "NAME ENDPOINTS AGE",
    "endpointslices.discovery.k8s.io": "NAME ADDRESSTYPE PORTS ENDPOINTS AGE",
    "serviceaccounts": "NAME SECRETS AGE",
    "events.events.k8s.io": "LAST SEEN TYPE REASON OBJECT MESSAGE",
}


def test_remaining_kinds_apply_default_and_print_upstream_columns(server, namespace) -> None:
    ns = ("-n", namespace)
    node = f"{namespace}-node"
    doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests(node)})
    applied = server.kubectl("apply", *ns, "-f", "-", input=doc).stdout.splitlines()
    assert len(applied) == 10 and all(line.endswith(" created") for line in applied)
    try:
        for resource, header in HEADERS.items():
            lines = server.kubectl("get", *ns, resource).stdout.splitlines()
            assert " ".join(lines[0].split()) == header, resource
            assert len(lines) == 2, resource
        rows = {r: server.kubectl("get", *ns, r).stdout.splitlines()[1].split() for r in
                ("leases.coordination.k8s.io", "endpoints", "endpointslices.discovery.k8s.io",
                 "events.events.k8s.io", "persistentvolumeclaims")}
        assert rows["leases.coordination.k8s.io"][:2] == ["lock", "me"]
        assert rows["endpoints"][:2] == ["web", "10.0.0.5:80"]
        assert rows["endpointslices.discovery.k8s.io"][:4] == ["web-abc", "IPv4", "80", "10.0.0.5"]
        assert rows["events.events.k8s.io"][1:] == ["Normal", "Pulled", "pod/p1", "pulled", "it"]
        assert rows["persistentvolumeclaims"][:2] == ["data", "Pending"]
        assert server.kubectl("get", "node", node).stdout.splitlines()[0].split() == \
            ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]

        def get(kind: str, name: str) -> dict:
            return json.loads(server.kubectl("get", *ns, kind, name, "-o", "json").stdout)

        sts = get("statefulset", "sts")["spec"]
        assert (sts["replicas"], sts["podManagementPolicy"], sts["updateStrategy"], sts["revisionHistoryLimit"]) == \
            (1, "OrderedReady", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, 10)
        ds = get("daemonset", "ds")["spec"]["updateStrategy"]
        assert ds == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
        assert get("replicaset", "rs")["spec"]["replicas"] == 1
        assert get("pvc", "data")["spec"]["volumeMode"] == "Filesystem"
        # the same again is unchanged, as a real server answers a no-op apply
        again = server.kubectl("apply", *ns, "-f", "-", input=doc).stdout.splitlines()
        assert all(line.endswith(" unchanged") for line in again), again
    finally:
        server.kubectl("delete", "node", node)
