"""A real `dockyard apiserver` process per test module (or per test, for crash tests), and clients for it.

Each module gets its own data root, state dir, port and HOME (kubectl caches discovery under
~/.kube/cache), and each test works in its own namespace, so tests never see each other's objects.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    root: Path
    state: Path
    home: Path
    port: int
    extra: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        scheme = "https" if "--tls-cert" in self.extra else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.home / "kubeconfig"

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKYARD_ROOT": str(self.root), "DOCKYARD_STATE": str(self.state),
                "HOME": str(self.home), "KUBECONFIG": str(self.kubeconfig)}

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dockyard.cli", "apiserver", "--addr", f"127.0.0.1:{self.port}", *self.extra],
            env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"apiserver exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            try:  # a TCP connect: works whatever the scheme and authentication
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run([sys.executable, "-m", "dockyard.cli", "kubeconfig"], env=self.env(),
                             capture_output=True, text=True, check=True)
        self.kubeconfig.write_text(out.stdout)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                env: dict[str, str] | None = None, version: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run kubectl: the dispatching one on PATH, or with ``version`` ("1.33") that exact client."""
        kubectl = kubectl_binary(version) if version else shutil.which("kubectl")
        if kubectl is None:
            pytest.fail("kubectl is not installed; CI installs it")
        result = subprocess.run([kubectl, *args], env={**self.env(), **(env or {})}, input=input,
                                capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result


#: Where the Google Cloud SDK packaging (what CI installs) keeps kubectl's per-minor clients.
SDK_BIN = Path("/usr/lib/google-cloud-sdk/bin")


def kubectl_binary(version: str) -> str:
    """The kubectl client of one minor version (``kubectl.1.33``); fails, never skips, when missing."""
    name = f"kubectl.{version}"
    found = shutil.which(name) or (str(SDK_BIN / name) if (SDK_BIN / name).exists() else None)
    if found is None:
        pytest.fail(f"{name} is not installed; CI installs kubectl 1.27-1.33 with the Cloud SDK")
    return found


def make_server(base: Path, extra: list[str] | None = None) -> Server:
    state = Path("/tmp") / f"dy-{uuid.uuid4().hex[:10]}"  # short: unix socket paths are limited
    for d in (base / "root", state, base / "home"):
        d.mkdir(parents=True, exist_ok=True)
    return Server(base / "root", state, base / "home", free_port(), extra or [])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = make_server(tmp_path_factory.mktemp("apiserver"))
    s.start()
    try:
        yield s
    finally:
        s.kill(signal.SIGTERM)
        shutil.rmtree(s.state, ignore_errors=True)


@pytest.fixture
def namespace(server: Server, unique_name: str) -> Iterator[str]:
    r = requests.post(server.url + "/api/v1/namespaces",
                      json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unique_name}}, timeout=10)
    assert r.status_code == 201, r.text
    yield unique_name
    requests.delete(server.url + f"/api/v1/namespaces/{unique_name}", timeout=30)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a server of this test's own (extra CLI flags allowed); killed at the end."""
    servers: list[Server] = []

    def start(*extra: str) -> Server:
        s = make_server(tmp_path / f"s{len(servers)}", list(extra))
        s.start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.kill()
        shutil.rmtree(s.state, ignore_errors=True)


def _issue(path: Path, name: str, subject: x509.Name, issuer: tuple | None, *, ca: bool = False,
           ip: str | None = None) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer[0].subject if issuer else subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (path / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (path / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return cert, key


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1, and client certificates for admin and jane."""
    d = tmp_path / "pki"
    d.mkdir()
    ca = _issue(d, "ca", _name("dockyard-ca"), None, ca=True)
    _issue(d, "server", _name("apiserver"), ca, ip="127.0.0.1")
    _issue(d, "admin", _name("root", "system:masters"), ca)
    _issue(d, "jane", _name("jane"), ca)
    return d
