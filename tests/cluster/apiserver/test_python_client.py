"""The official kubernetes Python client against our server: CRUD, patches, watch and resume."""

from __future__ import annotations

import threading

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(server) -> client.ApiClient:
    return config.new_client_from_config(str(server.kubeconfig))


def test_crud_and_patches(api, namespace) -> None:
    core = client.CoreV1Api(api)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg", labels={"a": "1"}), data={"k": "v"})
    created = core.create_namespaced_config_map(namespace, body)
    assert created.metadata.uid and created.metadata.resource_version
    got = core.read_namespaced_config_map("cfg", namespace)
    assert got.data == {"k": "v"}
    got.data["k"] = "w"
    replaced = core.replace_namespaced_config_map("cfg", namespace, got)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    stale = got
    stale.metadata.resource_version = created.metadata.resource_version
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("cfg", namespace, stale)
    assert err.value.status == 409 and "the object has been modified" in err.value.body
    patched = core.patch_namespaced_config_map("cfg", namespace, {"data": {"extra": "1"}})
    assert patched.data == {"k": "w", "extra": "1"}
    patched = core.patch_namespaced_config_map("cfg", namespace, [{"op": "remove", "path": "/data/extra"}])
    assert patched.data == {"k": "w"}
    apps = client.AppsV1Api(api)
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
                    "spec": {"containers": [{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}]}}}}
    apps.create_namespaced_deployment(namespace, dep)
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox:2"}]}}}}
    out = apps.patch_namespaced_deployment("d", namespace, smp)  # strategic merge: containers merge by name
    assert [(c.name, c.image) for c in out.spec.template.spec.containers] == [("a", "busybox"), ("b", "busybox:2")]
    scale = apps.patch_namespaced_deployment_scale("d", namespace, {"spec": {"replicas": 4}})
    assert scale.spec.replicas == 4 and scale.status.selector == "app=d"
    names = [c.metadata.name for c in core.list_namespaced_config_map(namespace, label_selector="a=1").items]
    assert names == ["cfg"]
    core.delete_namespaced_config_map("cfg", namespace)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("cfg", namespace)
    assert err.value.status == 404


def test_watch_and_resume_from_resource_version(api, namespace) -> None:
    core = client.CoreV1Api(api)
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    for i in range(3):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"c{i}"}, "data": {"i": str(i)}})
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=start, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "c0"), ("ADDED", "c1"), ("ADDED", "c2")]
    resume = core.read_namespaced_config_map("c1", namespace).metadata.resource_version
    core.patch_namespaced_config_map("c0", namespace, {"data": {"x": "y"}})
    core.delete_namespaced_config_map("c2", namespace)
    seen = []
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=resume, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "c2"), ("MODIFIED", "c0"), ("DELETED", "c2")]


def test_watch_without_resource_version_lists_first_then_follows(api, namespace) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "before"}})
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def writer() -> None:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "after"}})

    timer = threading.Timer(0.3, writer)
    timer.start()
    for event in w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            w.stop()
    timer.join()
    assert seen == [("ADDED", "before"), ("ADDED", "after")]
