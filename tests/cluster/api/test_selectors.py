"""Label and field selectors parse and match as upstream's do."""

from __future__ import annotations

import pytest

from dockyard.base.errors import InvalidArgument
from dockyard.cluster.api.selectors import (
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)

LABELS = {"app": "web", "tier": "front", "n": "5"}


@pytest.mark.parametrize(("selector", "matches"), [
    ("app=web", True), ("app==web", True), ("app!=web", False), ("app in (web,db)", True),
    ("app notin (web,db)", False), ("tier", True), ("!tier", False), ("missing", False), ("!missing", True),
    ("app=web,tier in (front)", True), ("app=web,tier=back", False), ("n>3", True), ("n<3", False),
    ("missing!=x", True), ("", True),
])
def test_label_selector_operators(selector: str, matches: bool) -> None:
    assert labels_match(parse_label_selector(selector), LABELS) is matches


@pytest.mark.parametrize("bad", ["a in (b", "=x", "a=b=c=", "a in (b c)", "bad key!=1", "n>x"])
def test_invalid_label_selectors_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_label_selector(bad)


def test_field_selectors_per_kind() -> None:
    pod = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    assert fields_match(parse_field_selector("spec.nodeName=n1,status.phase!=Pending", "Pod"), pod)
    assert not fields_match(parse_field_selector("metadata.name==q", "Pod"), pod)
    event = {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"}}
    assert fields_match(parse_field_selector("involvedObject.kind=Pod,involvedObject.name=p", "Event"), event)
    with pytest.raises(InvalidArgument, match=r"field label not supported: spec\.nodeName"):
        parse_field_selector("spec.nodeName=n1", "ConfigMap")
