"""Where a command line goes (cli/remote/discovery.py): daemon or daemonless, decided cheaply."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dockyard.base import paths
from dockyard.cli.remote import discovery


def test_split_finds_the_verb_after_global_options() -> None:
    assert discovery.split(["ps", "-a"]) == ({}, "ps", ["-a"])
    assert discovery.split(["--state", "/s", "--root=/r", "run", "busybox"]) == (
        {"--state": "/s", "--root": "/r"}, "run", ["busybox"])
    assert discovery.split(["--help"])[1] is None
    assert discovery.split(["--state"])[1] is None


def test_only_verbs_with_a_remote_version_go_remote() -> None:
    assert discovery.remote_verb("run", ["busybox"])
    assert discovery.remote_verb("network", ["ls"])
    assert not discovery.remote_verb("network", ["inspect", "x"])
    assert not discovery.remote_verb("network", ["-h", "ls"])
    assert not discovery.remote_verb("build", ["."])
    assert not discovery.remote_verb(None, [])


def test_default_socket_is_in_the_state_dir(state_dir: Path) -> None:
    assert discovery.default_socket() == str(paths.state_dir() / "dockyard.sock")
    assert discovery.default_socket("/elsewhere") == "/elsewhere/dockyard.sock"


def test_no_socket_or_a_stale_one_means_daemonless(state_dir: Path) -> None:
    assert discovery.target({}) is None
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(state_dir / "dockyard.sock"))  # bound, not listening: a daemon that was killed
        assert discovery.target({}) is None
        s.listen()
        assert discovery.target({}) == str(state_dir / "dockyard.sock")
        assert discovery.target({"DOCKYARD_HOST": "local"}) is None


def test_dockyard_host_must_answer(state_dir: Path) -> None:
    sock = state_dir / "other.sock"
    with pytest.raises(discovery.DaemonUnreachable, match=str(sock)):
        discovery.target({"DOCKYARD_HOST": f"unix://{sock}"})
    with pytest.raises(discovery.DaemonUnreachable, match="expected unix://"):
        discovery.target({"DOCKYARD_HOST": "tcp://127.0.0.1:2375"})
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock))
        s.listen()
        assert discovery.target({"DOCKYARD_HOST": f"unix://{sock}"}) == str(sock)


def test_daemonless_commands_never_import_click(state_dir: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from dockyard.cli.remote import discovery; "
            "assert discovery.dispatch(['run', 'busybox']) is None; "
            "assert 'click' not in sys.modules and 'http.client' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
