"""`dockyard run`'s click-free parser agrees with click's, and hands click what it does not parse."""

from __future__ import annotations

import pytest

from dockyard.cli import container, fastrun

SAMPLES = [
    ["busybox"],
    ["--rm", "busybox", "true"],
    ["-d", "--name", "web", "busybox", "sleep", "1"],
    ["-it", "--rm", "busybox", "sh"],
    ["-dit", "-e", "A=1", "-eB=2", "--env=C=3", "busybox"],
    ["-v", "/a:/b:ro", "--volume=/c:/d", "--tmpfs", "/run", "-w", "/tmp", "-u", "1000:1000", "busybox"],
    ["-h", "box", "--entrypoint", "sh -c", "-m", "64m", "--cpus", "0.5", "--pids-limit", "10", "busybox"],
    ["--network", "host", "--read-only", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN", "busybox"],
    ["--net=bridge", "-p", "8080:80", "-P", "--network-alias", "db", "--ip", "10.88.0.9", "--dns", "1.1.1.1",
     "busybox"],
    ["--security-opt", "seccomp=unconfined", "--runtime", "runc", "--userns", "host", "busybox"],
    ["--pod", "p1", "--sandbox", "-l", "a=b", "--label", "c=d", "busybox"],
    ["--rm", "busybox", "sh", "-c", "--rm -d echo"],  # everything after the image is the command
]


def _click(argv: list[str]):
    ctx = container.run.make_context("run", list(argv))
    kw = dict(ctx.params)
    image, command = kw.pop("image"), kw.pop("command")
    auto_remove, detach = kw.pop("auto_remove"), kw.pop("detach")
    return container._build_options(image, command, kw, auto_remove=auto_remove), detach, kw["sandbox"]


def _fast(argv: list[str]):
    parsed = fastrun.parse(argv)
    assert parsed is not None, f"fastrun should parse {argv}"
    image, command, kw = parsed
    return fastrun.build_options(image, command, kw, auto_remove=kw["auto_remove"]), kw["detach"], kw["sandbox"]


@pytest.mark.parametrize("argv", SAMPLES, ids=lambda a: " ".join(a)[:40])
def test_fast_parser_builds_the_same_options_as_click(argv: list[str]) -> None:
    assert _fast(argv) == _click(argv)


def test_network_default_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_NETWORK", "bridge")
    assert _fast(["busybox"]) == _click(["busybox"])
    assert _fast(["busybox"])[0].network == "bridge"


@pytest.mark.parametrize("argv", [
    ["--help", "busybox"], ["--no-such-flag", "busybox"], ["--pids-limit", "many", "busybox"],
    ["--runtime", "kata", "busybox"], [], ["--rm"], ["--", "busybox"], ["--rm=yes", "busybox"], ["-x", "busybox"],
])
def test_anything_else_goes_to_click(argv: list[str]) -> None:
    assert fastrun.parse(argv) is None


def test_every_run_flag_of_click_is_known_to_the_fast_parser() -> None:
    # A flag added to click's `run` only still works (fastrun falls back to click), but every
    # `dockyard run` using it would pay click's imports: add it to fastrun.FLAGS too.
    known = {dest for dest, _ in fastrun.FLAGS.values()} | {"image", "command"}
    for param in container.run.params:
        assert param.name in known, f"run's {param.opts} is missing from fastrun.FLAGS"
        for opt in param.opts:
            if opt.startswith("--"):
                assert fastrun.FLAGS[opt[2:]][0] == param.name
            elif opt.startswith("-") and param.name != "image":
                assert fastrun.FLAGS[fastrun.SHORT[opt[1:]]][0] == param.name


def test_an_option_only_click_fills_in_falls_back_before_anything_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fastrun.build_options

    def build_with_new_flag(image, command, kw, *, auto_remove=False):
        kw["flag_added_to_click_only"]  # what build_options would read for a flag FLAGS lacks
        return real(image, command, kw, auto_remove=auto_remove)

    monkeypatch.setattr(fastrun, "build_options", build_with_new_flag)
    assert fastrun.main(["--rm", "busybox", "true"]) is None


RUN_PATH_IMPORTS = """
import sys
from dockyard.cli import fastrun
fastrun.import_pathlib_without_urllib()
from dockyard.engine import attach, bundle, engine, options, rootfs, shimclient, spec, store
from dockyard.oci import images
from dockyard.oci.snapshot import overlay
loaded = [m for m in ("dataclasses", "inspect") if m in sys.modules]
assert not loaded, f"the run path imports {loaded}: use dockyard.base.record for its value classes"
print("ok")
"""


def test_the_run_path_imports_neither_dataclasses_nor_inspect() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", RUN_PATH_IMPORTS], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


RUN_PATH_SKIPS = """
import sys
from dockyard.cli import fastrun
fastrun.import_pathlib_without_urllib()
from dockyard.engine import attach, bundle, engine, options, rootfs, shimclient, spec, store
from dockyard.oci import images
from dockyard.oci.snapshot import overlay
skipped = [m for m in ("urllib.parse", "ipaddress", "hashlib", "socket") if m in sys.modules]
assert not skipped, skipped
from pathlib import Path
assert Path("/a b").as_uri() == "file:///a%20b"  # the stand-in's quote_from_bytes imports the real one
import urllib.parse
assert urllib.parse.urlsplit("http://h/p").netloc == "h"
print("ok")
"""


def test_the_run_path_skips_urllib_hashlib_and_socket() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", RUN_PATH_SKIPS], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_main_leaves_the_garbage_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    assert fastrun.main(["--help"]) is None
    assert gc.isenabled()
    monkeypatch.setattr(fastrun, "build_options", lambda *a, **k: {}["flag_added_to_click_only"])
    with pytest.raises(KeyError):
        fastrun.main(["busybox"])
    assert gc.isenabled()
