"""config.json generation: Docker's defaults, option precedence, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.base.errors import InvalidArgument
from dockyard.engine import defaults, seccomp
from dockyard.engine.options import RunOptions, parse_size, parse_volume
from dockyard.engine.spec import SpecContext, build_spec, resolve_user

IMAGE = {"config": {"Entrypoint": ["/entry"], "Cmd": ["serve"], "Env": ["PATH=/bin", "A=1"],
                    "WorkingDir": "/srv", "User": ""}}


def spec(tmp_path: Path, **kw) -> dict:
    ctx = SpecContext(cid="c" * 64, name="web", rootfs=tmp_path, cgroups_path="/dockyard/x")
    return build_spec(IMAGE, RunOptions(image="busybox", **kw), ctx)


def test_docker_security_defaults(tmp_path: Path) -> None:
    s = spec(tmp_path)
    caps = s["process"]["capabilities"]
    assert set(caps["bounding"]) == set(defaults.DEFAULT_CAPS) == set(caps["effective"])
    assert "CAP_SYS_ADMIN" not in caps["bounding"]
    assert s["process"]["noNewPrivileges"] is True
    assert "/proc/kcore" in s["linux"]["maskedPaths"]
    assert "/proc/sys" in s["linux"]["readonlyPaths"]
    assert s["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    dev = next(m for m in s["mounts"] if m["destination"] == "/dev")
    assert dev["type"] == "tmpfs"
    assert {ns["type"] for ns in s["linux"]["namespaces"]} == {"pid", "ipc", "uts", "mount", "network"}
    assert s["hostname"] == "c" * 12


def test_entrypoint_and_command_precedence(tmp_path: Path) -> None:
    assert spec(tmp_path)["process"]["args"] == ["/entry", "serve"]
    assert spec(tmp_path, command=["x"])["process"]["args"] == ["/entry", "x"]
    # --entrypoint drops the image's Cmd, as docker does
    assert spec(tmp_path, entrypoint=["/bin/sh"])["process"]["args"] == ["/bin/sh"]
    assert spec(tmp_path, entrypoint=[], command=["ls"])["process"]["args"] == ["ls"]


def test_environment_merge_and_workdir(tmp_path: Path) -> None:
    s = spec(tmp_path, env=["A=2", "B=3"], workdir="/tmp")
    env = s["process"]["env"]
    assert "A=2" in env and "B=3" in env and "A=1" not in env and "PATH=/bin" in env
    assert s["process"]["cwd"] == "/tmp"


def test_caps_seccomp_and_nnp_options(tmp_path: Path) -> None:
    s = spec(tmp_path, cap_add=["sys_admin"], cap_drop=["NET_RAW"],
             security_opt=["no-new-privileges=false", "seccomp=unconfined"])
    assert "CAP_SYS_ADMIN" in s["process"]["capabilities"]["bounding"]
    assert "CAP_NET_RAW" not in s["process"]["capabilities"]["bounding"]
    assert s["process"]["noNewPrivileges"] is False
    assert "seccomp" not in s["linux"]


def test_seccomp_rules_follow_capabilities() -> None:
    prof = seccomp.default_profile()
    plain = seccomp.to_oci(prof, set(defaults.DEFAULT_CAPS), machine="x86_64")
    admin = seccomp.to_oci(prof, set(defaults.DEFAULT_CAPS) | {"CAP_SYS_ADMIN"}, machine="x86_64")

    def allowed(p: dict) -> set[str]:
        return {n for r in p["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" and not r.get("args")
                for n in r["names"]}

    assert "read" in allowed(plain) and "mount" not in allowed(plain)
    assert "mount" in allowed(admin)
    assert "SCMP_ARCH_X86_64" in plain["architectures"]


def test_resources_and_mounts(tmp_path: Path) -> None:
    host = tmp_path / "data"
    host.mkdir()
    s = spec(tmp_path, memory=64 << 20, cpus=0.5, pids_limit=20, volumes=[f"{host}:/data:ro"],
             tmpfs=["/scratch:size=1m"], read_only=True, network="host")
    res = s["linux"]["resources"]
    assert res["memory"]["limit"] == 64 << 20
    assert res["cpu"] == {"quota": 50000, "period": 100000}
    assert res["pids"]["limit"] == 20
    data = next(m for m in s["mounts"] if m["destination"] == "/data")
    assert data["source"] == str(host) and "ro" in data["options"]
    assert any(m["destination"] == "/scratch" and "size=1m" in m["options"] for m in s["mounts"])
    assert s["root"]["readonly"] is True
    assert "network" not in {ns["type"] for ns in s["linux"]["namespaces"]}
    assert "hostname" not in s


def test_users_resolve_in_the_container(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nweb:x:100:101::/srv:/bin/sh\n")
    (tmp_path / "etc/group").write_text("root:x:0:\nweb:x:101:\naudio:x:29:web\n")
    assert resolve_user("", tmp_path) == {"uid": 0, "gid": 0}
    assert resolve_user("web", tmp_path) == {"uid": 100, "gid": 101, "additionalGids": [29]}
    assert resolve_user("1000:audio", tmp_path) == {"uid": 1000, "gid": 29}
    with pytest.raises(InvalidArgument, match="no user 'ghost'"):
        resolve_user("ghost", tmp_path)


@pytest.mark.parametrize(("kw", "message"), [
    ({"volumes": ["relative:/x"]}, "host path must be absolute"),
    ({"volumes": ["/tmp:/x:rx"]}, "unknown mode"),
    ({"cap_add": ["FLY"]}, "--cap-add FLY: unknown capability"),
    ({"security_opt": ["apparmor=x"]}, "unsupported"),
    ({"workdir": "rel"}, "absolute path"),
    ({"network": "bridge0"}, "--network 'bridge0': unknown"),
])
def test_bad_options_are_one_line_errors(tmp_path: Path, kw: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as info:
        opts = RunOptions(image="busybox", **kw)
        opts.validate()
        build_spec(IMAGE, opts, SpecContext(cid="c" * 64, name="n", rootfs=tmp_path))
    assert "\n" not in str(info.value)


def test_sizes_and_volumes_parse() -> None:
    assert parse_size("512m") == 512 << 20
    assert parse_size("1g") == 1 << 30
    assert parse_size("100") == 100
    with pytest.raises(InvalidArgument, match="--memory 'lots'"):
        parse_size("lots")
    assert parse_volume("/a:/b") == ("/a", "/b", False)
    assert parse_volume("/a:/b:ro") == ("/a", "/b", True)
