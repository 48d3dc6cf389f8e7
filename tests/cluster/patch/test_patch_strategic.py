"""Strategic merge patch, table-driven from the documented upstream behaviour.

Sources: the Kubernetes task "Update API Objects in Place Using kubectl patch", the strategic merge
patch design document (directives ``$patch``, ``$setElementOrder``, ``$retainKeys``,
``$deleteFromPrimitiveList``) and the merge keys in the upstream OpenAPI schemas.
"""

from __future__ import annotations

import copy

import pytest

from dockyard.cluster.api.patch import PatchError, UnsupportedPatch, apply_strategic_merge_patch

DEPLOYMENT = ("apps", "v1", "Deployment")
POD = ("", "v1", "Pod")
SERVICE = ("", "v1", "Service")


def deployment(containers, **spec):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "patch-demo"},
        "spec": {"replicas": 2, "template": {"spec": {"containers": containers}}, **spec},
    }


def containers_of(obj):
    return obj["spec"]["template"]["spec"]["containers"]


NGINX = {"name": "patch-demo-ctr", "image": "nginx"}
REDIS = {"name": "patch-demo-ctr-2", "image": "redis"}


def smp(obj, patch, gvk=DEPLOYMENT):
    return apply_strategic_merge_patch(obj, patch, gvk=gvk)


def test_kubectl_patch_docs_adds_a_container_by_name():
    patched = smp(deployment([NGINX]), {"spec": {"template": {"spec": {"containers": [REDIS]}}}})
    assert containers_of(patched) == [NGINX, REDIS]


def test_kubectl_patch_docs_tolerations_have_no_strategy_and_are_replaced():
    live = deployment([NGINX])
    live["spec"]["template"]["spec"]["tolerations"] = [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]
    patch = {"spec": {"template": {"spec": {"tolerations": [{"effect": "NoSchedule", "key": "dedicated"}]}}}}
    assert smp(live, patch)["spec"]["template"]["spec"]["tolerations"] == [{"effect": "NoSchedule",
                                                                            "key": "dedicated"}]


def test_changing_a_container_merges_its_fields_and_keeps_the_others():
    live = deployment([{**NGINX, "ports": [{"containerPort": 80}]}, REDIS])
    patched = smp(live, {"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-2",
                                                                        "image": "redis:7"}]}}}})
    assert containers_of(patched) == [{**NGINX, "ports": [{"containerPort": 80}]}, {**REDIS, "image": "redis:7"}]


def test_patch_delete_directive_removes_one_container():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr", "$patch": "delete"}]}}}}
    assert containers_of(smp(deployment([NGINX, REDIS]), patch)) == [REDIS]


def test_patch_replace_directive_replaces_the_whole_list():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "busybox"},
                                                          {"$patch": "replace"}]}}}}
    assert containers_of(smp(deployment([NGINX, REDIS]), patch)) == [{"name": "only", "image": "busybox"}]


def test_patch_replace_directive_in_a_map_replaces_the_map():
    live = deployment([NGINX])
    live["metadata"]["labels"] = {"app": "demo", "tier": "web"}
    patched = smp(live, {"metadata": {"labels": {"$patch": "replace", "team": "a"}}})
    assert patched["metadata"]["labels"] == {"team": "a"}


def test_patch_delete_directive_in_a_map_empties_it():
    live = deployment([NGINX])
    live["metadata"]["labels"] = {"app": "demo"}
    assert smp(live, {"metadata": {"labels": {"$patch": "delete"}}})["metadata"]["labels"] == {}


def test_retain_keys_switches_rolling_update_to_recreate():
    live = deployment([NGINX], strategy={"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    patched = smp(live, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert patched["spec"]["strategy"] == {"type": "Recreate"}


def test_without_retain_keys_the_old_rolling_update_stays():
    live = deployment([NGINX], strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}})
    patched = smp(live, {"spec": {"strategy": {"type": "Recreate"}}})
    assert patched["spec"]["strategy"] == {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}


def test_retain_keys_on_a_volume_changes_its_source():
    live = deployment([NGINX])
    live["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "hostPath": {"path": "/x"}},
                                                   {"name": "cache", "emptyDir": {}}]
    patch = {"spec": {"template": {"spec": {"volumes": [
        {"name": "data", "$retainKeys": ["name", "emptyDir"], "emptyDir": {"medium": "Memory"}}]}}}}
    assert smp(live, patch)["spec"]["template"]["spec"]["volumes"] == [
        {"name": "data", "emptyDir": {"medium": "Memory"}}, {"name": "cache", "emptyDir": {}}]


def test_retain_keys_must_list_every_patched_key():
    live = deployment([NGINX], strategy={"type": "RollingUpdate"})
    with pytest.raises(PatchError) as info:
        smp(live, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}}})
    assert info.value.http_status == 400


def test_set_element_order_reorders_containers():
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "patch-demo-ctr-2"}, {"name": "patch-demo-ctr"}],
        "containers": [{"name": "patch-demo-ctr", "image": "nginx:2"}]}}}}
    assert containers_of(smp(deployment([NGINX, REDIS]), patch)) == [REDIS, {**NGINX, "image": "nginx:2"}]


def test_set_element_order_places_a_new_item_between_live_ones():
    third = {"name": "c", "image": "c"}
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "patch-demo-ctr"}, {"name": "c"}, {"name": "patch-demo-ctr-2"}],
        "containers": [third]}}}}
    assert containers_of(smp(deployment([NGINX, REDIS]), patch)) == [NGINX, third, REDIS]


def test_set_element_order_that_contradicts_the_patch_is_an_error():
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "patch-demo-ctr"}],
        "containers": [{"name": "other", "image": "x"}]}}}}
    with pytest.raises(PatchError):
        smp(deployment([NGINX]), patch)


def test_finalizers_merge_as_a_set_and_delete_from_primitive_list():
    live = deployment([NGINX])
    live["metadata"]["finalizers"] = ["a.io/one", "b.io/two"]
    added = smp(live, {"metadata": {"finalizers": ["c.io/three", "a.io/one"]}})
    assert added["metadata"]["finalizers"] == ["c.io/three", "a.io/one", "b.io/two"]
    removed = smp(live, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/one"]}})
    assert removed["metadata"]["finalizers"] == ["b.io/two"]


def test_set_element_order_for_a_primitive_list():
    live = deployment([NGINX])
    live["metadata"]["finalizers"] = ["a", "b", "c"]
    patched = smp(live, {"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"]}})
    assert patched["metadata"]["finalizers"] == ["c", "b", "a"]


def test_null_deletes_a_key():
    live = deployment([NGINX])
    live["metadata"]["labels"] = {"app": "demo", "tier": "web"}
    patched = smp(live, {"metadata": {"labels": {"tier": None}}, "spec": {"replicas": None}})
    assert patched["metadata"]["labels"] == {"app": "demo"}
    assert "replicas" not in patched["spec"]


@pytest.mark.parametrize(
    ("field", "live", "patch", "expected"),
    [
        ("env", [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], [{"name": "B", "value": "3"}],
         [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]),
        ("volumeMounts", [{"name": "v", "mountPath": "/a"}], [{"name": "w", "mountPath": "/b"}],
         [{"name": "v", "mountPath": "/a"}, {"name": "w", "mountPath": "/b"}]),
        ("volumeMounts", [{"name": "v", "mountPath": "/a"}], [{"name": "w", "mountPath": "/a"}],
         [{"name": "w", "mountPath": "/a"}]),
        ("ports", [{"containerPort": 80, "name": "http"}], [{"containerPort": 443, "name": "https"}],
         [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"}]),
        ("ports", [{"containerPort": 80, "name": "http"}], [{"containerPort": 80, "name": "web"}],
         [{"containerPort": 80, "name": "web"}]),
        ("args", ["--a", "--b"], ["--c"], ["--c"]),
    ],
)
def test_container_lists_merge_by_their_keys(field, live, patch, expected):
    obj = deployment([{**NGINX, field: live}])
    patched = smp(obj, {"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr", field: patch}]}}}})
    assert containers_of(patched)[0][field] == expected


def test_pod_conditions_merge_by_type_and_image_pull_secrets_by_name():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [NGINX], "imagePullSecrets": [{"name": "a"}]},
           "status": {"conditions": [{"type": "Ready", "status": "False"},
                                     {"type": "Initialized", "status": "True"}]}}
    patch = {"spec": {"imagePullSecrets": [{"name": "b"}]},
             "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    patched = smp(pod, patch, POD)
    assert patched["spec"]["imagePullSecrets"] == [{"name": "a"}, {"name": "b"}]
    assert patched["status"]["conditions"] == [{"type": "Ready", "status": "True"},
                                               {"type": "Initialized", "status": "True"}]


def test_service_ports_merge_by_port():
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "a"}}}
    patched = smp(svc, {"spec": {"ports": [{"port": 443, "targetPort": 8443}], "selector": {"tier": "web"}}},
                  SERVICE)
    assert patched["spec"]["ports"] == [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]
    assert patched["spec"]["selector"] == {"app": "a", "tier": "web"}


def test_owner_references_merge_by_uid():
    live = deployment([NGINX])
    live["metadata"]["ownerReferences"] = [{"uid": "1", "name": "a", "kind": "X", "apiVersion": "v1"}]
    patched = smp(live, {"metadata": {"ownerReferences": [{"uid": "2", "name": "b", "kind": "X",
                                                           "apiVersion": "v1"}]}})
    assert [r["uid"] for r in patched["metadata"]["ownerReferences"]] == ["1", "2"]


def test_new_fields_are_added_without_directives():
    patched = smp(deployment([NGINX]), {"spec": {"paused": True, "template": {"metadata": {
        "labels": {"$patch": "replace", "app": "x"}}}}})
    assert patched["spec"]["paused"] is True
    assert patched["spec"]["template"]["metadata"] == {"labels": {"app": "x"}}


def test_merge_list_items_without_the_merge_key_are_rejected():
    with pytest.raises(PatchError, match="merge key"):
        smp(deployment([NGINX]), {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})


def test_unknown_directive_is_rejected():
    with pytest.raises(PatchError, match="unknown patch type"):
        smp(deployment([NGINX]), {"spec": {"$patch": "explode"}})


def test_custom_resources_get_415():
    with pytest.raises(UnsupportedPatch) as info:
        apply_strategic_merge_patch({"spec": {}}, {"spec": {"a": 1}}, gvk=("example.com", "v1", "Widget"))
    assert info.value.http_status == 415
    assert "application/merge-patch+json" in str(info.value)


def test_input_is_not_mutated():
    live = deployment([NGINX, REDIS])
    before = copy.deepcopy(live)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr", "$patch": "delete"}]}}}}
    patch_before = copy.deepcopy(patch)
    smp(live, patch)
    assert live == before and patch == patch_before


def test_kubectl_client_side_apply_three_way_patch_on_a_defaulted_object():
    live = deployment([{"name": "nginx", "image": "nginx:1.14.2", "imagePullPolicy": "IfNotPresent",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {},
                        "terminationMessagePath": "/dev/termination-log"}],
                      strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    live["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    # What kubectl apply sends after the manifest changed the image and added a port.
    patch = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"new":1}'}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "nginx"}],
            "containers": [{"$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 443}],
                            "image": "nginx:1.16.1", "name": "nginx", "ports": [{"containerPort": 443}]}]}}},
    }
    patched = smp(live, patch)
    (container,) = containers_of(patched)
    assert container["image"] == "nginx:1.16.1"
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert patched["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == '{"new":1}'
    assert patched["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}
