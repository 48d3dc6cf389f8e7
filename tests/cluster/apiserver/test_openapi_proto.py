"""/openapi/v2 in gnostic's protobuf encoding, read back field by field with our own wire reader.

kubectl reads the PATCH operations' ``fieldValidation`` parameter and the GVK vendor extension from
it (``kubectl apply`` of a ``v1 List`` depends on it; tests/cluster/apiserver/test_kinds_tables.py
runs that end to end)."""

from __future__ import annotations

import json
import struct

from dockyard.cluster.api.kinds import Registry
from dockyard.cluster.api.protobuf.wire import fields
from dockyard.cluster.apiserver import openapi, openapi_proto


def parse(buf) -> dict[int, list]:
    out: dict[int, list] = {}
    for number, _wire, value in fields(buf):
        out.setdefault(number, []).append(value)
    return out


def text(view) -> str:
    return bytes(view).decode()


def test_document_carries_paths_operations_parameters_extensions_and_definitions() -> None:
    doc = openapi.v2_document(Registry())
    top = parse(openapi_proto.document(doc))
    assert text(top[1][0]) == "2.0"
    assert text(parse(top[2][0])[2][0]) == doc["info"]["version"]
    paths = {text(parse(p)[1][0]): parse(parse(p)[2][0]) for p in parse(top[8][0])[2]}
    assert set(paths) == set(doc["paths"])
    patch = parse(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"][8][0])  # PathItem.patch
    assert text(patch[5][0]) == "patchDeployment"
    query = [parse(parse(parse(parse(item)[1][0])[2][0])[3][0]) for item in patch[8]]  # → QueryParameterSubSchema
    assert {text(q[4][0]) for q in query} >= {"fieldValidation", "dryRun", "fieldManager"}
    extensions = {text(parse(e)[1][0]): json.loads(text(parse(parse(e)[2][0])[2][0])) for e in patch[13]}
    assert extensions["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    definitions = {text(parse(d)[1][0]): parse(parse(d)[2][0]) for d in parse(top[9][0])[1]}
    assert set(definitions) == set(doc["definitions"])
    spec = definitions["io.k8s.api.apps.v1.DeploymentSpec"]
    assert "selector" in {text(r) for r in spec[19]}  # required
    props = {text(parse(p)[1][0]): parse(parse(p)[2][0]) for p in parse(spec[25][0])[1]}
    assert text(parse(props["replicas"][22][0])[1][0]) == "integer"
    strategy = {text(parse(e)[1][0]): text(parse(parse(e)[2][0])[2][0]) for e in props["strategy"][31]}
    assert json.loads(strategy["x-kubernetes-patch-strategy"]) == "retainKeys"


def test_scalars_encode_as_protobuf_does() -> None:
    node = parse(openapi_proto.schema({"maximum": 1.5, "minLength": 3, "uniqueItems": True,
                                       "additionalProperties": False, "enum": ["a", 1]}))
    assert struct.unpack("<d", node[7][0].to_bytes(8, "little"))[0] == 1.5
    assert node[12] == [3] and node[16] == [1]
    assert bytes(node[21][0]) == b"\x10\x00"  # AdditionalPropertiesItem.boolean = false, explicitly
    assert [json.loads(text(parse(e)[2][0])) for e in node[20]] == ["a", 1]
    assert openapi_proto._varint(-1) == b"\xff" * 9 + b"\x01"
