"""`dockyard build` vs `buildah bud` on the issue's 3-step Dockerfile and a 10-step one.

Both build from the same busybox image (ours, bootstrapped from the host's static busybox and
loaded into buildah's own vfs storage through an oci-archive), both with the base image present:

* cold: no layer cache (`--no-cache`; buildah `--layers --no-cache`), every step executed;
* rebuild: nothing changed, every step served from the layer cache (buildah `--layers`).

buildah runs with `--isolation chroot` and the vfs driver (its only set-up that works in this VM).
Our modules are byte-compiled first, as a wheel install would have them.  Targets (issue 5):
3-step cold <= 1.0 s, no-change rebuild <= 0.15 s, ahead of buildah on both.

    .venv/bin/python bench/run.py build
"""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import Result, time_command

REPO = Path(__file__).resolve().parent.parent

THREE_STEP = """\
FROM busybox
RUN echo hello
COPY app.txt /app/
RUN mkdir -p /data && for i in $(seq 1 1000); do echo $i > /data/f$i; done
"""

TEN_STEP = """\
FROM busybox
ARG VERSION=1.0
ENV APP_HOME=/srv/app
WORKDIR $APP_HOME
COPY app.txt ./
RUN echo "version $VERSION" > version.txt
RUN mkdir -p data && for i in $(seq 1 200); do echo $i > data/f$i; done
LABEL org.example.version=$VERSION
EXPOSE 8080
CMD ["cat", "/srv/app/version.txt"]
"""


def _dockyard(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "dockyard"), *args]


def run() -> list[Result]:
    if os.geteuid() != 0:
        print("bench_build: needs root (overlayfs, runc); skipped")
        return []
    if shutil.which("buildah") is None:
        print("bench_build: buildah is not installed; skipped")
        return []
    compileall.compile_dir(str(REPO / "src" / "dockyard"), quiet=1)
    results = []
    with tempfile.TemporaryDirectory(prefix="dy-bench-build-") as tmp:
        base = Path(tmp)
        env = {**os.environ, "DOCKYARD_ROOT": str(base / "root"), "DOCKYARD_STATE": str(base / "state")}
        subprocess.run(_dockyard("image", "bootstrap", "busybox"), env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(_dockyard("save", "busybox", "-o", str(base / "busybox.tar")), env=env, check=True)
        bh = ["buildah", "--root", str(base / "bh-root"), "--runroot", str(base / "bh-run"),
              "--storage-driver", "vfs"]
        subprocess.run([*bh, "pull", f"oci-archive:{base / 'busybox.tar'}"], check=True, capture_output=True)
        bud = [*bh, "bud", "--isolation", "chroot", "--pull-never", "--layers", "-q"]
        try:
            for name, text in (("3-step", THREE_STEP), ("10-step", TEN_STEP)):
                ctx = base / name
                ctx.mkdir()
                (ctx / "Dockerfile").write_text(text)
                (ctx / "app.txt").write_text("app\n")
                ours_cold = time_command(_dockyard("build", "-q", "--no-cache", "-t", f"b-{name}", str(ctx)),
                                         runs=5, env=env)
                ours_hot = time_command(_dockyard("build", "-q", "-t", f"b-{name}", str(ctx)), runs=10, env=env)
                theirs_cold = time_command([*bud, "--no-cache", "-t", f"b-{name}", str(ctx)], runs=3)
                theirs_hot = time_command([*bud, "-t", f"b-{name}", str(ctx)], runs=5)
                cold_target = "target <= 1.0 s" if name == "3-step" else "target: ahead of buildah"
                results += [
                    Result(f"build {name} cold (no cache)", ours_cold, theirs_cold, "buildah", target=cold_target),
                    Result(f"build {name} no-change rebuild", ours_hot, theirs_hot, "buildah",
                           target="target <= 0.15 s"),
                ]
        finally:
            subprocess.run([*bh, "rmi", "--all", "--force"], capture_output=True)
    return results
