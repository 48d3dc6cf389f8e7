"""TLS: the server with a certificate; our client trusting it through --ca-file, refusing it without."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..helpers import cli, make_image, serve

pytestmark = pytest.mark.e2e


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dockyard test registry")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_push_and_pull_over_tls_with_a_custom_ca(tmp_path):
    cert, key = _self_signed(tmp_path)
    src, dst = tmp_path / "src", tmp_path / "dst"
    digest = make_image(src, "app:v1")
    with serve(tmp_path / "reg", "--tls-cert", str(cert), "--tls-key", str(key)) as reg:
        assert reg.url.startswith("https://")
        # loopback counts as insecure by default (as in docker); make it verified like any other host
        for root in (src, dst):
            root.mkdir(exist_ok=True)
            (root / "registries.json").write_text('{"loopback-insecure": false}')
        host = reg.host
        cli(src, "tag", "app:v1", f"{host}/app:v1")
        refused = cli(src, "push", f"{host}/app:v1", check=False)
        assert refused.returncode != 0 and "certificate verify failed" in refused.stderr
        cli(src, "push", "--ca-file", str(cert), f"{host}/app:v1")
        out = cli(dst, "pull", "-q", "--ca-file", str(cert), f"{host}/app:v1").stdout
        assert "app:v1" in out
    from dockyard.oci.images import ImageStore

    assert str(ImageStore(dst).resolve(f"{host}/app:v1").digest) == digest
