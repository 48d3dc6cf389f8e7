"""Property tests tying the patch flavours together and checking server-side apply invariants."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.cluster.api.patch import (
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
    create_merge_patch,
    server_side_apply,
    typed,
)

CM = ("", "v1", "ConfigMap")
DEPLOYMENT = ("apps", "v1", "Deployment")

names = st.text(alphabet="abcxyz", min_size=1, max_size=3)
string_maps = st.dictionaries(names, st.text(max_size=4), max_size=4)


def configmap(data, labels):
    meta = {"name": "cm"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


@given(string_maps, string_maps, string_maps, string_maps)
def test_strategic_equals_merge_patch_where_no_list_has_a_strategy(data_a, labels_a, data_b, labels_b):
    a, b = configmap(data_a, labels_a), configmap(data_b, labels_b)
    patch = create_merge_patch(a, b)
    assert apply_strategic_merge_patch(a, patch, gvk=CM) == apply_merge_patch(a, patch) == b


@given(string_maps, string_maps)
def test_a_merge_patch_can_be_written_as_json_patch(data_a, data_b):
    a, b = configmap(data_a, {}), configmap(data_b, {})
    ops = [{"op": "replace", "path": "/data", "value": data_b}]
    assert apply_json_patch(a, ops) == apply_merge_patch(a, create_merge_patch(a, b)) == b


containers = st.lists(
    st.fixed_dictionaries({"name": names, "image": st.sampled_from(["a:1", "b:2", "c:3"])}),
    max_size=4, unique_by=lambda c: c["name"],
)


def deployment(items, replicas):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": items}}}}


@settings(max_examples=60)
@given(containers, st.integers(0, 5))
def test_applying_the_same_configuration_twice_is_a_no_op(items, replicas):
    cfg = deployment(items, replicas)
    once = server_side_apply(None, cfg, manager="m", force=False, gvk=DEPLOYMENT, now="2024-01-01T00:00:00Z")
    twice = server_side_apply(once, cfg, manager="m", force=False, gvk=DEPLOYMENT, now="2024-01-02T00:00:00Z")
    assert twice == once


@settings(max_examples=60)
@given(containers, containers)
def test_apply_result_holds_the_config_and_re_apply_prunes_dropped_containers(first, second):
    live = server_side_apply(None, deployment(first, 1), manager="m", force=False, gvk=DEPLOYMENT)
    obj = server_side_apply(live, deployment(second, 1), manager="m", force=False, gvk=DEPLOYMENT)
    got = obj["spec"]["template"]["spec"].get("containers", [])  # emptied list: key dropped, parents stay
    assert sorted(c["name"] for c in got) == sorted(c["name"] for c in second)
    for container in second:
        assert container in got


@given(containers, containers)
def test_compare_and_merge_are_consistent(first, second):
    from dockyard.cluster.api.patch import schema

    node = schema.schema_for(DEPLOYMENT)
    a, b = deployment(first, 1), deployment(second, 2)
    same = typed.compare(a, a, node)
    assert not (same.added or same.modified or same.removed)
    assert typed.merge(a, a, node) == a
    diff = typed.compare(a, b, node)
    assert ("f:spec", "f:replicas") in diff.modified
    assert not diff.added & diff.removed
