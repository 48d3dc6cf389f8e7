"""autoscaling/v1 ⇄ v2 HorizontalPodAutoscaler conversion, as kube-apiserver converts on read and write."""

from __future__ import annotations

import json

from dockyard.cluster.api.conversion import BEHAVIOR, METRICS, convert, hpa_v1_to_v2, hpa_v2_to_v1

CPU70 = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
MEMORY = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}}
REF = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def v2(metrics: list, **spec: object) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 4, "metrics": metrics, **spec},
            "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 55}}}]}}


def test_cpu_utilization_becomes_the_v1_target_and_back() -> None:
    old = v2([CPU70])
    one = hpa_v2_to_v1(old)
    assert one["apiVersion"] == "autoscaling/v1"
    assert one["spec"] == {"scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 4,
                           "targetCPUUtilizationPercentage": 70}
    assert one["status"] == {"currentReplicas": 2, "desiredReplicas": 2, "currentCPUUtilizationPercentage": 55}
    assert "annotations" not in one["metadata"]
    assert hpa_v1_to_v2(one) == old


def test_what_v1_cannot_express_rides_in_annotations_and_survives_a_round_trip() -> None:
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60}}
    old = v2([CPU70, MEMORY], behavior=behavior)
    one = hpa_v2_to_v1(old)
    assert json.loads(one["metadata"]["annotations"][METRICS]) == [MEMORY]
    assert json.loads(one["metadata"]["annotations"][BEHAVIOR]) == behavior
    assert "metrics" not in one["spec"] and "behavior" not in one["spec"]
    back = hpa_v1_to_v2(one)
    assert back["spec"]["metrics"] == [CPU70, MEMORY] and back["spec"]["behavior"] == behavior
    assert "annotations" not in back["metadata"]


def test_v1_without_a_target_has_no_metrics_and_same_version_is_identity() -> None:
    one = {"apiVersion": "autoscaling/v1", "metadata": {"name": "x"}, "spec": {"scaleTargetRef": REF, "maxReplicas": 3}}
    assert "metrics" not in hpa_v1_to_v2(one)["spec"]  # the v2 defaulting then adds cpu 80%
    assert convert("autoscaling", "HorizontalPodAutoscaler", one, from_version="v1", to_version="v1") is one
