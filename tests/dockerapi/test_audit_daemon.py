"""Issue #6 audit: the daemon's own promises — sockets (0660, group dockyard, a second docker socket,
per-user when rootless), TCP with mutual TLS, the TOML config reaching networks and registries,
API version negotiation, and the systemd unit."""

from __future__ import annotations

import datetime
import grp
import ipaddress
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dockyard.base.errors import InvalidArgument
from dockyard.dockerapi import config
from tests.dockerapi.daemonproc import DOCKYARD, Daemon
from tests.dockerapi.test_raw_api import UnixHTTP
from tests.engine import netenv

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"


def _pem(path: Path, obj) -> Path:
    if isinstance(obj, x509.Certificate):
        path.write_bytes(obj.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return path


def _pki(tmp: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dockyard test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))

    def leaf(cn: str, usage, san=None):
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
             .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if san:
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return b.sign(ca_key, hashes.SHA256()), key

    server, server_key = leaf("dockyard", ExtendedKeyUsageOID.SERVER_AUTH,
                              [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    client, client_key = leaf("client", ExtendedKeyUsageOID.CLIENT_AUTH)
    return {"ca": _pem(tmp / "ca.pem", ca), "cert": _pem(tmp / "server.pem", server),
            "key": _pem(tmp / "server-key.pem", server_key), "ccert": _pem(tmp / "cert.pem", client),
            "ckey": _pem(tmp / "key.pem", client_key)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_config_file_sockets_mutual_tls_networks_and_mirrors(tmp_path: Path) -> None:
    pki, port = _pki(tmp_path), _free_port()
    d = Daemon(tmp_path)
    second, subnet = d.state / "docker.sock", netenv.free_subnet()
    cfg = tmp_path / "dockyard.toml"
    cfg.write_text(f'[daemon]\ndocker-socket = "{second}"\ntcp = "127.0.0.1:{port}"\n'
                   f'tls-cert = "{pki["cert"]}"\ntls-key = "{pki["key"]}"\ntls-ca = "{pki["ca"]}"\n'
                   '[registries]\nmirrors = ["https://mirror.invalid"]\ninsecure = ["reg.invalid:5000"]\n'
                   f'[networks]\nsubnet = "{subnet}"\ninstance = "{d.net.instance}"\nbridge = "{d.net.instance}"\n')
    d.bootstrap()
    d.start("--config", str(cfg))
    try:
        for sock in (d.sock, second):  # both sockets: 0660, group dockyard (created by the daemon as root)
            st = os.stat(sock)
            assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == grp.getgrnam("dockyard").gr_gid
            out = d.docker("-H", f"unix://{sock}", "version", "--format", "{{.Server.Platform.Name}}").stdout
            assert out.strip() == "dockyard"
        tls = ["-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", str(pki["ca"])]
        ok = d.docker(*tls, "--tlscert", str(pki["ccert"]), "--tlskey", str(pki["ckey"]), "ps", "-a")
        assert ok.stdout.startswith("CONTAINER ID")
        refused = d.docker(*tls, "ps", check=False)  # no client certificate: the handshake fails
        assert refused.returncode != 0
        registry = json.loads(d.docker("info", "--format", "{{json .RegistryConfig}}").stdout)
        assert registry["Mirrors"] == ["https://mirror.invalid"] and "reg.invalid:5000" in registry["IndexConfigs"]
        addr = d.docker("run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0").stdout.split()[3]
        assert ipaddress.ip_interface(addr).network == ipaddress.ip_network(subnet)  # [networks] subnet won
    finally:
        d.cleanup()
    assert not second.exists() and not d.sock.exists()  # a stopped daemon removes its sockets


def test_api_versions_outside_the_supported_range_are_refused_as_docker_does(tmp_path: Path) -> None:
    d = Daemon(tmp_path)
    d.start()
    try:
        def get(path: str) -> tuple[int, dict | str]:
            conn = UnixHTTP(str(d.sock))
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            return resp.status, json.loads(body) if resp.getheader("Content-Type", "").startswith(
                "application/json") else body.decode()

        status, doc = get("/v1.12/version")
        assert status == 400 and "too old. Minimum supported API version is 1.24" in doc["message"]
        status, doc = get("/v9.99/containers/json")
        assert status == 400 and "too new" in doc["message"]
        for ok in ("/v1.24/version", "/v1.47/version", "/version", "/_ping"):
            assert get(ok)[0] == 200, ok
        # the docker CLI negotiates down to ours, and an old pinned client works too
        assert d.docker("version", "--format", "{{.Client.APIVersion}}").stdout.strip() == "1.47"
        env = {**d.env, "DOCKER_API_VERSION": "1.41"}
        assert subprocess.run(["docker", "ps"], env=env, capture_output=True).returncode == 0
    finally:
        d.cleanup()


def test_rootless_daemon_serves_a_per_user_socket(tmp_path: Path) -> None:
    """As an unprivileged user: the socket is under $XDG_RUNTIME_DIR/dockyard (no DOCKYARD_STATE given)."""
    base = Path(tempfile.mkdtemp(prefix="dya-rootless-"))  # pytest's tmp dirs are root-only
    os.chmod(base, 0o755)
    runtime, home = base / "run-user", base / "home"
    for p in (runtime, home):
        p.mkdir(mode=0o700)
        os.chown(p, 65534, 65534)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKYARD_", "DOCKER_"))}
    env.update(XDG_RUNTIME_DIR=str(runtime), HOME=str(home), XDG_DATA_HOME=str(home / "data"))
    proc = subprocess.Popen(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", DOCKYARD, "serve"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    sock = runtime / "dockyard" / "dockyard.sock"
    try:
        for _ in range(400):
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode())
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(sock))
                break
            except OSError:
                time.sleep(0.05)
        r = subprocess.run(["docker", "-H", f"unix://{sock}", "version", "--format", "{{.Server.Platform.Name}}"],
                           capture_output=True, text=True, env={**env, "DOCKER_CONFIG": str(tmp_path / "dc")})
        assert r.stdout.strip() == "dockyard", r.stderr
        assert os.stat(sock).st_uid == 65534 and stat.S_IMODE(os.stat(sock).st_mode) == 0o660
    finally:
        proc.terminate()
        proc.wait(30)
        gone = not sock.exists()
        shutil.rmtree(base, ignore_errors=True)
    assert gone


def test_config_refuses_typos_and_plaintext_tcp_and_exports_settings(tmp_path: Path) -> None:
    path = tmp_path / "dockyard.toml"
    path.write_text('[daemon]\nsockett = "/x.sock"\n')
    with pytest.raises(InvalidArgument, match="unknown key 'sockett' in \\[daemon\\]"):
        config.load(path)
    path.write_text('[daemon]\ntcp = "0.0.0.0:2375"\n')
    with pytest.raises(InvalidArgument, match="unencrypted off loopback"):
        config.load(path)
    flagged = config.load(None, docker_socket=True, socket=tmp_path / "d.sock")  # --docker-socket
    assert flagged.docker_socket == Path("/var/run/docker.sock") and flagged.socket == tmp_path / "d.sock"
    path.write_text('[networks]\nsubnet = "10.77.0.0/16"\ndns = ["192.0.2.1:53", "192.0.2.2:53"]\n'
                    '[registries]\nmirrors = ["https://m1", "https://m2"]\n')
    env = config.load(path).environment()
    assert env == {"DOCKYARD_NET_SUBNET": "10.77.0.0/16", "DOCKYARD_NET_DNS": "192.0.2.1:53,192.0.2.2:53",
                   "DOCKYARD_REGISTRY_MIRRORS": "https://m1,https://m2"}


def test_contrib_config_and_systemd_unit_are_valid() -> None:
    cfg = config.load(CONTRIB / "dockyard.toml")
    assert cfg.socket == Path("/run/dockyard/dockyard.sock") and cfg.group == "dockyard"
    unit = (CONTRIB / "dockyard.service").read_text()
    # stopping the daemon must not kill the shims, i.e. the containers
    assert "KillMode=process" in unit and "serve --config /etc/dockyard/dockyard.toml" in unit
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(CONTRIB / "dockyard.service")],
                       capture_output=True, text=True)
    complaints = [line for line in r.stderr.splitlines() if "is not executable" not in line]  # not installed here
    assert not complaints, r.stderr
