"""The protobuf body decoder on hand-built wire bytes: each wire rule, each special type, each error.

Real kubectl bytes are covered by tests/cluster/apiserver/test_kubectl_protobuf.py; here a tiny
encoder builds the edge cases kubectl never sends (negative varints, packed fields, bad bytes).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.cluster.api.errors import ApiError, BadRequest, UnsupportedMediaType
from dockyard.cluster.api.protobuf import MAGIC, decode_object
from dockyard.cluster.api.protobuf.schema import SCALARS, SPECIAL, kinds, tables


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def vfield(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def lfield(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def entry(key: str, value: bytes | str) -> bytes:
    return lfield(1, key) + lfield(2, value)


def envelope(api_version: str, kind: str, raw: bytes, encoding: str = "") -> bytes:
    return MAGIC + lfield(1, lfield(1, api_version) + lfield(2, kind)) + lfield(2, raw) + lfield(3, encoding) + \
        lfield(4, "")


META = lfield(1, lfield(1, "x") + lfield(2, "") + vfield(7, 0) + lfield(8, b""))  # Go writes every plain field


def test_configmap_maps_bytes_and_a_pointer_false_is_kept() -> None:
    raw = META + lfield(2, entry("a", "1")) + lfield(2, entry("b", "")) + lfield(3, entry("bin", b"\x00\xff")) + \
        vfield(4, 0)
    assert decode_object(envelope("v1", "ConfigMap", raw)) == {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
        "data": {"a": "1", "b": ""}, "binaryData": {"bin": "AP8="}, "immutable": False}


def test_negative_ints_pointer_zero_int_or_string_and_time() -> None:
    strategy = lfield(2, lfield(1, vfield(1, 0) + vfield(2, 2)) + lfield(2, vfield(1, 1) + lfield(3, "25%")))
    spec = vfield(1, 0) + vfield(5, -1) + lfield(4, lfield(1, "RollingUpdate") + strategy)
    meta = lfield(1, lfield(1, "d") + lfield(8, vfield(1, 1700000000)))
    got = decode_object(envelope("apps/v1", "Deployment", meta + lfield(2, spec)))
    assert got["metadata"] == {"name": "d", "creationTimestamp": "2023-11-14T22:13:20Z"}
    assert got["spec"] == {"replicas": 0, "minReadySeconds": -1, "strategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2, "maxSurge": "25%"}}}


def test_packed_and_unpacked_repeated_quantities_inline_and_empty_strings_in_lists() -> None:
    sec = lfield(4, varint(5) + varint(1 << 40)) + vfield(4, 7)  # packed, then one more unpacked
    env = lfield(3, lfield(1, lfield(1, "cfg")) + lfield(2, "k"))  # ConfigMapKeySelector inlines its name
    container = lfield(1, "c") + lfield(7, lfield(1, "E") + lfield(3, env)) + \
        lfield(8, lfield(1, entry("cpu", lfield(1, "500m"))))
    pod = lfield(2, container) + lfield(14, sec)
    raw = META + lfield(2, lfield(6, lfield(2, pod)))  # JobSpec.template.spec
    got = decode_object(envelope("batch/v1", "Job", raw))["spec"]["template"]["spec"]
    assert got["securityContext"] == {"supplementalGroups": [5, 1 << 40, 7]}
    assert got["containers"] == [{"name": "c", "env": [{"name": "E", "valueFrom": {
        "configMapKeyRef": {"name": "cfg", "key": "k"}}}], "resources": {"limits": {"cpu": "500m"}}}]
    rule = lfield(1, "get") + lfield(2, "")
    assert decode_object(envelope("rbac.authorization.k8s.io/v1", "Role", META + lfield(2, rule)))["rules"] == \
        [{"verbs": ["get"], "apiGroups": [""]}]


def test_unknown_field_kind_or_encoding_is_415_naming_it() -> None:
    with pytest.raises(UnsupportedMediaType, match=r"field number 99 of message ConfigMap .*send the object as JSON"):
        decode_object(envelope("v1", "ConfigMap", META + vfield(99, 1)))
    with pytest.raises(UnsupportedMediaType, match=r"field number 16 of message ObjectMeta"):
        decode_object(envelope("v1", "ConfigMap", lfield(1, lfield(16, "x"))))
    with pytest.raises(UnsupportedMediaType, match=r"kind StorageClass of apiVersion storage.k8s.io/v1"):
        decode_object(envelope("storage.k8s.io/v1", "StorageClass", META))
    with pytest.raises(UnsupportedMediaType, match=r'content encoding "gzip"'):
        decode_object(envelope("v1", "ConfigMap", META, encoding="gzip"))


@pytest.mark.parametrize(("body", "words"), [
    (b"k8s\x01" + lfield(1, b""), "magic"),
    (MAGIC + b"\x0a\x80", "truncated varint"),
    (MAGIC + b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
    (MAGIC + b"\x0b", "wire type 3"),
    (MAGIC + b"\x0a\x05ab", "5 bytes long but only 2 remain"),
    (envelope("v1", "ConfigMap", lfield(1, vfield(1, 5))), "ObjectMeta.name (field 1) has wire type 0"),
    (envelope("v1", "ConfigMap", lfield(1, lfield(1, b"\xff\xfe"))), "not valid UTF-8"),
])
def test_malformed_bodies_are_400_with_one_line(body: bytes, words: str) -> None:
    with pytest.raises(BadRequest) as err:
        decode_object(body)
    assert err.value.code == 400 and words in err.value.message and "\n" not in err.value.message


def test_every_table_reference_resolves() -> None:
    known = tables()
    for name, fields in known.items():
        for f in fields.values():
            assert f.type in SCALARS or f.type in SPECIAL or f.type in known, f"{name}.{f.name}: {f.type}"
    assert all(message in known for message in kinds().values())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_escape_as_anything_but_an_api_error(tail: bytes) -> None:
    for body in (MAGIC + tail, envelope("v1", "ConfigMap", tail), envelope("apps/v1", "Deployment", tail)):
        try:
            decode_object(body)
        except ApiError as e:
            assert e.code in (400, 415)
