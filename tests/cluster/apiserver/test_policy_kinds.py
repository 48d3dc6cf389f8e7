"""HorizontalPodAutoscaler in autoscaling/v1 and v2 (one stored object), ResourceQuota, PriorityClass and
PodDisruptionBudget: what kubectl's create/autoscale commands send, the columns ``kubectl get`` prints,
and upstream's 422s for what a user gets wrong."""

from __future__ import annotations

import json

import pytest
import requests

pytestmark = pytest.mark.e2e


def hpa_url(server, namespace: str, version: str, name: str = "") -> str:
    return f"{server.url}/apis/autoscaling/{version}/namespaces/{namespace}/horizontalpodautoscalers" + \
        (f"/{name}" if name else "")


def test_kubectl_132_autoscale_posts_v1_and_both_versions_read_the_same_object(server, namespace) -> None:
    ns = ("-n", namespace)
    server.kubectl("create", *ns, "deployment", "web", "--image=busybox:1.36", version="1.32")
    out = server.kubectl("autoscale", *ns, "deployment", "web", "--min=2", "--max=5", "--cpu-percent=70", "-v=6",
                         version="1.32")
    assert out.stdout == "horizontalpodautoscaler.autoscaling/web autoscaled\n"
    assert f"POST {hpa_url(server, namespace, 'v1')}" in out.stderr
    one = requests.get(hpa_url(server, namespace, "v1", "web"), timeout=10).json()
    assert one["apiVersion"] == "autoscaling/v1"
    assert one["spec"]["targetCPUUtilizationPercentage"] == 70 and one["spec"]["minReplicas"] == 2
    assert one["metadata"]["managedFields"][0]["apiVersion"] == "autoscaling/v1"
    two = requests.get(hpa_url(server, namespace, "v2", "web"), timeout=10).json()
    assert two["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 70}}}]
    assert two["metadata"]["resourceVersion"] == one["metadata"]["resourceVersion"]
    table = server.kubectl("get", *ns, "hpa", version="1.32").stdout.split("\n")
    assert table[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert table[1].split()[:7] == ["web", "Deployment/web", "cpu:", "<unknown>/70%", "2", "5", "0"]
    # kubectl 1.33 edits the same object through v2; v1 readers see the change.
    server.kubectl("patch", *ns, "hpa", "web", "--type=merge", "-p", '{"spec":{"maxReplicas":7}}')
    assert requests.get(hpa_url(server, namespace, "v1", "web"), timeout=10).json()["spec"]["maxReplicas"] == 7
    items = requests.get(hpa_url(server, namespace, "v1"), timeout=10).json()
    assert items["kind"] == "HorizontalPodAutoscalerList" and items["apiVersion"] == "autoscaling/v1"
    assert [i["spec"]["targetCPUUtilizationPercentage"] for i in items["items"]] == [70]


def test_v2_only_fields_survive_an_update_through_v1_and_watch_converts(server, namespace) -> None:
    memory = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue",
                                                                            "averageValue": "1Gi"}}}
    body = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "mem"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "maxReplicas": 3, "metrics": [memory]}}
    created = requests.post(hpa_url(server, namespace, "v2"), json=body, timeout=10)
    assert created.status_code == 201, created.text
    one = requests.get(hpa_url(server, namespace, "v1", "mem"), timeout=10).json()
    assert "targetCPUUtilizationPercentage" not in one["spec"]
    assert json.loads(one["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]) == [memory]
    one["spec"]["maxReplicas"] = 6
    put = requests.put(hpa_url(server, namespace, "v1", "mem"), json=one, timeout=10)
    assert put.status_code == 200, put.text
    two = requests.get(hpa_url(server, namespace, "v2", "mem"), timeout=10).json()
    assert two["spec"]["metrics"] == [memory] and two["spec"]["maxReplicas"] == 6
    assert "annotations" not in two["metadata"]
    with requests.get(hpa_url(server, namespace, "v1"), params={"watch": "1", "timeoutSeconds": "1"},
                      stream=True, timeout=10) as r:
        events = [json.loads(line) for line in r.iter_lines() if line]
    assert [(e["type"], e["object"]["apiVersion"], e["object"]["spec"]["maxReplicas"]) for e in events] == \
        [("ADDED", "autoscaling/v1", 6)]
    stale = requests.put(hpa_url(server, namespace, "v1", "mem"), json=one, timeout=10)
    assert stale.status_code == 409


def test_kubectl_creates_quota_priorityclass_and_pdb_and_prints_upstream_columns(server, namespace) -> None:
    ns = ("-n", namespace)
    pc = f"{namespace}-pc"
    for version in ("1.32", "1.33"):
        v = version.replace(".", "")
        assert server.kubectl("create", *ns, "quota", f"q{v}", "--hard=pods=10,limits.memory=1Gi",
                              version=version).stdout == f"resourcequota/q{v} created\n"
        assert server.kubectl("create", "priorityclass", f"{pc}{v}", "--value=1000", "--description=batch",
                              "--preemption-policy=Never", version=version).stdout == \
            f"priorityclass.scheduling.k8s.io/{pc}{v} created\n"
        assert server.kubectl("create", *ns, "pdb", f"p{v}", "--selector=app=web", "--max-unavailable=25%",
                              version=version).stdout == f"poddisruptionbudget.policy/p{v} created\n"
    head = [line.split() for line in server.kubectl("get", *ns, "quota,pdb").stdout.splitlines() if line]
    assert head[0] == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert head[3] == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert head[4][:4] == ["poddisruptionbudget.policy/p132", "N/A", "25%", "0"]
    rows = server.kubectl("get", "pc", f"{pc}133", "system-node-critical").stdout.splitlines()
    assert rows[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert rows[1].split()[:3] == [f"{pc}133", "1000", "false"] and rows[1].split()[-1] == "Never"
    assert rows[2].split()[:3] == ["system-node-critical", "2000001000", "false"]
    pdb = json.loads(server.kubectl("get", *ns, "pdb", "p133", "-o", "json").stdout)
    assert pdb["status"] == {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}
    assert "FIELD: value <integer>" in server.kubectl("explain", "priorityclass.value").stdout
    changed = server.kubectl("patch", "pc", f"{pc}133", "--type=merge", "-p", '{"value":5}', check=False)
    assert changed.returncode != 0 and "value: Forbidden: may not be changed in an update" in changed.stderr
    for name in (f"{pc}132", f"{pc}133"):
        server.kubectl("delete", "priorityclass", name)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
     {"metadata": {"name": "both"}, "spec": {"minAvailable": 1, "maxUnavailable": 1}}, "spec"),
    ("/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
     {"metadata": {"name": "pct"}, "spec": {"minAvailable": "150%"}}, "spec.minAvailable"),
    ("/apis/scheduling.k8s.io/v1/priorityclasses", {"metadata": {"name": "system-mine"}, "value": 1}, "metadata.name"),
    ("/apis/scheduling.k8s.io/v1/priorityclasses", {"metadata": {"name": "{ns}-big"}, "value": 2000000000}, "value"),
    ("/api/v1/namespaces/{ns}/resourcequotas", {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "ten"}}},
     "spec.hard[pods]"),
    ("/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers",
     {"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
                                          "minReplicas": 4, "maxReplicas": 2}}, "spec.maxReplicas"),
])
def test_invalid_policy_objects_are_422_with_the_field_and_not_stored(server, namespace, path, body, field) -> None:
    url = server.url + path.format(ns=namespace)
    body = json.loads(json.dumps(body).replace("{ns}", namespace))
    r = requests.post(url, json=body, timeout=10)
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "Invalid" and [c["field"] for c in r.json()["details"]["causes"]] == [field]
    assert requests.get(f"{url}/{body['metadata']['name']}", timeout=10).status_code == 404


def test_discovery_and_openapi_list_the_new_kinds(server) -> None:
    doc = requests.get(server.url + "/apis", timeout=10, headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"}).json()
    groups = {g["metadata"]["name"]: [v["version"] for v in g["versions"]] for g in doc["items"]}
    assert groups["autoscaling"] == ["v2", "v1"]
    assert groups["policy"] == ["v1"] and groups["scheduling.k8s.io"] == ["v1"]
    core = requests.get(server.url + "/api/v1", timeout=10).json()
    assert {"name": "resourcequotas", "shortNames": ["quota"]}.items() <= \
        next(r for r in core["resources"] if r["name"] == "resourcequotas").items()
    v3 = requests.get(server.url + "/openapi/v3/apis/autoscaling/v1", timeout=10).json()
    assert "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler" in v3["components"]["schemas"]
    assert "/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/{name}" in v3["paths"]
    v2 = requests.get(server.url + "/openapi/v2", timeout=30).json()
    for name in ("io.k8s.api.policy.v1.PodDisruptionBudget", "io.k8s.api.scheduling.v1.PriorityClass",
                 "io.k8s.api.core.v1.ResourceQuota", "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler"):
        assert name in v2["definitions"], name
