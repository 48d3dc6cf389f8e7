"""JSON Patch (RFC 6902): the RFC's own examples, upstream's error statuses, and invariants."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.base.errors import InvalidArgument
from dockyard.cluster.api.patch import PatchError, apply_json_patch

# (name, document, operations, expected) — most from RFC 6902 appendix A.
CASES = [
    ("A.1 add object member", {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
     {"baz": "qux", "foo": "bar"}),
    ("A.2 add array element", {"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
     {"foo": ["bar", "qux", "baz"]}),
    ("A.3 remove object member", {"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}],
     {"foo": "bar"}),
    ("A.4 remove array element", {"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}],
     {"foo": ["bar", "baz"]}),
    ("A.5 replace", {"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
     {"baz": "boo", "foo": "bar"}),
    ("A.6 move value", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ("A.7 move array element", {"foo": ["all", "grass", "cows", "eat"]},
     [{"op": "move", "from": "/foo/1", "path": "/foo/3"}], {"foo": ["all", "cows", "eat", "grass"]}),
    ("A.8 test success", {"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ("A.10 add nested member", {"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    ("A.11 ignore unrecognised members", {"foo": "bar"},
     [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
    ("A.14 ~ escape ordering", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}],
     {"/": 9, "~1": 10}),
    ("A.16 add array value", {"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
     {"foo": ["bar", ["abc", "def"]]}),
    ("escaped slash in label key", {"metadata": {"labels": {"app.kubernetes.io/name": "a"}}},
     [{"op": "replace", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "b"}],
     {"metadata": {"labels": {"app.kubernetes.io/name": "b"}}}),
    ("kubectl docs: add a toleration-like item", {"spec": {"tolerations": [{"key": "a"}]}},
     [{"op": "add", "path": "/spec/tolerations/-", "value": {"key": "b"}}],
     {"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}),
    ("copy", {"a": {"b": [1]}}, [{"op": "copy", "from": "/a", "path": "/c"}], {"a": {"b": [1]}, "c": {"b": [1]}}),
    ("negative index counts from the end (evanphx v4)", {"l": [1, 2, 3]},
     [{"op": "remove", "path": "/l/-1"}], {"l": [1, 2]}),
    ("test of a missing path against null passes", {"a": 1}, [{"op": "test", "path": "/b", "value": None}],
     {"a": 1}),
    ("replace then test in sequence", {"spec": {"replicas": 1}},
     [{"op": "replace", "path": "/spec/replicas", "value": 3}, {"op": "test", "path": "/spec/replicas", "value": 3}],
     {"spec": {"replicas": 3}}),
]


@pytest.mark.parametrize(("doc", "ops", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_applies_like_rfc6902(doc, ops, expected):
    assert apply_json_patch(doc, ops) == expected


FAILURES = [
    ("A.9 test failure", {"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], 0, "test failed"),
    ("A.12 add to nonexistent target", {"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}], 0,
     "missing path"),
    ("A.15 comparing strings and numbers", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}], 0,
     "test failed"),
    ("remove missing key", {"a": 1}, [{"op": "remove", "path": "/b"}], 0, "missing key"),
    ("replace missing key", {"a": 1}, [{"op": "add", "path": "/x", "value": 1}, {"op": "replace", "path": "/b",
                                                                               "value": 2}], 1, "missing key"),
    ("index past end", {"l": [1]}, [{"op": "add", "path": "/l/5", "value": 2}], 0, "invalid index"),
    ("unknown op", {"a": 1}, [{"op": "frobnicate", "path": "/a"}], 0, "Unexpected kind"),
    ("missing value", {"a": 1}, [{"op": "add", "path": "/b"}], 0, "missing value"),
    ("move into own child", {"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}], 0, "prefix"),
    ("boolean is not a number", {"a": 1}, [{"op": "test", "path": "/a", "value": True}], 0, "test failed"),
]


@pytest.mark.parametrize(("doc", "ops", "index", "text"), [c[1:] for c in FAILURES], ids=[c[0] for c in FAILURES])
def test_failures_are_422_with_the_op_index(doc, ops, index, text):
    with pytest.raises(PatchError) as info:
        apply_json_patch(doc, ops)
    assert info.value.http_status == 422
    assert info.value.op_index == index
    assert text in str(info.value)
    assert f"operation {index}" in str(info.value)
    assert isinstance(info.value, InvalidArgument)


def test_malformed_bodies_are_400():
    for body in ({"op": "add"}, ["not an object"]):
        with pytest.raises(PatchError) as info:
            apply_json_patch({}, body)
        assert info.value.http_status == 400


def test_too_many_operations_is_413():
    with pytest.raises(PatchError) as info:
        apply_json_patch({}, [{"op": "test", "path": "", "value": {}}] * 10_001)
    assert info.value.http_status == 413


def test_failed_patch_changes_nothing_and_input_is_never_mutated():
    doc = {"spec": {"replicas": 1, "list": [1, 2]}}
    before = copy.deepcopy(doc)
    with pytest.raises(PatchError):
        apply_json_patch(doc, [{"op": "add", "path": "/spec/replicas", "value": 5},
                               {"op": "test", "path": "/spec/replicas", "value": 1}])
    result = apply_json_patch(doc, [{"op": "add", "path": "/spec/list/-", "value": 3}])
    assert doc == before
    result["spec"]["list"].append(4)
    assert doc == before


json_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)
keys = st.text(alphabet="ab/~c", min_size=1, max_size=4)


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


@given(st.dictionaries(keys, json_values, max_size=5), keys, json_values)
def test_add_then_remove_restores_a_missing_key(doc, key, value):
    if key in doc:
        return
    added = apply_json_patch(doc, [{"op": "add", "path": _pointer(key), "value": value}])
    assert added[key] == value
    assert apply_json_patch(added, [{"op": "remove", "path": _pointer(key)}]) == doc


@given(st.dictionaries(keys, json_values, min_size=1, max_size=5), json_values)
def test_replace_then_test_passes_and_copy_duplicates(doc, value):
    key = sorted(doc)[0]
    patched = apply_json_patch(doc, [{"op": "replace", "path": _pointer(key), "value": value},
                                     {"op": "test", "path": _pointer(key), "value": value},
                                     {"op": "copy", "from": _pointer(key), "path": "/copied"}])
    assert patched["copied"] == value


@given(st.dictionaries(keys, json_values, min_size=1, max_size=5))
def test_move_to_self_and_empty_patch_are_identity(doc):
    key = sorted(doc)[0]
    assert apply_json_patch(doc, []) == doc
    assert apply_json_patch(doc, [{"op": "move", "from": _pointer(key), "path": _pointer(key)}]) == doc
