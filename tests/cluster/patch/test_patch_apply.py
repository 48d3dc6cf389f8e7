"""Server-side apply and managed fields, following the Kubernetes "Server-Side Apply" documentation."""

from __future__ import annotations

import re

import pytest

from dockyard.base.errors import Conflict
from dockyard.cluster.api.patch import ApplyConflict, PatchError, server_side_apply, update_managed_fields

CM = ("", "v1", "ConfigMap")
DEPLOYMENT = ("apps", "v1", "Deployment")
T1, T2, T3 = "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"


def entries(obj):
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


def fields(obj, manager, operation="Apply"):
    return entries(obj)[(manager, operation)]["fieldsV1"]


def apply(live, cfg, manager, *, force=False, gvk=DEPLOYMENT, now=T1):
    return server_side_apply(live, cfg, manager=manager, force=force, gvk=gvk, now=now)


def dep(spec=None, **meta):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", **meta}, "spec": spec or {}}


def test_docs_configmap_example_managed_fields_exactly():
    cfg = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
           "data": {"key": "some value"}}
    obj = apply(None, cfg, "kubectl", gvk=CM, now="2010-10-10T00:00:00Z")
    assert obj["metadata"]["managedFields"] == [{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": "2010-10-10T00:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}},
    }]
    assert obj["data"] == {"key": "some value"}


def test_applied_containers_are_keyed_items_with_dot_members():
    cfg = dep({"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {"containers": [
        {"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}}})
    obj = apply(None, cfg, "kubectl")
    assert fields(obj, "kubectl") == {"f:spec": {
        "f:replicas": {}, "f:selector": {},
        "f:template": {"f:spec": {"f:containers": {'k:{"name":"nginx"}': {
            ".": {}, "f:image": {}, "f:name": {},
            "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}}}}}}


def test_second_manager_changing_an_owned_field_conflicts():
    live = apply(None, dep({"replicas": 3}), "manager-a")
    with pytest.raises(ApplyConflict) as info:
        apply(live, dep({"replicas": 5}), "manager-b")
    err = info.value
    assert isinstance(err, Conflict) and err.http_status == 409
    assert str(err) == 'Apply failed with 1 conflict: conflict with "manager-a": .spec.replicas'
    assert err.conflicts == [("manager-a", ".spec.replicas")]
    assert err.causes == [{"type": "FieldManagerConflict", "message": 'conflict with "manager-a"',
                           "field": ".spec.replicas"}]


def test_conflict_with_an_update_manager_names_its_api_version():
    live = update_managed_fields(None, dep({"replicas": 1}), manager="kubectl-client-side-apply",
                                 gvk=DEPLOYMENT, now=T1)
    with pytest.raises(ApplyConflict) as info:
        apply(live, dep({"replicas": 3}), "kubectl")
    assert str(info.value) == ('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
                               "using apps/v1: .spec.replicas")


def test_several_conflicts_are_listed_per_manager():
    live = apply(None, dep({"replicas": 3, "paused": False}), "a")
    live = apply(live, dep({"minReadySeconds": 5}), "b")
    with pytest.raises(ApplyConflict) as info:
        apply(live, dep({"replicas": 1, "paused": True, "minReadySeconds": 1}), "c")
    assert str(info.value) == ('Apply failed with 3 conflicts: conflicts with "a":\n- .spec.paused\n'
                               '- .spec.replicas\nconflicts with "b":\n- .spec.minReadySeconds')


def test_force_moves_ownership():
    live = apply(None, dep({"replicas": 3, "paused": False}), "a")
    obj = apply(live, dep({"replicas": 5}), "b", force=True, now=T2)
    assert obj["spec"]["replicas"] == 5
    assert fields(obj, "b") == {"f:spec": {"f:replicas": {}}}
    assert fields(obj, "a") == {"f:spec": {"f:paused": {}}}


def test_applying_the_same_value_shares_ownership_without_conflict():
    live = apply(None, dep({"replicas": 3}), "a")
    obj = apply(live, dep({"replicas": 3}), "b")
    assert fields(obj, "a") == fields(obj, "b") == {"f:spec": {"f:replicas": {}}}


def test_fields_dropped_from_the_config_are_removed():
    live = apply(None, dep({"replicas": 3}, labels={"app": "web", "tier": "front"}), "a")
    obj = apply(live, dep({"replicas": 3}, labels={"app": "web"}), "a", now=T2)
    assert obj["metadata"]["labels"] == {"app": "web"}
    assert fields(obj, "a") == {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}}}


def test_fields_dropped_but_co_owned_are_kept():
    live = apply(None, dep(labels={"app": "web", "tier": "front"}), "a")
    live = apply(live, dep(labels={"tier": "front"}), "b")
    obj = apply(live, dep(labels={"app": "web"}), "a", now=T2)
    assert obj["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert fields(obj, "b") == {"f:metadata": {"f:labels": {"f:tier": {}}}}


def test_containers_from_two_managers_merge_and_release_independently():
    def with_containers(*names):
        return dep({"template": {"spec": {"containers": [{"name": n, "image": n} for n in names]}}})

    live = apply(None, with_containers("app"), "a")
    live = apply(live, with_containers("sidecar"), "b")
    assert [c["name"] for c in live["spec"]["template"]["spec"]["containers"]] == ["app", "sidecar"]
    obj = apply(live, dep({"replicas": 1}), "a", now=T2)
    assert obj["spec"]["template"]["spec"]["containers"] == [{"name": "sidecar", "image": "sidecar"}]
    assert obj["spec"]["replicas"] == 1


def test_atomic_lists_are_replaced_and_owned_whole():
    def with_args(args):
        return dep({"template": {"spec": {"containers": [{"name": "app", "args": args}]}}})

    live = apply(None, with_args(["--a", "--b"]), "a")
    obj = apply(live, with_args(["--c"]), "a")
    assert obj["spec"]["template"]["spec"]["containers"][0]["args"] == ["--c"]
    container = fields(obj, "a")["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
    assert container["f:args"] == {}
    with pytest.raises(ApplyConflict, match=r'\.spec\.template\.spec\.containers\[name="app"\]\.args'):
        apply(obj, with_args(["--d"]), "b")


def test_sets_union_with_value_members():
    live = apply(None, dep(finalizers=["example.com/a"]), "a")
    obj = apply(live, dep(finalizers=["example.com/b"]), "b")
    assert obj["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]
    assert fields(obj, "b") == {"f:metadata": {"f:finalizers": {'v:"example.com/b"': {}}}}


def test_managed_fields_in_the_config_are_rejected():
    with pytest.raises(PatchError, match="managedFields must be nil") as info:
        apply(None, dep(managedFields=[]), "a")
    assert info.value.http_status == 400


def test_update_takes_ownership_from_the_applier():
    live = apply(None, dep({"replicas": 3, "paused": False}), "kubectl")
    edited = dict(live, spec={"replicas": 7, "paused": False})
    obj = update_managed_fields(live, edited, manager="kubectl-edit", gvk=DEPLOYMENT, now=T2)
    assert fields(obj, "kubectl") == {"f:spec": {"f:paused": {}}}
    assert entries(obj)[("kubectl-edit", "Update")] == {
        "manager": "kubectl-edit", "operation": "Update", "apiVersion": "apps/v1", "time": T2,
        "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    with pytest.raises(ApplyConflict, match=re.escape('conflict with "kubectl-edit" using apps/v1: .spec.replicas')):
        apply(obj, dep({"replicas": 3, "paused": False}), "kubectl")


def test_update_on_create_marks_new_maps_but_not_zero_value_structs():
    created = update_managed_fields(None, dep({"replicas": 1}, labels={"app": "web"}), manager="kubectl-create",
                                    gvk=DEPLOYMENT, now=T1)
    assert fields(created, "kubectl-create", "Update") == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:replicas": {}}}


def test_update_that_changes_nothing_adds_no_entry_and_removal_releases():
    live = apply(None, dep({"replicas": 3, "paused": False}), "a")
    same = update_managed_fields(live, live, manager="other", gvk=DEPLOYMENT, now=T2)
    assert set(entries(same)) == {("a", "Apply")}
    removed = dict(live, spec={"replicas": 3})
    obj = update_managed_fields(live, removed, manager="other", gvk=DEPLOYMENT, now=T2)
    assert fields(obj, "a") == {"f:spec": {"f:replicas": {}}}
    assert ("other", "Update") not in entries(obj)


def test_status_is_not_owned_through_the_main_resource_but_is_through_status():
    live = apply(None, dep({"replicas": 1}), "a")
    with_status = dict(live, status={"replicas": 1})
    main = update_managed_fields(live, with_status, manager="ctl", gvk=DEPLOYMENT, now=T2)
    assert ("ctl", "Update") not in entries(main)
    status = update_managed_fields(live, with_status, manager="ctl", gvk=DEPLOYMENT, subresource="status", now=T2)
    entry = entries(status)[("ctl", "Update")]
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {".": {}, "f:replicas": {}}}


def test_objects_without_managed_fields_belong_to_before_first_apply():
    legacy = dep({"replicas": 2})
    with pytest.raises(ApplyConflict, match=re.escape('"before-first-apply" using apps/v1: .spec.replicas')):
        apply(legacy, dep({"replicas": 4}), "kubectl")
    obj = apply(legacy, dep({"replicas": 2, "paused": True}), "kubectl")
    assert set(entries(obj)) == {("kubectl", "Apply"), ("before-first-apply", "Update")}


def test_no_op_apply_keeps_the_previous_time_and_entries_are_sorted():
    live = apply(None, dep({"replicas": 1}), "a", now=T1)
    live = update_managed_fields(live, dict(live, spec={"replicas": 1, "paused": True}), manager="b",
                                 gvk=DEPLOYMENT, now=T2)
    again = apply(live, dep({"replicas": 1}), "a", now=T3)
    assert [(e["manager"], e["time"]) for e in again["metadata"]["managedFields"]] == [("a", T1), ("b", T2)]
    changed = apply(live, dep({"replicas": 2}), "a", now=T3)
    assert entries(changed)[("a", "Apply")]["time"] == T3


def test_update_managers_are_capped_at_ten():
    obj = apply(None, dep({"replicas": 0}), "a")
    for i in range(12):
        labels = {**obj["metadata"].get("labels", {}), f"l{i}": "x"}
        obj = update_managed_fields(obj, dict(obj, metadata={**obj["metadata"], "labels": labels}),
                                    manager=f"m{i}", gvk=DEPLOYMENT, now=f"2024-05-01T10:{i:02d}:00Z")
    names = [e["manager"] for e in obj["metadata"]["managedFields"] if e["operation"] == "Update"]
    assert len(names) == 10 and "ancient-changes" in names


def test_custom_resource_without_schema_merges_maps_and_replaces_lists():
    gvk = ("example.com", "v1", "Widget")
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
          "spec": {"size": 1, "tags": ["a"]}}
    live = server_side_apply(None, cr, manager="a", force=False, gvk=gvk, now=T1)
    obj = server_side_apply(live, {**cr, "spec": {"color": "red", "tags": ["b"]}}, manager="b", force=True,
                            gvk=gvk, now=T2)
    assert obj["spec"] == {"size": 1, "tags": ["b"], "color": "red"}
    # Without a schema every key is a map entry, and map entries are members themselves.
    assert fields(obj, "a") == {"f:spec": {".": {}, "f:size": {}}}


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def test_switching_from_client_side_to_server_side_apply_takes_over_without_conflict():
    config = dep({"replicas": 1})
    csa = dep({"replicas": 1}, annotations={LAST_APPLIED: '{"apiVersion":"apps/v1","kind":"Deployment",'
                                                          '"metadata":{"name":"web"},"spec":{"replicas":1}}\n'})
    live = update_managed_fields(None, csa, manager="kubectl-client-side-apply", gvk=DEPLOYMENT, now=T1)
    changed = dep({"replicas": 3})
    with pytest.raises(ApplyConflict):
        apply(live, changed, "someone-else")
    obj = apply(live, changed, "kubectl", now=T2)
    assert obj["spec"]["replicas"] == 3
    assert fields(obj, "kubectl") == {"f:spec": {"f:replicas": {}}}
    assert obj["metadata"]["annotations"][LAST_APPLIED] == (
        '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}}\n')
    assert config["spec"] == {"replicas": 1}


def test_custom_resource_with_crd_schema_merges_list_map_items():
    from dockyard.cluster.api.patch.schema import SchemaNode

    node = SchemaNode.from_openapi({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "rules": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                  "items": {"type": "object"}}}}}})
    gvk = ("example.com", "v1", "Policy")

    def policy(*ids):
        return {"apiVersion": "example.com/v1", "kind": "Policy", "metadata": {"name": "p"},
                "spec": {"rules": [{"id": i, "allow": True} for i in ids]}}

    live = server_side_apply(None, policy("a"), manager="a", force=False, gvk=gvk, schema_node=node, now=T1)
    obj = server_side_apply(live, policy("b"), manager="b", force=False, gvk=gvk, schema_node=node, now=T2)
    assert [r["id"] for r in obj["spec"]["rules"]] == ["a", "b"]
    assert fields(obj, "b") == {"f:spec": {"f:rules": {'k:{"id":"b"}': {".": {}, "f:allow": {}, "f:id": {}}}}}


def test_reapplying_containers_in_a_new_order_reorders_them_around_foreign_items():
    def with_containers(*names):
        return dep({"template": {"spec": {"containers": [{"name": n, "image": n} for n in names]}}})

    live = apply(None, with_containers("a", "b"), "a")
    live = apply(live, with_containers("sidecar"), "b")
    obj = apply(live, with_containers("b", "a"), "a", now=T2)
    # Shared items follow the configuration (b before a); the live-only sidecar keeps its place
    # after b, where the walk over the live list meets it — structured-merge-diff's order.
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["b", "sidecar", "a"]
