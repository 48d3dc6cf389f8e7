"""FieldsV1 encoding, path printing and the schema's patch metadata."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dockyard.cluster.api.patch import fieldpath, schema

CONTAINER = 'k:{"name":"nginx"}'


def test_fields_v1_marks_members_that_have_children_with_a_dot():
    paths = {("f:spec", "f:containers", CONTAINER), ("f:spec", "f:containers", CONTAINER, "f:image"),
             ("f:metadata", "f:labels", "f:app")}
    doc = fieldpath.to_fields_v1(paths)
    assert doc == {"f:metadata": {"f:labels": {"f:app": {}}},
                   "f:spec": {"f:containers": {CONTAINER: {".": {}, "f:image": {}}}}}
    assert list(doc["f:spec"]["f:containers"][CONTAINER]) == [".", "f:image"]
    assert fieldpath.from_fields_v1(doc) == paths


def test_keys_are_sorted_json_and_elements_ordered_fields_keys_values():
    assert fieldpath.key({"protocol": "TCP", "containerPort": 80}) == 'k:{"containerPort":80,"protocol":"TCP"}'
    assert fieldpath.value("example.com/x") == 'v:"example.com/x"'
    doc = fieldpath.to_fields_v1({("v:1",), ("k:{}",), ("f:z",), ("i:0",)})
    assert list(doc) == ["f:z", "k:{}", "v:1", "i:0"]


def test_paths_print_like_upstream():
    path = ("f:spec", "f:template", "f:spec", "f:containers", CONTAINER, "f:ports",
            'k:{"containerPort":80,"protocol":"TCP"}', "f:containerPort")
    assert fieldpath.path_string(path) == (
        '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].containerPort')
    assert fieldpath.path_string(("f:metadata", "f:finalizers", 'v:"a"')) == '.metadata.finalizers[="a"]'
    assert fieldpath.path_string(("f:x", "i:3")) == ".x[3]"


def test_ordered_lists_members_before_children():
    paths = {("f:spec", "f:a", "f:x"), ("f:spec", "f:b"), ("f:spec", "f:a", "f:w")}
    assert fieldpath.ordered(paths) == [("f:spec", "f:b"), ("f:spec", "f:a", "f:w"), ("f:spec", "f:a", "f:x")]


elements = st.sampled_from(["f:a", "f:b", "f:spec", CONTAINER, 'v:"x"', "i:0"])
path_sets = st.sets(st.lists(elements, min_size=1, max_size=4).map(tuple), max_size=12)


@given(path_sets)
def test_fields_v1_round_trips(paths):
    assert fieldpath.from_fields_v1(fieldpath.to_fields_v1(paths)) == paths


def test_schema_metadata_comes_from_the_upstream_openapi():
    deployment = schema.schema_for(("apps", "v1", "Deployment"))
    assert deployment is not None
    spec = deployment.field("spec")
    assert spec.field("strategy").strategies == ("retainKeys",)
    pod_spec = spec.field("template").field("spec")
    containers = pod_spec.field("containers")
    assert (containers.merge_key, containers.list_type, containers.list_map_keys) == ("name", "map", ("name",))
    assert pod_spec.field("volumes").strategies == ("merge", "retainKeys")
    assert containers.items().field("ports").list_map_keys == ("containerPort", "protocol")
    assert containers.items().field("volumeMounts").merge_key == "mountPath"
    assert spec.field("selector").map_type == "atomic"
    assert deployment.field("metadata").field("finalizers").list_type == "set"
    assert schema.schema_for(("example.com", "v1", "Widget")) is None
    assert schema.is_builtin(("", "v1", "Pod")) and not schema.is_builtin(("", "v1", "Widget"))


def test_crd_schemas_can_supply_list_metadata():
    node = schema.SchemaNode.from_openapi({"type": "object", "properties": {"items": {
        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
        "items": {"type": "object"}}}})
    assert node.field("items").list_map_keys == ("id",)


def test_keys_and_values_sort_by_value_not_text():
    ports = {("f:ports", fieldpath.key({"containerPort": p, "protocol": "TCP"})) for p in (443, 80, 8080)}
    doc = fieldpath.to_fields_v1(ports)
    assert [fieldpath.element_string(k) for k in doc["f:ports"]] == [
        '[containerPort=80,protocol="TCP"]', '[containerPort=443,protocol="TCP"]',
        '[containerPort=8080,protocol="TCP"]']
    assert fieldpath.key({"v": True}) != fieldpath.key({"v": 1})
