"""Running a build: Dockerfile → stages (in parallel where independent) → an image in the store.

:class:`Builder` reads and parses the Dockerfile, works out the global ARGs (with ``--build-arg``
and the predefined platform ARGs), plans the stages the target needs, and runs each in its own
thread as a :class:`StageRun`: FROM (a previous stage, ``scratch`` or an image), ONBUILD triggers
of the base, then every instruction -- metadata ones change the config, RUN/COPY/ADD/WORKDIR go
through :mod:`dockyard.build.steps`.  Only when every stage succeeded is the image committed and
tagged, so a failed build leaves no tag behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import uuid
from pathlib import Path

from dockyard.base import paths
from dockyard.base.clock import Clock, SystemClock, rfc3339
from dockyard.base.errors import InvalidArgument
from dockyard.build import graph
from dockyard.build.cache import BuildCache
from dockyard.build.context import BuildContext
from dockyard.build.dockerfile import Dockerfile, DockerfileError, Stage, expand, parse
from dockyard.build.dockerignore import IgnoreMatcher, parse_patterns
from dockyard.build.options import PROXY_ARGS, BuildOptions, BuildResult
from dockyard.build.progress import Progress
from dockyard.build.stagerun import BuildFailed, StageRun
from dockyard.build.state import StageState
from dockyard.oci import mediatypes
from dockyard.oci.images import ImageStore, commit_image
from dockyard.oci.manifest import Platform


def platform_args(target: str | None) -> dict[str, str]:
    host = Platform.host()
    want = Platform.parse(target) if target else host
    out = {}
    for prefix, p in (("BUILD", host), ("TARGET", want)):
        out[f"{prefix}PLATFORM"] = str(p)
        out[f"{prefix}OS"] = p.os
        out[f"{prefix}ARCH"] = p.architecture
        out[f"{prefix}VARIANT"] = p.variant or ""
    return out


class Builder:
    def __init__(self, *, data_root: Path | None = None, state_dir: Path | None = None,
                 progress: Progress | None = None, clock: Clock | None = None) -> None:
        self.data_root = paths.data_root(data_root)
        self.state_dir = paths.state_dir(state_dir)
        self.progress = progress or Progress("quiet")
        self.clock = clock or SystemClock()

    def build(self, opts: BuildOptions) -> BuildResult:
        images = ImageStore(self.data_root, clock=self.clock)
        cache = BuildCache(self.data_root)
        try:
            return Build(self, opts, images, cache).run()
        finally:
            cache.close()
            images.close()


class Build:
    """One build's shared state; stage threads read it and add their results."""

    def __init__(self, builder: Builder, opts: BuildOptions, images: ImageStore, cache: BuildCache) -> None:
        self.builder, self.opts, self.images, self.cache = builder, opts, images, cache
        self.data_root, self.state_dir, self.progress = builder.data_root, builder.state_dir, builder.progress
        self.scratch = self.state_dir / "build" / f"b-{uuid.uuid4().hex[:12]}"
        self.results: dict[int, StageState] = {}
        self.lock = threading.Lock()
        self.steps_run = 0
        self.steps_cached = 0
        self.warnings: list[str] = []
        self.df: Dockerfile
        self.context: BuildContext
        self.meta: dict[str, str] = {}
        self.declared: set[str] = set()
        self.multi = False

    def now(self) -> float:
        return self.builder.clock.now()

    def count(self, *, run: int = 0, cached: int = 0) -> None:
        with self.lock:  # stage threads report concurrently
            self.steps_run += run
            self.steps_cached += cached

    def load(self) -> None:
        opts = self.opts
        if not opts.context.is_dir():
            raise InvalidArgument(f"build context {opts.context}: not a directory")
        path = opts.dockerfile or opts.context / "Dockerfile"
        try:
            text = path.read_text()
        except OSError as e:
            raise InvalidArgument(f"Dockerfile {path}: cannot read it ({e.strerror})") from None
        self.df = parse(text, filename=path.name)
        # BuildKit reads <name>.dockerignore next to the Dockerfile before the context's own
        own = path.parent / f"{path.name}.dockerignore"
        ignore = IgnoreMatcher(parse_patterns(own.read_text())) if own.is_file() else None
        self.context = BuildContext(opts.context, ignore=ignore,
                                    hashes=self.cache.file_hashes(str(opts.context.resolve())))
        self.meta = platform_args(opts.platform)
        self.declared = set(self.meta)
        for arg in self.df.meta_args:
            try:
                arg = expand(arg, self.meta, escape=self.df.escape)
            except ValueError as e:
                raise DockerfileError(str(e), line=arg.line, filename=self.df.filename) from None
            for kv in arg.args:
                self.declared.add(kv.key)
                value = opts.build_args.get(kv.key, kv.value)
                if value is not None:
                    self.meta[kv.key] = value

    def run(self) -> BuildResult:
        self.load()
        p = graph.plan(self.df, self.opts.target, self.meta)
        self.multi = len(p.stages) > 1
        self.scratch.mkdir(parents=True, exist_ok=True)
        lock = self.scratch.parent / f"{self.scratch.name}.lock"
        lock_fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock_fd, fcntl.LOCK_EX)  # tells a later build's sweep that we are alive
        try:
            graph.run_stages(p, self._stage)
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
            lock.unlink(missing_ok=True)
            os.close(lock_fd)
        self._save_hashes()
        unused = sorted(set(self.opts.build_args) - self.declared - PROXY_ARGS)
        if unused:
            self.warnings.append(f"one or more build-args {unused} were not consumed")
            self.progress.note(f"[Warning] One or more build-args {unused} were not consumed")
        return self.commit(self.results[p.target.index])

    def _save_hashes(self) -> None:
        ctx = self.context
        if not ctx.new_hashes:
            return
        root = str(ctx.root)
        self.cache.save_file_hashes(root, ctx.new_hashes)
        # the older stat keys of a re-hashed path are dead weight now
        changed = {k.split("\0", 1)[0] for k in ctx.new_hashes}
        keep = {k for k in ctx.hashes if k.split("\0", 1)[0] not in changed} | set(ctx.new_hashes)
        self.cache.forget_file_hashes(root, keep)

    def _stage(self, stage: Stage) -> StageState:
        sr = StageRun(self, stage)
        try:
            state = sr.run()
        finally:
            sr.rootfs.close()
        with self.lock:
            self.results[stage.index] = state
        return state

    def commit(self, state: StageState) -> BuildResult:
        config = state.config
        epoch = self.opts.source_date_epoch
        config["created"] = rfc3339(epoch if epoch is not None else (state.last_created or self.now()))
        want = Platform.parse(self.opts.platform) if self.opts.platform else Platform.host()
        config["architecture"], config["os"] = want.architecture, want.os
        if self.opts.labels:
            config["config"]["Labels"] = {**(config["config"].get("Labels") or {}), **self.opts.labels}
        tags = self.opts.tags
        n = self.progress.start("exporting to image")
        digest = commit_image(self.images, layers=state.layers, config=config, name=tags[0] if tags else None)
        for extra in tags[1:]:
            self.images.tag(extra, digest, mediatypes.OCI_MANIFEST)
        record = self.images.get(digest)
        self.progress.log(n, f"writing image {record.id}")
        for t in tags:
            self.progress.log(n, f"naming to {t}")
        self.progress.done(n)
        return BuildResult(digest, record.id, config, list(state.layers), self.steps_run, self.steps_cached,
                           self.warnings)

__all__ = ["Build", "BuildFailed", "Builder", "platform_args"]
