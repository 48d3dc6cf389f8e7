"""JSON Merge Patch (RFC 7386): the RFC's appendix examples and the diff round trip."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.cluster.api.patch import PatchError, apply_merge_patch, create_merge_patch

# RFC 7386 appendix A, wrapped in {"x": ...} where the RFC's target or patch is not an object.
CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"x": ["a", "b"]}, {"x": ["c", "d"]}, {"x": ["c", "d"]}),
    ({"x": {"a": "b"}}, {"x": ["c"]}, {"x": ["c"]}),
    ({"x": {"a": "foo"}}, {"x": None}, {}),
    ({"x": {"a": "foo"}}, {"x": "bar"}, {"x": "bar"}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({"x": [1, 2]}, {"x": {"a": "b", "c": None}}, {"x": {"a": "b"}}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    # kubectl patch --type=merge replaces the whole containers list (no merge keys).
    ({"spec": {"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]}},
     {"spec": {"containers": [{"name": "b", "image": "b2"}]}},
     {"spec": {"containers": [{"name": "b", "image": "b2"}]}}),
    ({"metadata": {"labels": {"app": "x", "tier": "web"}}}, {"metadata": {"labels": {"tier": None}}},
     {"metadata": {"labels": {"app": "x"}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), CASES)
def test_rfc7386_examples(target, patch, expected):
    before = copy.deepcopy(target)
    assert apply_merge_patch(target, patch) == expected
    assert target == before


def test_a_patch_that_is_not_an_object_is_rejected():
    with pytest.raises(PatchError) as info:
        apply_merge_patch({"a": 1}, ["c"])
    assert info.value.http_status == 400


scalars = st.booleans() | st.integers(-50, 50) | st.text(max_size=4)
no_null_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=10,
)
objects = st.dictionaries(st.text(max_size=3), no_null_values, max_size=4)


@given(objects, objects)
def test_apply_of_diff_reaches_the_target(a, b):
    assert apply_merge_patch(a, create_merge_patch(a, b)) == b


@given(objects, objects)
def test_merge_patch_is_idempotent(a, patch):
    once = apply_merge_patch(a, patch)
    assert apply_merge_patch(once, patch) == once


@given(objects)
def test_diff_of_equal_documents_is_empty(a):
    assert create_merge_patch(a, copy.deepcopy(a)) == {}
