"""The HTTP API itself: discovery, status codes and Status bodies, concurrency, pagination, watch."""

from __future__ import annotations

import concurrent.futures
import json

import requests

JSON = {"Content-Type": "application/json"}


def cm(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_discovery_legacy_and_aggregated(server) -> None:
    assert requests.get(server.url + "/api").json()["versions"] == ["v1"]
    groups = {g["name"] for g in requests.get(server.url + "/apis").json()["groups"]}
    assert {"apps", "batch", "autoscaling", "networking.k8s.io", "apiextensions.k8s.io"} <= groups
    apps = requests.get(server.url + "/apis/apps/v1").json()
    deploy = next(r for r in apps["resources"] if r["name"] == "deployments")
    assert deploy["shortNames"] == ["deploy"] and deploy["namespaced"] and "watch" in deploy["verbs"]
    assert any(r["name"] == "deployments/scale" for r in apps["resources"])
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    r = requests.get(server.url + "/apis", headers={"Accept": accept})
    assert r.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    doc = r.json()
    assert doc["kind"] == "APIGroupDiscoveryList"
    hpa = next(i for i in doc["items"] if i["metadata"]["name"] == "autoscaling")["versions"][0]
    assert hpa["version"] == "v2" and hpa["resources"][0]["resource"] == "horizontalpodautoscalers"
    assert requests.get(server.url + "/version").json()["minor"] == "33"
    for path in ("/healthz", "/livez", "/readyz"):
        assert requests.get(server.url + path).text == "ok"


def test_openapi_documents(server) -> None:
    index = requests.get(server.url + "/openapi/v3").json()["paths"]
    doc = requests.get(server.url + index["apis/apps/v1"]["serverRelativeURL"]).json()
    assert "io.k8s.api.apps.v1.Deployment" in doc["components"]["schemas"]
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}} in patch["parameters"]
    v2 = requests.get(server.url + "/openapi/v2", headers={"Accept": "application/json"}).json()
    assert v2["swagger"] == "2.0" and "io.k8s.api.core.v1.Pod" in v2["definitions"]


def test_bad_input_gets_upstream_codes_and_nothing_is_stored(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    cases = [
        (b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {', 400, "BadRequest"),
        (json.dumps({**cm("a"), "apiVersion": "v2"}).encode(), 400, "BadRequest"),
        (json.dumps({**cm("a"), "kind": "Secret"}).encode(), 400, "BadRequest"),
        (json.dumps(cm("Not_DNS")).encode(), 422, "Invalid"),
        (json.dumps({**cm("a"), "bogus": 1}).encode(), 400, "BadRequest"),
        (json.dumps(cm("big", blob="x" * (4 * 1024 * 1024))).encode(), 413, "RequestEntityTooLarge"),
    ]
    for body, code, reason in cases:
        r = requests.post(base + "?fieldValidation=Strict", data=body, headers=JSON)
        status = r.json()
        assert (r.status_code, status["kind"], status["reason"], status["code"]) == (code, "Status", reason, code)
    invalid = requests.post(base, json=cm("Not_DNS")).json()
    assert invalid["details"]["causes"][0]["field"] == "metadata.name"
    assert invalid["details"]["causes"][0]["reason"] == "FieldValueInvalid"
    yaml_body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yaml}\n"
    assert requests.post(base, data=yaml_body, headers={"Content-Type": "application/yaml"}).status_code == 201
    bad_selector = requests.get(base, params={"labelSelector": "a in (b"})
    assert bad_selector.status_code == 400 and bad_selector.json()["reason"] == "BadRequest"
    assert requests.get(base, params={"fieldSelector": "spec.foo=1"}).status_code == 400
    names = [i["metadata"]["name"] for i in requests.get(base).json()["items"]]
    assert names == ["from-yaml"]
    assert requests.post(f"{server.url}/api/v1/namespaces/nope-{namespace}/configmaps", json=cm("x")).status_code == 404
    gone = requests.get(base + "/missing").json()
    assert gone["reason"] == "NotFound" and gone["message"] == 'configmaps "missing" not found'


def test_two_writers_with_the_same_resource_version_exactly_one_wins(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    obj = requests.post(base, json=cm("race", v="0")).json()

    def write(i: int) -> int:
        body = {**obj, "data": {"v": str(i)}}
        return requests.put(base + "/race", json=body).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(write, range(8)))
    assert sorted(codes) == [200] + [409] * 7


def test_pagination_of_1000_objects_is_consistent(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    session = requests.Session()
    for i in range(1000):
        assert session.post(base, json=cm(f"c{i:04d}")).status_code == 201
    first = session.get(base, params={"limit": 300}).json()
    names = [i["metadata"]["name"] for i in first["items"]]
    token, rv = first["metadata"]["continue"], first["metadata"]["resourceVersion"]
    session.delete(base + "/c0999")  # writes after the first page don't change the snapshot
    session.post(base, json=cm("c1000"))
    while token:
        page = session.get(base, params={"limit": 300, "continue": token}).json()
        assert page["metadata"]["resourceVersion"] == rv
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    assert names == [f"c{i:04d}" for i in range(1000)]
    exact = session.get(base, params={"resourceVersionMatch": "Exact", "resourceVersion": rv}).json()
    assert len(exact["items"]) == 1000 and exact["metadata"]["resourceVersion"] == rv


def test_watch_sees_every_change_in_order_and_replays_old_history(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    start = requests.get(base).json()["metadata"]["resourceVersion"]
    for i in range(20):
        requests.post(base, json=cm(f"w{i}"))
    for i in range(20):
        requests.patch(base + f"/w{i}", data=json.dumps({"data": {"n": str(i)}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    with requests.get(base, params={"watch": "1", "resourceVersion": start, "timeoutSeconds": "2"},
                      stream=True) as r:
        events = [json.loads(line) for line in r.iter_lines() if line]
    kinds = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert kinds == [("ADDED", f"w{i}") for i in range(20)] + [("MODIFIED", f"w{i}") for i in range(20)]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs)
    with requests.get(base, params={"watch": "1", "resourceVersion": "1", "timeoutSeconds": "2"},
                      stream=True) as r:
        first = json.loads(next(line for line in r.iter_lines() if line))
    # Nothing is compacted yet: revision 1 is still in the history, so this replays from it.
    assert first["type"] in ("ADDED", "MODIFIED", "DELETED")


def test_delete_collection_and_dry_run(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    dry = requests.post(base + "?dryRun=All", json=cm("dry"))
    assert dry.status_code == 201 and requests.get(base + "/dry").status_code == 404
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        requests.post(base, json={**cm(name), "metadata": {"name": name, "labels": {"tier": tier}}})
    requests.post(base, json={**cm(""), "metadata": {"generateName": "gen-"}})
    r = requests.delete(base, params={"labelSelector": "tier=x"})
    assert r.status_code == 200 and sorted(i["metadata"]["name"] for i in r.json()["items"]) == ["a", "b"]
    left = sorted(i["metadata"]["name"] for i in requests.get(base).json()["items"])
    assert left[0] == "c" and left[1].startswith("gen-") and len(left[1]) == len("gen-") + 5


def test_pod_on_a_node_is_deleted_gracefully(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/pods"
    spec = {"nodeName": "node1", "containers": [{"name": "c", "image": "busybox"}]}
    requests.post(base, json={"metadata": {"name": "p"}, "spec": spec})
    r = requests.delete(base + "/p")
    assert r.status_code == 202 and r.json()["metadata"]["deletionGracePeriodSeconds"] == 30
    assert requests.get(base + "/p").json()["metadata"]["deletionTimestamp"]
    assert requests.delete(base + "/p", params={"gracePeriodSeconds": "0"}).status_code == 200
    assert requests.get(base + "/p").status_code == 404
    requests.post(base, json={"metadata": {"name": "unscheduled"}, "spec": {**spec, "nodeName": ""}})
    requests.delete(base + "/unscheduled")
    assert requests.get(base + "/unscheduled").status_code == 404


def test_status_subresource_and_generation(server, namespace) -> None:
    base = f"{server.url}/apis/apps/v1/namespaces/{namespace}/deployments"
    dep = {"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
        "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        "status": {"replicas": 9}}
    created = requests.post(base, json=dep).json()
    assert created["status"] == {} or "replicas" not in created.get("status", {})
    created["status"] = {"replicas": 2, "readyReplicas": 1}
    after = requests.put(base + "/d/status", json=created).json()
    assert after["status"]["readyReplicas"] == 1 and after["metadata"]["generation"] == 1
    after["status"] = {"replicas": 7}
    after["spec"]["replicas"] = 3
    main = requests.put(base + "/d", json=after).json()
    assert main["status"]["replicas"] == 2 and main["metadata"]["generation"] == 2  # status ignored here


def test_filtered_watch_sees_objects_enter_and_leave_and_bookmarks(server, namespace) -> None:
    base = f"{server.url}/api/v1/namespaces/{namespace}/configmaps"
    merge = {"Content-Type": "application/merge-patch+json"}
    start = requests.post(base, json={"metadata": {"name": "x"}}).json()["metadata"]["resourceVersion"]
    requests.patch(base + "/x", data='{"metadata":{"labels":{"sel":"yes"}}}', headers=merge)
    requests.patch(base + "/x", data='{"data":{"a":"1"}}', headers=merge)
    requests.patch(base + "/x", data='{"metadata":{"labels":{"sel":"no"}}}', headers=merge)
    params = {"watch": "1", "resourceVersion": start, "labelSelector": "sel=yes", "timeoutSeconds": "2"}
    with requests.get(base, params=params, stream=True) as r:
        types = [json.loads(line)["type"] for line in r.iter_lines() if line]
    assert types == ["ADDED", "MODIFIED", "DELETED"]
    params = {"watch": "1", "sendInitialEvents": "true", "allowWatchBookmarks": "true",
              "resourceVersionMatch": "NotOlderThan", "timeoutSeconds": "1"}
    with requests.get(base, params=params, stream=True) as r:
        events = [json.loads(line) for line in r.iter_lines() if line]
    assert [e["type"] for e in events[:2]] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
