"""Which stages a build needs, in what order, and running independent ones side by side.

A stage depends on another when it starts ``FROM`` it, copies ``COPY --from`` it, or mounts
``RUN --mount=from=`` it.  Only the stages the target (``--target``, else the last stage) reaches
are built -- as BuildKit does, unlike docker's classic builder which built every stage.  Stages
whose dependencies are done run in a thread pool, so two independent builder stages overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dockyard.build.dockerfile import DockerfileError, ShellLex
from dockyard.build.dockerfile import instructions as ins


@dataclass(frozen=True, slots=True)
class Plan:
    target: ins.Stage
    stages: list[ins.Stage]            # needed stages, dependencies first
    deps: dict[int, set[int]]          # stage index → indexes it waits for


def stage_refs(stage: ins.Stage, df: ins.Dockerfile, env: Mapping[str, str]) -> set[int]:
    """Indexes of earlier stages *stage* reads from (names that are no stage are images)."""
    lex = ShellLex(escape=df.escape)
    refs: list[tuple[str, int]] = [(lex.process_word(stage.base, env), stage.line)]
    for instr in stage.instructions:
        if isinstance(instr, ins.Copy) and instr.from_:
            refs.append((lex.process_word(instr.from_, env), instr.line))
        elif isinstance(instr, ins.Run):
            refs.extend((lex.process_word(m.from_, env), instr.line) for m in instr.mounts if m.from_)
    out = set()
    for ref, line in refs:
        dep = df.stage(ref)
        if dep is None:
            continue
        if dep.index >= stage.index:
            if ref.isdigit():
                raise DockerfileError(f"stage {ref} refers to the current or a later build stage",
                                      line=line, filename=df.filename)
            continue  # a later stage's name can only mean an image of that name, as in docker
        out.add(dep.index)
    return out


def plan(df: ins.Dockerfile, target: str | None, env: Mapping[str, str]) -> Plan:
    if target:
        stage = df.stage(target)
        if stage is None:
            raise DockerfileError(f"target stage {target!r} could not be found", filename=df.filename)
    else:
        stage = df.stages[-1]
    deps: dict[int, set[int]] = {}
    todo = [stage.index]
    while todo:
        i = todo.pop()
        if i in deps:
            continue
        deps[i] = stage_refs(df.stages[i], df, env)
        todo.extend(deps[i])
    return Plan(stage, [s for s in df.stages if s.index in deps], deps)


def run_stages(p: Plan, build: Callable[[ins.Stage], object], *, workers: int = 4) -> dict[int, object]:
    """Call *build* for every planned stage once its dependencies are done; results by index.

    The first failure cancels stages not yet started and is re-raised.
    """
    results: dict[int, object] = {}
    lock = threading.Lock()
    if len(p.stages) == 1:
        results[p.stages[0].index] = build(p.stages[0])
        return results
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    futures: dict[int, Future] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stage") as pool:
        pending = {s.index: s for s in p.stages}
        while pending or any(not f.done() for f in futures.values()):
            for i, s in list(pending.items()):
                if all(d in futures and futures[d].done() and not futures[d].exception()
                       for d in p.deps[i]):
                    del pending[i]
                    futures[i] = pool.submit(_record, build, s, results, lock)
            running = [f for f in futures.values() if not f.done()]
            if not running:
                if pending:
                    break
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in done:
                if f.exception():
                    for other in futures.values():
                        other.cancel()
                    raise f.exception()  # type: ignore[misc]
    return results


def _record(build: Callable[[ins.Stage], object], stage: ins.Stage, results: dict[int, object],
            lock: threading.Lock) -> None:
    value = build(stage)
    with lock:
        results[stage.index] = value
