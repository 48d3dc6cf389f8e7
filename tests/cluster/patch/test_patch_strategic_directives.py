"""Strategic merge patch directives on a small schema, the way upstream's own tests exercise them.

Each case applies a patch (as kubectl's three-way diff would produce it) to the *current* object
and checks the result, including the ordering rules for ``$setElementOrder``.
"""

from __future__ import annotations

import pytest

from dockyard.cluster.api.patch import PatchError
from dockyard.cluster.api.patch.schema import SchemaNode
from dockyard.cluster.api.patch.strategic import strategic_merge

ROOT = SchemaNode.from_openapi({
    "type": "object",
    "properties": {
        "mergingList": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                        "x-kubernetes-patch-merge-key": "name",
                        "items": {"type": "object", "properties": {
                            "name": {"type": "string"},
                            "tags": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                                     "items": {"type": "string"}}}}},
        "mergingIntList": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                           "items": {"type": "integer"}},
        "nonMergingList": {"type": "array", "items": {"type": "object"}},
        "replacingMap": {"type": "object", "x-kubernetes-patch-strategy": "replace"},
        "retainKeysMap": {"type": "object", "x-kubernetes-patch-strategy": "retainKeys", "properties": {
            "name": {"type": "string"}, "value": {"type": "string"},
            "mergingIntList": {"type": "array", "x-kubernetes-patch-strategy": "merge",
                               "items": {"type": "integer"}}}},
    },
})


def ml(*names, **extra):
    return [{"name": n, **extra.get(n, {})} for n in names]


CASES = [
    ("delete from an int list keeps order", {"mergingIntList": [1, 2, 3, 4]},
     {"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]},
     {"mergingIntList": [1, 2, 4]}),
    ("add to an int list next to server-only items", {"mergingIntList": [1, 2, 4]},
     {"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3]}, {"mergingIntList": [1, 2, 3, 4]}),
    ("order list naming an absent item", {"mergingIntList": [1, 3]},
     {"$setElementOrder/mergingIntList": [3, 2, 1]}, {"mergingIntList": [3, 1]}),
    ("duplicates in a merging int list collapse", {"mergingIntList": [1, 2]}, {"mergingIntList": [2, 3, 3]},
     {"mergingIntList": [1, 2, 3]}),
    ("delete all duplicates of a scalar", {"mergingIntList": [1, 3, 2, 3]},
     {"$deleteFromPrimitiveList/mergingIntList": [3]}, {"mergingIntList": [1, 2]}),
    ("delete a missing item is a no-op", {"mergingList": ml("hello", "hello2")},
     {"mergingList": [{"name": "hello"}, {"name": "doesntexist", "$patch": "delete"}]},
     {"mergingList": ml("hello", "hello2")}),
    ("order of maps with a new item", {"mergingList": ml("1", "3")},
     {"$setElementOrder/mergingList": [{"name": "3"}, {"name": "2"}, {"name": "1"}],
      "mergingList": [{"name": "2", "v": 2}]},
     {"mergingList": [{"name": "3"}, {"name": "2", "v": 2}, {"name": "1"}]}),
    # x was before b in the live list, so it stays before b; a follows b as the order says.
    ("server-only items interleave by live position", {"mergingList": ml("a", "x", "b")},
     {"$setElementOrder/mergingList": [{"name": "b"}, {"name": "a"}]},
     {"mergingList": ml("x", "b", "a")}),
    ("nested merging list inside an item", {"mergingList": [{"name": "a", "tags": ["t1"]}]},
     {"mergingList": [{"name": "a", "tags": ["t2"]}]}, {"mergingList": [{"name": "a", "tags": ["t2", "t1"]}]}),
    ("list without strategy is replaced", {"nonMergingList": [{"name": "a"}, {"name": "b"}]},
     {"nonMergingList": [{"name": "c"}]}, {"nonMergingList": [{"name": "c"}]}),
    ("map with replace strategy is replaced", {"replacingMap": {"a": 1, "b": 2}}, {"replacingMap": {"c": 3}},
     {"replacingMap": {"c": 3}}),
    ("retainKeys keeps nested merging list and adds value",
     {"retainKeysMap": {"name": "foo", "mergingIntList": [1, 2, 3]}},
     {"retainKeysMap": {"$retainKeys": ["mergingIntList", "name", "value"], "value": "bar"}},
     {"retainKeysMap": {"name": "foo", "mergingIntList": [1, 2, 3], "value": "bar"}}),
    ("retainKeys drops unlisted keys", {"retainKeysMap": {"name": "foo", "value": "bar"}},
     {"retainKeysMap": {"$retainKeys": ["name"], "name": "baz"}}, {"retainKeysMap": {"name": "baz"}}),
    ("whole-map delete at top level", {"retainKeysMap": {"name": "foo"}, "other": 1},
     {"$patch": "delete"}, {}),
    ("whole-map replace at top level", {"a": 1, "mergingIntList": [1]},
     {"$patch": "replace", "b": 2}, {"b": 2}),
    ("null for a missing key is ignored", {"a": 1}, {"b": None}, {"a": 1}),
    ("new key with nested directives is cleaned", {},
     {"mergingList": [{"name": "a"}, {"name": "b", "$patch": "delete"}], "replacingMap": {"$patch": "replace", "x": 1}},
     {"mergingList": [{"name": "a"}], "replacingMap": {"x": 1}}),
]


@pytest.mark.parametrize(("current", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_directives(current, patch, expected):
    assert strategic_merge(current, patch, ROOT) == expected


@pytest.mark.parametrize(
    ("patch", "text"),
    [
        ({"mergingList": [{"$patch": "merge"}]}, "merging lists cannot yet be specified"),
        ({"mergingList": [[1]]}, "lists of lists"),
        ({"mergingIntList": [1, "a"]}, "not identical"),
        ({"$retainKeys": "name"}, "retainKeys"),
        ({"$setElementOrder/mergingList": "x"}, "setElementOrder"),
        ({"$deleteFromPrimitiveList/": [1]}, "primitive list"),
    ],
)
def test_malformed_directives_are_rejected(patch, text):
    current = {"mergingList": [{"name": "a"}], "mergingIntList": [1]}
    with pytest.raises(PatchError, match=text):
        strategic_merge(current, patch, ROOT)
