"""HTTPS with client certificates: the certificate's CN is the user and its O the groups."""

from __future__ import annotations

import requests


def test_client_certificates_authenticate(own_server, pki) -> None:
    tmp_path = pki
    s = own_server("--tls-cert", str(tmp_path / "server.crt"), "--tls-key", str(tmp_path / "server.key"),
                   "--client-ca", str(tmp_path / "ca.crt"))
    url = f"https://127.0.0.1:{s.port}/api/v1/namespaces"
    verify = str(tmp_path / "ca.crt")

    def cert(name: str) -> tuple[str, str]:
        return str(tmp_path / f"{name}.crt"), str(tmp_path / f"{name}.key")

    assert requests.get(url, verify=verify, cert=cert("admin")).status_code == 200
    denied = requests.get(url, verify=verify, cert=cert("jane"))
    assert denied.status_code == 403 and 'User "jane" cannot list resource "namespaces"' in denied.json()["message"]
    assert requests.get(url, verify=verify).status_code == 401
