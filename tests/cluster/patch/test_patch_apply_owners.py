"""Who an apply conflicts with after imperative writes (patch, edit, scale), as kube-apiserver decides.

Managers are keyed by name, operation, subresource and — for ``Update`` only — apiVersion, so an
``Update`` by ``kubectl`` (``kubectl scale``) and an ``Apply`` by ``kubectl`` are different owners.
The client-side → server-side hand-over lets ``kubectl`` take fields its last-applied annotation
lists only while the live value still matches the annotation; a field changed since is a conflict.
"""

from __future__ import annotations

import json
import re

import pytest

from dockyard.cluster.api.patch import ApplyConflict, server_side_apply, update_managed_fields
from dockyard.cluster.api.patch.lastapplied import encode_last_applied

DEPLOYMENT = ("apps", "v1", "Deployment")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
T1, T2, T3 = "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"


def dep(replicas: int, image: str = "busybox:1.36", **meta) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", **meta},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "main", "image": image}]}},
        },
    }


def apply(live, cfg, manager="kubectl", *, force=False, now=T3):
    return server_side_apply(live, cfg, manager=manager, force=force, gvk=DEPLOYMENT, now=now)


def write(live, new_spec, manager, *, subresource=None, now=T2):
    """An imperative write (patch, edit, scale) as the apiserver records it."""
    new = json.loads(json.dumps(live))
    new["spec"].update(new_spec)
    return update_managed_fields(live, new, manager=manager, gvk=DEPLOYMENT, subresource=subresource, now=now)


def owners(obj) -> set[tuple[str, str, str]]:
    return {
        (e["manager"], e["operation"], e.get("subresource", "")) for e in obj["metadata"]["managedFields"]
    }


def server_side_applied(with_annotation: bool) -> dict:
    """A Deployment last applied server-side by kubectl, optionally once client-side applied before."""
    if not with_annotation:
        return apply(None, dep(1), now=T1)
    csa = dep(1, annotations={LAST_APPLIED: encode_last_applied(dep(1))})
    live = update_managed_fields(None, csa, manager="kubectl-client-side-apply", gvk=DEPLOYMENT, now=T1)
    live = apply(live, dep(1), now=T1)
    assert json.loads(live["metadata"]["annotations"][LAST_APPLIED])["spec"]["replicas"] == 1
    return live


@pytest.mark.parametrize("with_annotation", [False, True], ids=["ssa-only", "after-csa"])
@pytest.mark.parametrize("writer", ["kubectl-patch", "kubectl-edit"])
def test_apply_conflicts_with_a_later_patch_or_edit(writer, with_annotation) -> None:
    live = write(server_side_applied(with_annotation), {"replicas": 2}, writer)
    with pytest.raises(ApplyConflict) as info:
        apply(live, dep(3))
    assert (
        str(info.value)
        == f'Apply failed with 1 conflict: conflict with "{writer}" using apps/v1: .spec.replicas'
    )
    assert info.value.conflicts == [(writer, ".spec.replicas")]
    # Applying the value the writer set shares the field instead of conflicting.
    shared = apply(live, dep(2))
    assert shared["spec"]["replicas"] == 2 and (writer, "Update", "") in owners(shared)


@pytest.mark.parametrize("with_annotation", [False, True], ids=["ssa-only", "after-csa"])
def test_an_update_by_kubectl_is_another_owner_than_its_apply(with_annotation) -> None:
    live = write(server_side_applied(with_annotation), {"replicas": 4}, "kubectl")
    assert {("kubectl", "Apply", ""), ("kubectl", "Update", "")} <= owners(live)
    with pytest.raises(
        ApplyConflict, match=re.escape('1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas')
    ):
        apply(live, dep(5))
    forced = apply(live, dep(5), force=True)
    assert forced["spec"]["replicas"] == 5
    assert ("kubectl", "Update", "") not in owners(forced)


@pytest.mark.parametrize("with_annotation", [False, True], ids=["ssa-only", "after-csa"])
def test_a_scale_subresource_owner_is_named_with_its_subresource(with_annotation) -> None:
    live = write(server_side_applied(with_annotation), {"replicas": 4}, "kubectl", subresource="scale")
    assert ("kubectl", "Update", "scale") in owners(live)
    with pytest.raises(ApplyConflict) as info:
        apply(live, dep(5))
    assert str(info.value) == (
        'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" '
        "using apps/v1: .spec.replicas"
    )
    assert info.value.causes == [
        {
            "type": "FieldManagerConflict",
            "field": ".spec.replicas",
            "message": 'conflict with "kubectl" with subresource "scale" using apps/v1',
        }
    ]


def test_annotation_still_hands_over_fields_nobody_changed() -> None:
    # A CSA object switched to SSA: the image still matches the annotation so kubectl may take it,
    # but replicas was scaled since, so only replicas is reported.
    csa = dep(1, annotations={LAST_APPLIED: encode_last_applied(dep(1))})
    live = update_managed_fields(None, csa, manager="kubectl-client-side-apply", gvk=DEPLOYMENT, now=T1)
    live = write(live, {"replicas": 4}, "kubectl", subresource="scale")
    with pytest.raises(ApplyConflict) as info:
        apply(live, dep(5, image="busybox:1.37"))
    assert info.value.conflicts == [("kubectl", ".spec.replicas")]
    taken = apply(live, dep(4, image="busybox:1.37"))
    assert taken["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert json.loads(taken["metadata"]["annotations"][LAST_APPLIED])["spec"]["replicas"] == 4


def test_annotation_of_another_api_version_allows_nothing() -> None:
    old = dict(dep(1), apiVersion="apps/v1beta1")
    csa = dep(1, annotations={LAST_APPLIED: encode_last_applied(old)})
    live = update_managed_fields(None, csa, manager="kubectl-client-side-apply", gvk=DEPLOYMENT, now=T1)
    with pytest.raises(
        ApplyConflict, match=re.escape('"kubectl-client-side-apply" using apps/v1: .spec.replicas')
    ):
        apply(live, dep(3))
