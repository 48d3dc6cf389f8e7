"""One stage of a build, run in its own thread: FROM, the base's ONBUILD triggers, then each step.

FROM resolves to a previous stage's result, ``scratch`` or an image (local store, else its
registry).  Every instruction is expanded in the stage's environment (ARGs in scope under ENV);
metadata instructions change the config through :mod:`dockyard.build.state`, the rest go through
:mod:`dockyard.build.steps`.  Errors come out naming the Dockerfile line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.base.errors import DockyardError, FailedPrecondition
from dockyard.build import steps
from dockyard.build.baseimage import BaseImage, resolve_base
from dockyard.build.cache import step_key
from dockyard.build.dockerfile import DockerfileError, Stage, expand
from dockyard.build.dockerfile import instructions as ins
from dockyard.build.dockerfile.lexer import lex
from dockyard.build.dockerfile.parse import parse_node
from dockyard.build.rootfs import Rootfs
from dockyard.build.state import StageState, apply_metadata, base_state
from dockyard.oci.manifest import Platform

if TYPE_CHECKING:
    from dockyard.build.executor import Build


class BuildFailed(FailedPrecondition):
    """A step failed (a RUN exited non-zero, a file could not be copied); names the line."""


class StageRun:
    def __init__(self, build: Build, stage: Stage) -> None:
        self.build = build
        self.stage = stage
        self.rootfs = Rootfs(build.data_root, build.scratch, build.images.content)
        self.state: StageState
        self.total = 1 + len(stage.instructions)
        self._bases: dict[str, BaseImage] = {}
        self.line = stage.line  # of the instruction being run, for errors
        self.platform: str | None = None  # FROM --platform, expanded

    def label(self, i: int, text: str) -> str:
        name = f"{self.stage.display} " if self.build.multi else ""
        return f"[{name}{i}/{self.total}] {text}"

    def run(self) -> StageState:
        self._from()
        triggers = self._triggers()
        self.total += len(triggers)
        i = 1
        for instr in [*triggers, *self.stage.instructions]:
            i += 1
            self.step(instr, i, onbuild=instr in triggers)
        return self.state

    # -- FROM ----------------------------------------------------------------------------------
    def _from(self) -> None:
        b, st = self.build, self.stage
        try:
            expanded = expand(st.from_, b.meta, escape=b.df.escape)
        except ValueError as e:
            raise DockerfileError(str(e), line=st.line, filename=b.df.filename) from None
        base = expanded.base  # type: ignore[attr-defined]
        self.platform = expanded.platform  # type: ignore[attr-defined]
        n = b.progress.start(self.label(1, f"FROM {base}"))
        epoch = b.opts.source_date_epoch
        prev = b.df.stage(base)
        if prev is not None and prev.index < st.index:
            src = b.results[prev.index]
            self.state = base_state(src.config, src.layers, step_key(src.key, "FROM-stage"), epoch=epoch)
            self.state.config["config"]["OnBuild"] = src.cfg.get("OnBuild") or []
        elif base.lower() == "scratch":
            self.state = base_state({"config": {}}, [], step_key("", "FROM", "scratch"), epoch=epoch)
        else:
            img = self.base_image(base, line=st.line)
            self.state = base_state(img.config, img.layers, step_key("", "FROM", str(img.digest)), epoch=epoch)
            self.state.config["config"]["OnBuild"] = (img.config.get("config") or {}).get("OnBuild") or []
        b.progress.done(n)

    def base_image(self, ref: str, *, line: int) -> BaseImage:
        if ref not in self._bases:
            b = self.build
            try:
                platform = Platform.parse(self.platform) if self.platform else None
                with b.lock:
                    self._bases[ref] = resolve_base(b.images, ref, pull=b.opts.pull, platform=platform,
                                                    note=b.progress.note)
            except DockyardError as e:
                raise DockerfileError(str(e), line=line, filename=b.df.filename) from None
        return self._bases[ref]

    def _triggers(self) -> list[ins.Instruction]:
        cfg = self.state.cfg
        texts = cfg.pop("OnBuild", None) or []
        out = []
        for text in texts:
            lexed = lex(text + "\n").nodes
            out.extend(parse_node(node) for node in lexed)
        return out

    # -- stage sources (COPY --from, RUN --mount=from) -----------------------------------------
    def _source(self, ref: str) -> tuple[str, list]:
        b = self.build
        st = b.df.stage(ref)
        if st is not None and st.index < self.stage.index and st.index in b.results:
            res = b.results[st.index]
            return res.key, res.layers
        try:
            img = self.base_image(ref, line=self.line)
        except DockerfileError as e:
            names = ", ".join(s.name for s in b.df.stages if s.name) or "none"
            raise DockerfileError(f"--from={ref}: no build stage of that name (stages: {names}) "
                                  f"and no such image: {e.detail}", line=self.line,
                                  filename=b.df.filename) from None
        return str(img.digest), img.layers

    def stage_key(self, ref: str) -> str:
        return self._source(ref)[0]

    @contextlib.contextmanager
    def stage_root(self, ref: str) -> Iterator[Path]:
        with self.rootfs.view(self._source(ref)[1]) as root:
            yield root

    # -- one instruction -----------------------------------------------------------------------
    def step(self, raw: ins.Instruction, i: int, *, onbuild: bool = False) -> None:
        b = self.build
        text = raw.original if not onbuild else f"ONBUILD {raw.original}"
        n = b.progress.start(self.label(i, text))
        self.line = raw.line
        try:
            try:
                instr = expand(raw, self.state.expansion_env(), escape=b.df.escape)
            except ValueError as e:
                raise DockerfileError(str(e), line=raw.line, filename=b.df.filename) from None
            self._dispatch(instr, n)
        except DockerfileError as e:
            b.progress.error(n, e.detail)
            raise
        except DockyardError as e:
            b.progress.error(n, str(e))
            raise BuildFailed(f"{b.df.filename}:{raw.line}: {raw.keyword}: {e}") from None
        b.progress.done(n)

    def _dispatch(self, instr: ins.Instruction, n: int) -> None:
        state = self.state
        if isinstance(instr, ins.Run):
            steps.do_run(self, instr, n)
        elif isinstance(instr, ins.Copy):
            steps.do_copy(self, instr, n)
        elif isinstance(instr, ins.Workdir):
            steps.do_workdir(self, instr, n)
        else:
            if isinstance(instr, ins.Arg):
                self._arg(instr)
            try:
                created_by = apply_metadata(state, instr)
            except ValueError as e:
                raise DockerfileError(str(e), line=instr.line, filename=self.build.df.filename) from None
            state.key = step_key(state.key, created_by)
            state.history(created_by, empty=True)

    def _arg(self, instr: ins.Arg) -> None:
        b = self.build
        for kv in instr.args:
            b.declared.add(kv.key)
            if kv.key in b.opts.build_args:
                value: str | None = b.opts.build_args[kv.key]
            elif kv.value is not None:
                value = kv.value
            else:
                value = b.meta.get(kv.key)
            if value is not None:
                self.state.args[kv.key] = value
