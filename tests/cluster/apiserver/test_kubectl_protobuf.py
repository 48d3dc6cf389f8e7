"""kubectl 1.32 and 1.33 send protobuf bodies from their typed commands; the server decodes them.

kubectl itself is the encoder: at ``-v=9`` it logs each request body as a hex dump, so every
typed command's protobuf bytes are decoded here and compared with the object the same kubectl
prints for ``--dry-run=client -o json`` — and the server accepts the body (``--dry-run=server``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from dockyard.cluster.api.protobuf import MAGIC, decode_object

pytestmark = pytest.mark.e2e

VERSIONS = ("1.32", "1.33")

#: Every typed ``kubectl create`` of a kind we serve (flags chosen to reach the less common fields).
TYPED = {
    "namespace": ["namespace", "pb-ns"],
    "configmap": ["configmap", "pb-cm", "--from-literal=a=b", "--from-literal=c=d"],
    "secret": ["secret", "generic", "pb-s", "--from-literal=a=b", "--type=example.com/x"],
    "docker-registry": ["secret", "docker-registry", "pb-d", "--docker-server=r.io", "--docker-username=u",
                        "--docker-password=p"],
    "serviceaccount": ["serviceaccount", "pb-sa"],
    "deployment": ["deployment", "pb-dep", "--image=busybox:1.36", "--replicas=0", "--port=80"],
    "clusterip": ["service", "clusterip", "pb-svc", "--tcp=80:8080", "--tcp=443"],
    "nodeport": ["service", "nodeport", "pb-np", "--tcp=80:http", "--node-port=30081"],
    "externalname": ["service", "externalname", "pb-ext", "--external-name=x.example.com"],
    "job": ["job", "pb-job", "--image=busybox", "--", "echo", "hi"],
    "cronjob": ["cronjob", "pb-cj", "--image=busybox", "--schedule=*/5 * * * *", "--restart=Never", "--", "echo"],
    "role": ["role", "pb-role", "--verb=get,list", "--resource=pods,deployments.apps", "--resource-name=x"],
    "clusterrole": ["clusterrole", "pb-cr", "--verb=get", "--non-resource-url=/healthz"],
    "aggregated": ["clusterrole", "pb-agg", "--aggregation-rule=a=b"],
    "rolebinding": ["rolebinding", "pb-rb", "--role=r", "--user=u1", "--group=g1", "--serviceaccount=default:sa1"],
    "clusterrolebinding": ["clusterrolebinding", "pb-crb", "--clusterrole=cr", "--user=u1"],
    "ingress": ["ingress", "pb-ing", "--rule=foo.com/bar*=svc1:http,tls=cert", "--class=nginx",
                "--annotation=a=b", "--default-backend=svc1:80"],
}

#: Typed commands of the policy kinds, and autoscale, which needs a target (kubectl 1.32 posts
#: autoscaling/v1, which the server stores as v2): decoded and accepted as the others.
POLICY = {
    "quota": ["quota", "pb-q", "--hard=cpu=1,memory=1Gi,pods=10", "--scopes=BestEffort"],
    "priorityclass": ["priorityclass", "pb-pc", "--value=0", "--description=x", "--preemption-policy=Never"],
    "pdb-min": ["pdb", "pb-pdb", "--selector=app=x", "--min-available=50%"],
    "pdb-max": ["pdb", "pb-pdb2", "--selector=app=x", "--max-unavailable=1"],
}


def logged_body(stderr: str) -> bytes:
    """The first request body kubectl -v=9 logged, from its hex dump."""
    m = re.search(r'"Request Body" body=<\n((?:\t[0-9a-f]{8} .*\n)+)', stderr)
    assert m, f"kubectl logged no request body: {stderr[-2000:]}"
    return b"".join(bytes.fromhex(line.split("|")[0].strip()[8:].replace(" ", ""))
                    for line in m.group(1).splitlines())


def without_nulls(x: Any) -> Any:
    """JSON as Go prints it minus nulls (Go's zero ``Time``), which protobuf does not carry."""
    if isinstance(x, dict):
        return {k: without_nulls(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [without_nulls(v) for v in x]
    return x


@pytest.mark.parametrize("version", VERSIONS)
def test_typed_create_bodies_decode_to_what_kubectl_prints(server, namespace, version) -> None:
    for what, args in TYPED.items():
        ns = () if what in ("namespace", "clusterrole", "aggregated", "clusterrolebinding") else ("-n", namespace)
        sent = server.kubectl("create", *ns, "--dry-run=server", "-o", "json", "-v=9", *args, version=version)
        body = logged_body(sent.stderr)
        assert body.startswith(MAGIC), what
        printed = server.kubectl("create", *ns, "--dry-run=client", "-o", "json", *args, version=version).stdout
        assert decode_object(body) == without_nulls(json.loads(printed)), what
        accepted = json.loads(sent.stdout)  # the server's dry-run answer: decoded, defaulted, not stored
        assert accepted["metadata"]["name"] == args[2 if args[0] in ("secret", "service") else 1]
    assert server.kubectl("get", "-n", namespace, "cm,secret,deploy,svc,job,cj,role,rolebinding,ingress",
                          "-o", "name", version=version).stdout == ""
    server.kubectl("create", "-n", namespace, "deployment", "target", "--image=busybox", version=version)
    for what, args in [*(("create", a) for a in POLICY.values()),
                       ("autoscale", ["deployment", "target", "--min=2", "--max=5", "--cpu-percent=80"])]:
        ns = ("-n", namespace)
        sent = server.kubectl(what, *ns, "--dry-run=server", "-v=9", *args, version=version)
        printed = server.kubectl(what, *ns, "--dry-run=client", "-o", "json", *args, version=version).stdout
        assert decode_object(logged_body(sent.stderr)) == without_nulls(json.loads(printed)), args


@pytest.mark.parametrize("version", VERSIONS)
def test_typed_commands_work_end_to_end(server, namespace, version) -> None:
    ns = ("-n", namespace)

    def run(*args: str) -> str:
        return server.kubectl(*args, version=version).stdout

    assert run("create", *ns, "deployment", "web", "--image=busybox:1.36", "--port=80") == \
        "deployment.apps/web created\n"
    assert run("create", *ns, "configmap", "conf", "--from-literal=k=v") == "configmap/conf created\n"
    assert run("create", *ns, "secret", "generic", "pw", "--from-literal=p=s3cret") == "secret/pw created\n"
    assert run("create", *ns, "service", "clusterip", "web", "--tcp=80:8080") == "service/web created\n"
    assert run("create", *ns, "cronjob", "tick", "--image=busybox", "--schedule=@hourly") == "cronjob.batch/tick created\n"
    assert run("create", *ns, "job", "once", "--from=cronjob/tick") == "job.batch/once created\n"
    assert run("create", *ns, "serviceaccount", "bot") == "serviceaccount/bot created\n"
    assert run("create", *ns, "role", "reader", "--verb=get", "--resource=configmaps") == \
        "role.rbac.authorization.k8s.io/reader created\n"
    assert run("create", *ns, "rolebinding", "bot-reads", "--role=reader", f"--serviceaccount={namespace}:bot") == \
        "rolebinding.rbac.authorization.k8s.io/bot-reads created\n"
    assert run("create", *ns, "ingress", "web", "--rule=web.example/*=web:80") == \
        "ingress.networking.k8s.io/web created\n"
    assert run("scale", *ns, "deployment", "web", "--replicas=3") == "deployment.apps/web scaled\n"
    # kubectl 1.32 posts autoscaling/v1, 1.33 autoscaling/v2: both land in the same stored object.
    assert run("autoscale", *ns, "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80") == \
        "horizontalpodautoscaler.autoscaling/web autoscaled\n"
    assert run("create", *ns, "quota", "q", "--hard=pods=10") == "resourcequota/q created\n"
    assert run("create", *ns, "pdb", "web", "--selector=app=web", "--min-available=1") == \
        "poddisruptionbudget.policy/web created\n"
    assert run("auth", "can-i", "create", "deployments", *ns) == "yes\n"
    assert "system:admin" in run("auth", "whoami")

    dep = json.loads(run("get", *ns, "deploy", "web", "-o", "json"))
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    secret = json.loads(run("get", *ns, "secret", "pw", "-o", "json"))
    assert secret["data"] == {"p": "czNjcmV0"} and secret["type"] == "Opaque"
    svc = json.loads(run("get", *ns, "svc", "web", "-o", "json"))
    assert svc["spec"]["ports"][0]["targetPort"] == 8080
    job = json.loads(run("get", *ns, "job", "once", "-o", "json"))
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    hpa = json.loads(run("get", *ns, "hpa", "web", "-o", "json"))
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    assert json.loads(run("get", *ns, "quota", "q", "-o", "json"))["spec"]["hard"] == {"pods": "10"}
    assert json.loads(run("get", *ns, "pdb", "web", "-o", "json"))["spec"]["minAvailable"] == 1
    ing = json.loads(run("get", *ns, "ingress", "web", "-o", "json"))
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["pathType"] == "Prefix"


def post(server, path: str, body: bytes) -> requests.Response:
    return requests.post(server.url + path, data=body, timeout=10,
                         headers={"Content-Type": "application/vnd.kubernetes.protobuf",
                                  "Accept": "application/vnd.kubernetes.protobuf,application/json"})


def test_unsupported_or_malformed_protobuf_is_reported_and_nothing_is_stored(server, namespace) -> None:
    sent = server.kubectl("create", "-n", namespace, "--dry-run=server", "-v=9", "configmap", "c",
                          "--from-literal=a=b", version="1.33")
    good = logged_body(sent.stderr)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    # The same body with an extra field 9 (varint) in the ConfigMap: named, with advice; not dropped.
    raw_at = len(MAGIC) + 2 + good[len(MAGIC) + 1]  # runtime.Unknown: typeMeta (1), then raw (2)
    assert good[raw_at] == 0x12 and good[raw_at + 1] < 0x7E
    end = raw_at + 2 + good[raw_at + 1]
    tampered = good[:raw_at + 1] + bytes([good[raw_at + 1] + 2]) + good[raw_at + 2:end] + b"\x48\x01" + good[end:]
    r = post(server, path, tampered)
    assert r.status_code == 415, r.text
    assert r.json()["reason"] == "UnsupportedMediaType"
    message = r.json()["message"]
    assert "field number 9 of message ConfigMap" in message and "send the object as JSON" in message
    assert "\n" not in message
    # A kind we have no table for.
    unknown_kind = MAGIC + b"\x0a\x0c\x0a\x02v1\x12\x06Widget\x12\x00"
    r = post(server, path, unknown_kind)
    assert r.status_code == 415 and "kind Widget of apiVersion v1" in r.json()["message"]
    # Malformed bytes: 400 with a one-line message.
    for body, words in ((b"k8z\x00" + good[4:], "magic"), (good[:-1] + b"\xff", "truncated varint"),
                        (MAGIC + b"\x0b", "wire type 3"), (good[:end - 2], "remain")):
        r = post(server, path, body)
        assert r.status_code == 400, (words, r.text)
        assert words in r.json()["message"] and "\n" not in r.json()["message"]
    assert requests.get(server.url + path, timeout=10).json()["items"] == []
