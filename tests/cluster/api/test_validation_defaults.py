"""Defaulting and validation give what a user of the real server sees."""

from __future__ import annotations

from dockyard.cluster.api import defaults, validation


def pod(**spec) -> dict:
    return {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


def test_pod_defaults() -> None:
    obj = pod()
    defaults.apply_defaults("", "Pod", obj)
    spec = obj["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["terminationGracePeriodSeconds"]) == \
        ("Always", "ClusterFirst", 30)
    assert spec["containers"][0]["imagePullPolicy"] == "Always"  # untagged means :latest
    assert obj["status"]["phase"] == "Pending"


def test_deployment_defaults() -> None:
    obj = {"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": []}}}}
    defaults.apply_defaults("apps", "Deployment", obj)
    assert obj["spec"]["strategy"] == {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (obj["spec"]["replicas"], obj["spec"]["revisionHistoryLimit"], obj["spec"]["progressDeadlineSeconds"]) == \
        (1, 10, 600)


def test_names_and_fields_are_validated_with_upstream_paths() -> None:
    causes = validation.validate("", "Pod", {"metadata": {"name": "Bad_Name"}, "spec": {}}, namespaced=True)
    assert [(c["field"], c["reason"]) for c in causes] == [
        ("metadata.name", "FieldValueInvalid"), ("spec.containers", "FieldValueRequired")]
    assert validation.validate("", "Service", {"metadata": {"name": "1abc"}, "spec": {"ports": [{"port": 80}]}},
                               namespaced=True)[0]["message"].startswith('Invalid value: "1abc": a DNS-1035 label')
    dep = {"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {
        "metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    causes = validation.validate("apps", "Deployment", dep, namespaced=True)
    assert causes[0]["field"] == "spec.template.metadata.labels"
    assert causes[0]["message"].endswith("`selector` does not match template `labels`")
    job = {"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}],
                                                                       "restartPolicy": "Always"}}}}
    assert validation.validate("batch", "Job", job, namespaced=True)[0]["field"] == "spec.template.spec.restartPolicy"
