"""Stage planning: only what the target needs, dependencies first, independent stages in parallel."""

from __future__ import annotations

import threading
import time

import pytest

from dockyard.build.dockerfile import DockerfileError, parse
from dockyard.build.graph import plan, run_stages

DF = """\
ARG BASE=busybox
FROM $BASE AS deps
RUN fetch
FROM $BASE AS tools
RUN build-tools
FROM deps AS build
COPY --from=tools /t /t
RUN --mount=type=bind,from=deps,target=/d make
FROM $BASE AS unused
FROM scratch
COPY --from=build /out /
"""


def test_plan_keeps_only_needed_stages() -> None:
    p = plan(parse(DF), None, {"BASE": "busybox"})
    assert [s.name for s in p.stages] == ["deps", "tools", "build", None]
    assert p.deps == {0: set(), 1: set(), 2: {0, 1}, 4: {2}}
    t = plan(parse(DF), "TOOLS", {})
    assert [s.name for s in t.stages] == ["tools"]


def test_missing_target_names_it() -> None:
    with pytest.raises(DockerfileError, match="target stage 'nope' could not be found"):
        plan(parse(DF), "nope", {})


def test_numeric_from_must_point_back() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: stage 1 refers to the current"):
        plan(parse("FROM a AS x\nCOPY --from=1 / /\nFROM b\n"), "x", {})


def test_independent_stages_overlap_and_order_is_kept() -> None:
    p = plan(parse(DF), None, {})
    started: dict[int, float] = {}
    finished: dict[int, float] = {}
    both_running = threading.Barrier(2, timeout=5)

    def build(stage):
        started[stage.index] = time.monotonic()
        if stage.index in (0, 1):
            both_running.wait()  # deadlocks (and times out) unless deps and tools run together
        finished[stage.index] = time.monotonic()
        return stage.name

    results = run_stages(p, build)
    assert results == {0: "deps", 1: "tools", 2: "build", 4: None}
    assert started[2] >= max(finished[0], finished[1]) and started[4] >= finished[2]


def test_failure_propagates() -> None:
    p = plan(parse(DF), None, {})

    def build(stage):
        if stage.name == "tools":
            raise RuntimeError("boom")
        return stage.index

    with pytest.raises(RuntimeError, match="boom"):
        run_stages(p, build)
