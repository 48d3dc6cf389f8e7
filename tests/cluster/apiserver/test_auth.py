"""Bearer tokens and RBAC roles: 401 for unknown callers, 403 for what no binding grants."""

from __future__ import annotations

import json

import pytest
import requests


@pytest.fixture
def secured(own_server, tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('admintoken123,admin,1,"system:masters"\njanetoken456,jane,2\nbobtoken789,bob,3,"devs"\n')
    return own_server("--tokens-file", str(tokens))


def as_(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_unauthenticated_is_401(secured) -> None:
    for headers in ({}, as_("wrongtoken")):
        r = requests.get(secured.url + "/api/v1/namespaces", headers=headers)
        assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"


def test_roles_grant_view_and_edit(secured) -> None:
    url = secured.url
    admin, jane, bob = as_("admintoken123"), as_("janetoken456"), as_("bobtoken789")
    pods = url + "/api/v1/namespaces/default/configmaps"
    r = requests.get(pods, headers=jane)
    assert r.status_code == 403
    assert r.json()["message"] == ('configmaps is forbidden: User "jane" cannot list resource "configmaps" in '
                                   'API group "" in the namespace "default"')
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "jane-view"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                             "kind": "ClusterRole", "name": "view"},
               "subjects": [{"kind": "User", "name": "jane"}]}
    assert requests.post(url + "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                         json=binding, headers=admin).status_code == 201
    assert requests.get(pods, headers=jane).status_code == 200
    assert requests.post(pods, json={"metadata": {"name": "x"}}, headers=jane).status_code == 403
    assert requests.get(url + "/api/v1/namespaces/default/secrets", headers=jane).status_code == 403
    assert requests.get(url + "/api/v1/namespaces/kube-system/configmaps", headers=jane).status_code == 403
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "cm-writer"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "get"]}]}
    requests.post(url + "/apis/rbac.authorization.k8s.io/v1/clusterroles", json=role, headers=admin)
    crb = {**binding, "kind": "ClusterRoleBinding", "metadata": {"name": "devs-cm"},
           "roleRef": {**binding["roleRef"], "name": "cm-writer"}, "subjects": [{"kind": "Group", "name": "devs"}]}
    assert requests.post(url + "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json=crb,
                         headers=admin).status_code == 201
    assert requests.post(pods, json={"metadata": {"name": "by-bob"}}, headers=bob).status_code == 201
    assert requests.delete(pods + "/by-bob", headers=bob).status_code == 403
    assert requests.get(url + "/apis", headers=jane).status_code == 200  # discovery is open to every user


def test_local_unix_socket_is_admin(secured) -> None:
    import http.client
    import socket

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(str(secured.state / "apiserver.sock"))

    conn = UnixConnection("localhost")
    conn.request("GET", "/api/v1/namespaces/default/secrets")
    assert conn.getresponse().status == 200


def test_kubectl_auth_can_i_and_whoami(own_server, pki, tmp_path) -> None:
    # kubectl sends bearer tokens over TLS only, so this server speaks HTTPS.
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('admintoken123,admin,1,"system:masters"\njanetoken456,jane,2\n')
    s = own_server("--tokens-file", str(tokens), "--tls-cert", str(pki / "server.crt"), "--tls-key",
                   str(pki / "server.key"), "--client-ca", str(pki / "ca.crt"))

    def kubectl_as(token: str, *args: str):
        config = s.kubeconfig.read_text().replace("user: {}", f"user: {{token: {token}}}")
        path = tmp_path / f"{token}.kubeconfig"
        path.write_text(config)
        return s.kubectl(*args, check=False, env={"KUBECONFIG": str(path)})

    denied = kubectl_as("janetoken456", "auth", "can-i", "create", "configmaps")
    assert (denied.returncode, denied.stdout) == (1, "no\n")
    assert kubectl_as("admintoken123", "auth", "can-i", "create", "configmaps").stdout == "yes\n"
    whoami = kubectl_as("janetoken456", "auth", "whoami", "-o", "json").stdout
    assert json.loads(whoami)["status"]["userInfo"]["username"] == "jane"
    forbidden = kubectl_as("janetoken456", "get", "configmaps")
    assert forbidden.stderr.strip() == ('Error from server (Forbidden): configmaps is forbidden: User "jane" cannot '
                                        'list resource "configmaps" in API group "" in the namespace "default"')
