"""config.json validation, mount options, safe destination resolution, CLI parsing, JSON (unit)."""

from __future__ import annotations

import json
import os

import pytest

from dockyard.runtime import jsonlite, mounts, specgen
from dockyard.runtime import spec as specmod
from dockyard.runtime.cli import FLAGS, GLOBAL, UsageError, parse
from dockyard.runtime.errors import SpecError
from dockyard.runtime.state import State, check_id


def valid() -> dict:
    cfg = specgen.default_spec()
    cfg["process"]["terminal"] = False
    return cfg


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda c: c.update(ociVersion="2.0"), 'ociVersion "2.0": must be a 1.x version string'),
    (lambda c: c.pop("root"), "root: must be an object with a path"),
    (lambda c: c["process"].update(args=[]), "process.args: must name the program to run"),
    (lambda c: c["process"].update(args=["sh", 3]), "process.args[1] 3: must be a string"),
    (lambda c: c["process"].update(cwd="tmp"), 'process.cwd "tmp": must be an absolute path'),
    (lambda c: c["process"]["user"].update(uid="0"), 'process.user.uid "0": must be an integer'),
    (lambda c: c["process"]["capabilities"]["effective"].append("CAP_FLY"),
     'process.capabilities.effective[3] "CAP_FLY": unknown capability'),
    (lambda c: c["process"]["rlimits"][0].update(type="RLIMIT_BOGUS"),
     'process.rlimits[0].type "RLIMIT_BOGUS": unknown rlimit'),
    (lambda c: c["linux"]["namespaces"][2].update(type="foo"),
     'config.json: linux.namespaces[2].type "foo": unknown namespace type'),
    (lambda c: c["linux"]["namespaces"].append({"type": "pid"}), 'linux.namespaces[5].type "pid": namespace listed twice'),
    (lambda c: c["linux"]["namespaces"][0].update(path="/nonexistent/ns"),
     'linux.namespaces[0].path "/nonexistent/ns": namespace path does not exist'),
    (lambda c: c["linux"].update(uidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}]),
     "linux.uidMappings: set, but there is no user namespace"),
    (lambda c: c["linux"]["resources"].update(memory={"limit": -5}),
     "linux.resources.memory.limit -5: must be -1 (unlimited) or a byte count"),
    (lambda c: c["linux"]["resources"].update(blockIO={"weight": 5}),
     "linux.resources.blockIO.weight 5: must be between 10 and 1000"),
    (lambda c: c["mounts"][0].update(destination="proc"), 'mounts[0].destination "proc": must be an absolute path'),
    (lambda c: c.update(hooks={"prestop": []}), "hooks.prestop: unknown hook kind"),
    (lambda c: c["linux"].update(seccomp={"defaultAction": "SCMP_ACT_NOPE"}),
     "linux.seccomp.defaultAction 'SCMP_ACT_NOPE': unknown seccomp action"),
    (lambda c: c["linux"].update(seccomp={"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "SCMP_CMP_SOMETIMES"}]}]}),
     "linux.seccomp.syscalls[0].args[0].op 'SCMP_CMP_SOMETIMES': unknown seccomp operator"),
])
def test_validation_names_the_field(mutate, message):
    cfg = valid()
    mutate(cfg)
    with pytest.raises(SpecError) as err:
        specmod.validate(cfg)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_default_spec_is_valid_and_load_reads_bundle(tmp_path):
    specmod.validate(valid())
    specmod.validate(specgen.default_spec(rootless=True))
    (tmp_path / "config.json").write_text(json.dumps(valid()))
    assert specmod.load(str(tmp_path))["hostname"] == "dockyard"
    with pytest.raises(SpecError, match=r"root\.path"):
        specmod.rootfs(specmod.load(str(tmp_path)), str(tmp_path))
    (tmp_path / "config.json").write_text("{oops")
    with pytest.raises(SpecError, match=r"config\.json: invalid JSON"):
        specmod.load(str(tmp_path))
    with pytest.raises(SpecError, match=r"config\.json not found"):
        specmod.load(str(tmp_path / "nowhere"))


def test_parse_options_splits_flags_propagation_and_data():
    flags, prop, data = mounts.parse_options(["nosuid", "noexec", "ro", "rprivate", "mode=755", "size=64k", "rw"])
    assert flags == mounts.MS_NOSUID | mounts.MS_NOEXEC
    assert prop == mounts.MS_PRIVATE | mounts.MS_REC
    assert data == "mode=755,size=64k"
    assert mounts.parse_options(["rbind"])[0] == mounts.MS_BIND | mounts.MS_REC


def test_secure_join_follows_symlinks_inside_and_refuses_escapes(tmp_path):
    root = tmp_path / "rootfs"
    (root / "usr" / "lib").mkdir(parents=True)
    os.symlink("/usr/lib", root / "abs")         # absolute: taken relative to the rootfs
    os.symlink("usr/lib", root / "rel")
    os.symlink("../../../../etc", root / "usr" / "out")
    r = str(root)
    assert mounts.secure_join(r, "/abs/x", "f") == f"{r}/usr/lib/x"
    assert mounts.secure_join(r, "/rel/../lib", "f") == f"{r}/usr/lib"
    assert mounts.secure_join(r, "/a/./b/", "f") == f"{r}/a/b"
    with pytest.raises(SpecError, match=r'mounts\[1\].destination "/usr/out/passwd": escapes the rootfs'):
        mounts.secure_join(r, "/usr/out/passwd", "mounts[1].destination")
    with pytest.raises(SpecError, match="escapes the rootfs"):
        mounts.secure_join(r, "/../etc", "f")
    os.symlink("loop", root / "loop")
    with pytest.raises(SpecError, match="too many levels"):
        mounts.secure_join(r, "/loop", "f")


def test_cli_parse_accepts_runc_flag_styles():
    g, rest = parse(["--root", "/r", "--log-format=json", "create", "-b", "B", "x"], GLOBAL, stop_at_positional=True)
    assert g == {"root": "/r", "log-format": "json"} and rest == ["create", "-b", "B", "x"]
    opts, pos = parse(rest[1:], FLAGS["create"])
    assert opts == {"bundle": "B"} and pos == ["x"]
    opts, pos = parse(["-e", "A=1", "--env=B=2", "-t", "cid", "sh", "-c", "ls -l"], FLAGS["exec"],
                      stop_at_positional=True)
    assert opts == {"env": ["A=1", "B=2"], "tty": True} and pos == ["cid", "sh", "-c", "ls -l"]
    with pytest.raises(UsageError, match="flag provided but not defined: --nope"):
        parse(["--nope"], FLAGS["start"])
    with pytest.raises(UsageError, match="needs an argument"):
        parse(["--bundle"], FLAGS["create"])


def test_jsonlite_round_trips_like_json():
    doc = {"a": [1, 2.5, True, False, None, "é\n\"x\""], "b": {}, "c": [], "d": {"e": -3}}
    assert json.loads(jsonlite.dumps(doc)) == doc
    assert json.loads(jsonlite.dumps(doc, indent=2)) == doc
    assert jsonlite.dumps(doc, indent=2) == json.dumps(doc, indent=2)
    assert jsonlite.loads(json.dumps(doc)) == doc
    assert jsonlite.loads(b'\xef\xbb\xbf {"x": 1} \n') == {"x": 1}
    for bad in ("{oops", '{"a": 1} trailing', ""):
        with pytest.raises(json.JSONDecodeError):
            jsonlite.loads(bad)


def test_state_ids_and_public_view():
    assert check_id("web-1_a.b+c") == "web-1_a.b+c"
    for bad in ("", "..", "a/b", "a b"):
        with pytest.raises(SpecError):
            check_id(bad)
    st = State(id="x", pid=42, bundle="/b", rootfs="/b/rootfs", created="now", start_time=7, cgroup_path="/c")
    out = st.public("running")
    assert out == {"ociVersion": "1.0.2", "id": "x", "pid": 42, "status": "running", "bundle": "/b",
                   "rootfs": "/b/rootfs", "created": "now", "owner": ""}
    assert st.public("stopped")["pid"] == 0
    assert State(**st.to_dict()).to_dict() == st.to_dict()


def test_features_lists_what_validation_accepts():
    feats = specgen.features()
    assert set(feats["linux"]["namespaces"]) == specmod.NAMESPACES
    assert "rbind" in feats["mountOptions"] and "rslave" in feats["mountOptions"]
    assert feats["linux"]["seccomp"]["enabled"] is True
