"""kubectl against our API server: the commands users type, and the output the real server gives."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import time
from collections.abc import Callable

import pytest

pytestmark = pytest.mark.e2e

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {{app: web}}
  ports:
  - port: 80
"""


@pytest.fixture(params=("1.32", "1.33"))
def kubectl(request, server) -> Callable[..., subprocess.CompletedProcess[str]]:
    """One exact kubectl client: the typed-command scenarios run with both protobuf-sending minors."""
    return functools.partial(server.kubectl, version=request.param)


def lines(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", ln.strip()) for ln in text.strip().splitlines()]


def test_version_dispatches_to_the_newest_kubectl(server) -> None:
    versions = json.loads(server.kubectl("version", "-o", "json").stdout)
    # The dispatcher picks the client matching the server: 1.33 sends protobuf bodies, which we decode.
    assert versions["serverVersion"]["minor"] == "33" and versions["clientVersion"]["minor"] == "33"
    assert server.kubectl("get", "--raw", "/readyz").stdout == "ok"


def test_apply_client_side_then_server_side_twice_with_a_change(server, namespace, tmp_path) -> None:
    manifest = tmp_path / "web.yaml"
    ns = ("-n", namespace)
    manifest.write_text(DEPLOYMENT.format(replicas=1))
    out = server.kubectl("apply", *ns, "-f", str(manifest)).stdout
    assert out == "deployment.apps/web created\nservice/web created\n"
    assert server.kubectl("apply", *ns, "-f", str(manifest)).stdout == \
        "deployment.apps/web unchanged\nservice/web unchanged\n"
    manifest.write_text(DEPLOYMENT.format(replicas=3))
    assert server.kubectl("apply", *ns, "-f", str(manifest)).stdout.splitlines()[0] == "deployment.apps/web configured"
    manifest.write_text(DEPLOYMENT.format(replicas=4))
    out = server.kubectl("apply", *ns, "--server-side", "-f", str(manifest)).stdout
    assert out == "deployment.apps/web serverside-applied\nservice/web serverside-applied\n"
    manifest.write_text(DEPLOYMENT.format(replicas=5))
    server.kubectl("apply", *ns, "--server-side", "-f", str(manifest))
    dep = json.loads(server.kubectl("get", *ns, "deploy", "web", "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 5
    assert dep["spec"]["strategy"] == {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert dep["spec"]["revisionHistoryLimit"] == 10 and dep["spec"]["progressDeadlineSeconds"] == 600
    assert dep["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    assert dep["metadata"]["generation"] == 4
    # A field another manager owns conflicts under server-side apply unless forced.
    manifest.write_text(DEPLOYMENT.format(replicas=6))
    conflict = server.kubectl("apply", *ns, "--server-side", "--field-manager=other", "-f", str(manifest),
                              check=False)
    assert conflict.stderr.startswith('error: Apply failed with 1 conflict: conflict with "kubectl": '
                                      ".spec.replicas\n")
    server.kubectl("apply", *ns, "--server-side", "--field-manager=other", "--force-conflicts", "-f", str(manifest))
    assert server.kubectl("get", *ns, "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "6"


def test_get_tables_yaml_and_describe(server, namespace, tmp_path) -> None:
    ns = ("-n", namespace)
    (tmp_path / "w.yaml").write_text(DEPLOYMENT.format(replicas=2))
    server.kubectl("apply", *ns, "-f", str(tmp_path / "w.yaml"))
    table = lines(server.kubectl("get", *ns, "deploy").stdout)
    assert table[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1][:4] == ["web", "0/2", "0", "0"] and re.fullmatch(r"\d+s", table[1][4])
    wide = lines(server.kubectl("get", *ns, "deploy", "-o", "wide").stdout)
    assert wide[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1][5:] == ["main", "busybox:1.36", "app=web"]
    svc = lines(server.kubectl("get", *ns, "svc").stdout)
    assert svc[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert svc[1][1] == "ClusterIP" and svc[1][3:5] == ["<none>", "80/TCP"]
    assert re.fullmatch(r"10\.(9[6-9]|10\d|11[01])\.\d+\.\d+", svc[1][2])
    yaml_out = server.kubectl("get", *ns, "deploy", "web", "-o", "yaml").stdout
    assert yaml_out.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n")
    assert "  progressDeadlineSeconds: 600\n" in yaml_out
    described = server.kubectl("describe", *ns, "deploy", "web").stdout
    assert re.search(r"^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$",
                     described, re.M)
    assert re.search(r"^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$", described, re.M)
    assert lines(server.kubectl("get", "ns", namespace).stdout)[1][:2] == [namespace, "Active"]


def test_label_annotate_patch_scale_and_edit(server, namespace, kubectl) -> None:
    ns = ("-n", namespace)
    kubectl("create", *ns, "deployment", "app", "--image=busybox:1.36")
    assert kubectl("label", *ns, "deploy", "app", "tier=web").stdout == "deployment.apps/app labeled\n"
    assert kubectl("annotate", *ns, "deploy", "app", "note=hi").stdout == "deployment.apps/app annotated\n"
    kubectl("patch", *ns, "deploy", "app", "-p", '{"spec":{"template":{"spec":{"containers":'
                   '[{"name":"busybox","image":"busybox:1.37"}]}}}}')
    kubectl("patch", *ns, "deploy", "app", "--type=merge", "-p", '{"metadata":{"labels":{"x":"y"}}}')
    kubectl("patch", *ns, "deploy", "app", "--type=json",
                   "-p", '[{"op":"add","path":"/spec/minReadySeconds","value":5}]')
    assert kubectl("scale", *ns, "deploy", "app", "--replicas=3").stdout == "deployment.apps/app scaled\n"
    kubectl("edit", *ns, "deploy", "app", env={"KUBE_EDITOR": "sed -i s/minReadySeconds:\\ 5/minReadySeconds:\\ 7/"})
    dep = json.loads(kubectl("get", *ns, "deploy", "app", "-o", "json").stdout)
    assert dep["metadata"]["labels"] == {"app": "app", "tier": "web", "x": "y"}
    assert dep["metadata"]["annotations"] == {"note": "hi"}
    assert [c["image"] for c in dep["spec"]["template"]["spec"]["containers"]] == ["busybox:1.37"]
    assert dep["spec"]["replicas"] == 3 and dep["spec"]["minReadySeconds"] == 7
    shown = lines(kubectl("get", *ns, "deploy", "--show-labels", "-l", "tier=web").stdout)
    assert shown[1][0] == "app" and shown[1][-1] == "app=app,tier=web,x=y"
    assert kubectl("get", *ns, "deploy", "-l", "tier!=web").stderr.strip() == \
        f"No resources found in {namespace} namespace."


def test_get_watch_sees_an_update(server, namespace) -> None:
    ns = ("-n", namespace)
    server.kubectl("create", *ns, "configmap", "watched", "--from-literal=a=1")
    proc = subprocess.Popen(["kubectl", "get", *ns, "configmap", "watched", "-w"], env=server.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        header = proc.stdout.readline()
        first = proc.stdout.readline()
        server.kubectl("patch", *ns, "configmap", "watched", "-p", '{"data":{"b":"2"}}')
        second = proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait()
    assert header.split() == ["NAME", "DATA", "AGE"]
    assert first.split()[:2] == ["watched", "1"] and second.split()[:2] == ["watched", "2"]


def test_create_secret_and_configmap(server, namespace, kubectl) -> None:
    ns = ("-n", namespace)
    assert kubectl("create", *ns, "secret", "generic", "creds", "--from-literal=password=hunter22").stdout == \
        "secret/creds created\n"
    assert kubectl("create", *ns, "configmap", "cfg", "--from-literal=a=1",
                          "--from-literal=b=2").stdout == "configmap/cfg created\n"
    table = lines(kubectl("get", *ns, "secret,configmap").stdout)
    assert table[0] == ["NAME", "TYPE", "DATA", "AGE"] and table[1][:3] == ["secret/creds", "Opaque", "1"]
    secret = json.loads(kubectl("get", *ns, "secret", "creds", "-o", "json").stdout)
    assert secret["data"] == {"password": "aHVudGVyMjI="}
    # Encrypted at rest: the plaintext appears nowhere in the database files.
    for f in (server.root / "cluster").glob("store.db*"):
        assert b"hunter22" not in f.read_bytes() and b"aHVudGVyMjI=" not in f.read_bytes()


def test_delete_cascade_and_finalizers(server, namespace, kubectl) -> None:
    ns = ("-n", namespace)
    kubectl("create", *ns, "deployment", "owner", "--image=busybox")
    uid = kubectl("get", *ns, "deploy", "owner", "-o", "jsonpath={.metadata.uid}").stdout
    owned = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "owner", "uid": uid}]}}
    kubectl("create", *ns, "-f", "-", input=json.dumps(owned))
    assert kubectl("delete", *ns, "deploy", "owner", "--cascade=orphan").stdout == \
        'deployment.apps "owner" deleted\n'
    assert "ownerReferences" not in kubectl("get", *ns, "cm", "owned", "-o", "json").stdout
    kubectl("create", *ns, "deployment", "owner2", "--image=busybox")
    uid = kubectl("get", *ns, "deploy", "owner2", "-o", "jsonpath={.metadata.uid}").stdout
    owned["metadata"] = {"name": "owned2", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                                 "name": "owner2", "uid": uid}]}
    kubectl("create", *ns, "-f", "-", input=json.dumps(owned))
    kubectl("delete", *ns, "deploy", "owner2", "--cascade=foreground")
    assert kubectl("get", *ns, "cm", "owned2", check=False).returncode != 0
    held = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    kubectl("create", *ns, "-f", "-", input=json.dumps(held))
    kubectl("delete", *ns, "cm", "held", "--wait=false")
    stamped = json.loads(kubectl("get", *ns, "cm", "held", "-o", "json").stdout)
    assert stamped["metadata"]["deletionTimestamp"]
    kubectl("patch", *ns, "cm", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    assert "NotFound" in kubectl("get", *ns, "cm", "held", check=False).stderr


def test_api_resources_and_explain(server) -> None:
    out = lines(server.kubectl("api-resources").stdout)
    assert out[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    rows = {r[0]: r for r in out[1:]}
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    explained = server.kubectl("explain", "deployment.spec.strategy").stdout
    assert "KIND:       Deployment" in explained and "FIELD: strategy <DeploymentStrategy>" in explained


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string, enum: [red, blue]}
"""


def test_crd_then_custom_resource(server, namespace) -> None:
    assert server.kubectl("apply", "-f", "-", input=CRD).stdout == \
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created\n"
    cr = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3, color: red}\n"
    ns = ("-n", namespace)
    assert server.kubectl("apply", *ns, "-f", "-", input=cr).stdout == "widget.example.com/w1 created\n"
    table = lines(server.kubectl("get", *ns, "wd").stdout)
    assert table[0] == ["NAME", "SIZE", "AGE"] and table[1][:2] == ["w1", "3"]
    bad = server.kubectl("apply", *ns, "-f", "-", check=False,
                         input=cr.replace("w1", "w2").replace("red", "green"))
    assert bad.returncode != 0 and 'spec.color: Unsupported value: "green"' in bad.stderr
    unknown = server.kubectl("apply", *ns, "-f", "-", check=False, input=cr.replace("size: 3", "size: 3, shape: x"))
    assert 'unknown field "spec.shape"' in unknown.stderr
    assert server.kubectl("delete", *ns, "widget", "w1").stdout == 'widget.example.com "w1" deleted\n'
    server.kubectl("delete", "crd", "widgets.example.com")
    time.sleep(0.1)
    assert server.kubectl("get", *ns, "widgets", check=False).returncode != 0


def test_bad_input_from_kubectl(server, namespace) -> None:
    ns = ("-n", namespace)
    bad_name = server.kubectl("create", *ns, "-f", "-", check=False,
                              input='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}')
    assert bad_name.stderr.startswith('The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: '
                                      '"Bad_Name": a lowercase RFC 1123 subdomain')
    strict = server.kubectl("apply", *ns, "-f", "-", check=False, input=DEPLOYMENT.format(replicas=1).replace(
        "replicas: 1", "replicas: 1\n  bogus: 1"))
    assert 'strict decoding error: unknown field "spec.bogus"' in strict.stderr
    warned = server.kubectl("create", *ns, "--validate=warn", "-f", "-", input=DEPLOYMENT.format(replicas=1)
                            .replace("replicas: 1", "replicas: 1\n  bogus: 1").split("---")[0])
    assert 'Warning: unknown field "spec.bogus"' in warned.stderr
    assert "unable to parse requirement" in server.kubectl("get", *ns, "pods", "-l", "a in (b", check=False).stderr


def test_pod_job_and_event_tables(server, namespace, kubectl) -> None:
    ns = ("-n", namespace)
    kubectl("run", *ns, "p1", "--image=busybox", "--", "sleep", "10")
    pods = lines(kubectl("get", *ns, "pods", "-o", "wide").stdout)
    assert pods[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE",
                       "READINESS GATES"]
    assert pods[1][:4] == ["p1", "0/1", "Pending", "0"] and pods[1][5:] == ["<none>"] * 4
    kubectl("create", *ns, "job", "j1", "--image=busybox", "--", "true")
    jobs = lines(kubectl("get", *ns, "jobs").stdout)
    assert jobs[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"] and jobs[1][:3] == ["j1", "Running", "0/1"]
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"}, "reason": "Started", "type": "Normal",
             "message": "started", "involvedObject": {"kind": "Pod", "name": "p1", "namespace": namespace}}
    kubectl("create", *ns, "-f", "-", input=json.dumps(event))
    events = lines(kubectl("get", *ns, "events", "--field-selector", "involvedObject.name=p1").stdout)
    assert events[0] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert events[1][1:] == ["Normal", "Started", "pod/p1", "started"]
    assert kubectl("delete", *ns, "pod", "p1").stdout == 'pod "p1" deleted\n'
