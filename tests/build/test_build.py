"""Building for real (overlay snapshots, runc): cache behaviour, errors, heredocs, secrets, outputs."""

from __future__ import annotations

import json
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dockyard.base.errors import DockyardError
from dockyard.build.dockerfile import DockerfileError
from dockyard.oci.images import ImageStore

from .helpers import bootstrap_busybox, dockyard_build, image_rootfs, write_tree

pytestmark = [pytest.mark.privileged]


@pytest.fixture
def root(data_root: Path) -> Path:
    bootstrap_busybox(data_root)
    return data_root


def build(root: Path, state_dir: Path, ctx: Path, **kw):
    return dockyard_build(root, state_dir, ctx, **kw)


def names(root: Path) -> set[str]:
    images = ImageStore(root)
    try:
        return {n for r in images.list() for n in r.names}
    finally:
        images.close()


def layer_members(root: Path, ref: str) -> list[tuple[str, bytes]]:
    images = ImageStore(root)
    out = []
    try:
        manifest, _ = images.manifest_for(images.resolve(ref))
        for layer in manifest.layers[1:]:
            with images.content.open(layer.digest) as blob, tarfile.open(fileobj=blob, mode="r|*") as tar:
                for m in tar:
                    f = tar.extractfile(m) if m.isfile() else None
                    out.append((m.name, f.read() if f else b""))
    finally:
        images.close()
    return out


CACHE_DF = """\
FROM busybox
RUN echo first > /first
COPY a.txt /a.txt
RUN cat /a.txt > /derived
COPY b.txt /b.txt
ARG NOTE=one
RUN echo "$NOTE" > /note
"""


def test_cache_rebuild_runs_nothing_and_a_change_rebuilds_from_its_copy(root: Path, state_dir: Path,
                                                                          tmp_path: Path) -> None:
    ctx = write_tree(tmp_path / "ctx", {"Dockerfile": CACHE_DF, "a.txt": "a\n", "b.txt": "b\n"})
    first = build(root, state_dir, ctx, tags=["cache:1"])
    assert first.steps_run == 3
    again = build(root, state_dir, ctx, tags=["cache:2"])
    assert (again.steps_run, again.steps_cached) == (0, 3)
    assert again.image_id == first.image_id

    (ctx / "b.txt").write_text("b changed\n")
    changed = build(root, state_dir, ctx, tags=["cache:3"])
    assert (changed.steps_run, changed.steps_cached) == (1, 2)  # only the RUN after COPY b.txt
    assert changed.layers[:4] == first.layers[:4]

    (ctx / "a.txt").touch()  # a new mtime is no change
    assert build(root, state_dir, ctx).steps_run == 0

    arg = build(root, state_dir, ctx, build_args={"NOTE": "two"})
    assert (arg.steps_run, arg.steps_cached) == (1, 2)  # RUNs before the ARG line stay cached
    assert build(root, state_dir, ctx, no_cache=True).steps_run == 3

    rootfs, _ = image_rootfs(root, "cache:3", tmp_path / "out")
    assert (rootfs / "b.txt").read_text() == "b changed\n" and (rootfs / "derived").read_text() == "a\n"


@pytest.mark.parametrize(("dockerfile", "files", "line", "message"), [
    ("FROM busybox\nRUN true\nCOPPY a b\n", {}, 3, "unknown instruction: COPPY"),
    ("FROM busybox\nCMD ['sh', '-c']\n", {}, 2, "bad JSON form"),
    ("FROM busybox\nRUN <<EOF\necho never closed\n", {}, 2, "unterminated heredoc"),
    ("FROM busybox\nRUN true\nCOPY --from=nosuch /x /x\n", {}, 3, "'nosuch'"),
    ("FROM busybox\nCOPY ../outside /x\n", {}, 2, "outside the build context"),
    ("FROM busybox\nCOPY missing.txt /x\n", {}, 2, "missing.txt: not found in the build context"),
    ("FROM nosuchimage:1\n", {}, 1, "dockyard image bootstrap busybox"),
    ("FROM busybox\nENV A=\"${B:?must be set}\"\n", {}, 2, "must be set"),
    ("FROM busybox\nRUN true\nRUN exit 3\n", {}, 3, "exit code: 3"),
])
def test_malformed_or_failing_builds_name_the_line_and_tag_nothing(
        root: Path, state_dir: Path, tmp_path: Path, dockerfile: str, files: dict, line: int,
        message: str) -> None:
    ctx = write_tree(tmp_path / "ctx", {"Dockerfile": dockerfile, **files})
    with pytest.raises(DockyardError) as exc:
        build(root, state_dir, ctx, tags=["broken:latest"])
    assert str(exc.value).startswith(f"Dockerfile:{line}: ")
    assert message in str(exc.value)
    assert names(root) == {"docker.io/library/busybox:latest"}


def test_missing_target(root: Path, state_dir: Path, tmp_path: Path) -> None:
    ctx = write_tree(tmp_path / "ctx", {"Dockerfile": "FROM busybox AS a\n"})
    with pytest.raises(DockerfileError, match="target stage 'b' could not be found"):
        build(root, state_dir, ctx, target="b", tags=["t"])


def test_heredocs(root: Path, state_dir: Path, tmp_path: Path) -> None:
    df = """\
FROM busybox
ARG WHO=world
RUN <<EOF
echo "script $WHO" > /script.txt
echo second line >> /script.txt
EOF
RUN <<EOF
#!/bin/sh
echo "shebang $0" > /shebang.txt
EOF
RUN cat <<-A > /tabs.txt && cat <<'B' > /raw.txt
\thello $WHO
\tA
raw $WHO
B
COPY <<conf.ini <<'raw.ini' /etc/app/
name=$WHO
conf.ini
name=$WHO
raw.ini
"""
    ctx = write_tree(tmp_path / "ctx", {"Dockerfile": df})
    build(root, state_dir, ctx, tags=["heredoc"])
    fs, _ = image_rootfs(root, "heredoc", tmp_path / "out")
    assert (fs / "script.txt").read_text() == "script world\nsecond line\n"
    assert (fs / "shebang.txt").read_text() == "shebang /dev/pipes/EOF\n"
    assert (fs / "tabs.txt").read_text() == "hello world\n"
    assert (fs / "raw.txt").read_text() == "raw $WHO\n"
    assert (fs / "etc/app/conf.ini").read_text() == "name=world\n"
    assert (fs / "etc/app/raw.ini").read_text() == "name=$WHO\n"
    assert not (fs / "dev/pipes").exists()


def test_secrets_never_reach_layers_history_or_config(root: Path, state_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("TOPSECRET-42")
    df = ("FROM busybox\n"
          "RUN --mount=type=secret,id=tok,required cp /run/secrets/tok /leak-check && rm /leak-check "
          "&& wc -c < /run/secrets/tok > /len\n"
          "RUN --mount=type=secret,id=tok,env=TOK echo ${#TOK} > /envlen\n")
    ctx = write_tree(tmp_path / "ctx", {"Dockerfile": df})
    result = build(root, state_dir, ctx, tags=["secret"], secrets={"tok": secret})
    members = layer_members(root, "secret")
    assert members == [("len", b"12\n"), ("envlen", b"12\n")]
    assert all(b"TOPSECRET" not in data for _, data in members)
    assert "TOPSECRET" not in json.dumps(result.config)
    with pytest.raises(DockyardError, match="secret 'tok': required"):
        build(root, state_dir, ctx, tags=["secret2"], no_cache=True)


def test_source_date_epoch_makes_builds_byte_identical(root: Path, state_dir: Path, tmp_path: Path) -> None:
    ctx = write_tree(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nCOPY a /a\nRUN echo x > /x\nLABEL a=b\n",
                                        "a": "a"})
    one = build(root, state_dir, ctx, source_date_epoch=1_700_000_000.0, no_cache=True)
    two = build(root, state_dir, ctx, source_date_epoch=1_700_000_000.0, no_cache=True)
    assert one.digest == two.digest and one.image_id == two.image_id
    assert one.config["created"] == "2023-11-14T22:13:20Z"


def test_onbuild_triggers_run_in_the_child(root: Path, state_dir: Path, tmp_path: Path) -> None:
    parent = write_tree(tmp_path / "p", {"Dockerfile": "FROM busybox\nONBUILD RUN echo triggered > /onbuild\n"})
    build(root, state_dir, parent, tags=["withtrigger"])
    child = write_tree(tmp_path / "c", {"Dockerfile": "FROM withtrigger\nRUN cat /onbuild > /seen\n"})
    result = build(root, state_dir, child, tags=["child"])
    fs, cfg = image_rootfs(root, "child", tmp_path / "out")
    assert (fs / "seen").read_text() == "triggered\n"
    assert not (cfg.get("config") or {}).get("OnBuild") and result.steps_run == 2


def test_add_url_from_a_local_server_and_a_clear_error_without_one(root: Path, state_dir: Path,
                                                                  tmp_path: Path) -> None:
    served = write_tree(tmp_path / "www", {"file.txt": "from http\n"})
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        df = f"FROM busybox\nADD http://127.0.0.1:{port}/file.txt /dl/\n"
        build(root, state_dir, write_tree(tmp_path / "ctx", {"Dockerfile": df}), tags=["url"])
    finally:
        server.shutdown()
        server.server_close()
    fs, _ = image_rootfs(root, "url", tmp_path / "out")
    assert (fs / "dl/file.txt").read_text() == "from http\n"
    assert oct((fs / "dl/file.txt").stat().st_mode & 0o777) == "0o600"
    df2 = f"FROM busybox\nADD http://127.0.0.1:{port}/file.txt /x\n"
    with pytest.raises(DockyardError, match=r"Dockerfile:2: .*cannot fetch it"):
        build(root, state_dir, write_tree(tmp_path / "ctx2", {"Dockerfile": df2}), tags=["nourl"])


def test_copy_parents_exclude_and_per_dockerfile_ignore(root: Path, state_dir: Path, tmp_path: Path) -> None:
    df = ("FROM busybox\n"
          "COPY --parents src/a/*.py /keep/\n"
          "COPY --exclude=*.log --exclude=tmp src /filtered/\n"
          "ADD --unpack=false pkg.tar /raw/\n"
          "COPY . /all/\n")
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("inner.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"in"))
    ctx = write_tree(tmp_path / "ctx", {
        "app.Dockerfile": df, "app.Dockerfile.dockerignore": "*.secret\n", "x.secret": "no",
        "src/a/one.py": "1", "src/a/two.txt": "2", "src/debug.log": "l", "src/tmp/t": "t", "src/ok": "ok",
        "pkg.tar": buf.getvalue()})
    build(root, state_dir, ctx, dockerfile=ctx / "app.Dockerfile", tags=["parents"])
    fs, _ = image_rootfs(root, "parents", tmp_path / "out")
    assert (fs / "keep/src/a/one.py").read_text() == "1" and not (fs / "keep/src/a/two.txt").exists()
    assert sorted(p.name for p in (fs / "filtered").rglob("*")) == ["a", "ok", "one.py", "two.txt"]
    assert (fs / "raw/pkg.tar").is_file()
    assert (fs / "all/src/ok").exists() and not (fs / "all/x.secret").exists()


def test_predefined_args_proxies_and_unused_build_args(root: Path, state_dir: Path, tmp_path: Path) -> None:
    from dockyard.oci.manifest import Platform

    df = ("ARG TAG=latest\nFROM --platform=$BUILDPLATFORM busybox:${TAG}\nARG TARGETARCH\nARG TARGETPLATFORM\n"
          "RUN echo \"$TARGETARCH $TARGETPLATFORM $HTTP_PROXY\" > /arch\n")
    ctx = write_tree(tmp_path / "ctx", {"Dockerfile": df})
    result = build(root, state_dir, ctx, tags=["args"],
                   build_args={"HTTP_PROXY": "http://proxy:3128", "UNUSED": "1"})
    fs, cfg = image_rootfs(root, "args", tmp_path / "out")
    host = Platform.host()
    assert (fs / "arch").read_text() == f"{host.architecture} {host} http://proxy:3128\n"
    assert "proxy:3128" not in json.dumps(cfg)
    assert result.warnings == ["one or more build-args ['UNUSED'] were not consumed"]


def test_a_build_sweeps_what_a_killed_build_left(root: Path, state_dir: Path, tmp_path: Path) -> None:
    from dockyard.oci.snapshot.overlay import OverlaySnapshotter

    snap = OverlaySnapshotter(root / "snapshots")
    try:
        snap.prepare("build-deadbeef0000-0123456789ab", None)
        leftover = state_dir / "build" / "b-deadbeef0000"
        leftover.mkdir(parents=True)
        ctx = write_tree(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nRUN true\n"})
        build(root, state_dir, ctx)
        assert [i.key for i in snap.walk() if i.key.startswith("build-")] == []
        assert not leftover.exists()
    finally:
        snap.close()


def test_run_network_none_has_only_loopback(root: Path, state_dir: Path, tmp_path: Path) -> None:
    df = ("FROM busybox\nRUN --network=none ls /sys/class/net > /none.txt\n"
          "RUN --network=host ls /sys/class/net > /host.txt\n")
    build(root, state_dir, write_tree(tmp_path / "ctx", {"Dockerfile": df}), tags=["net"])
    fs, _ = image_rootfs(root, "net", tmp_path / "out")
    assert (fs / "none.txt").read_text().split() == ["lo"]
    assert len((fs / "host.txt").read_text().split()) > 1
