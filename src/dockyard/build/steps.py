"""The steps that change files -- RUN, COPY/ADD, WORKDIR -- each keyed, cached, or executed.

Every function here gets the stage's :class:`~dockyard.build.state.StageState`, works out the
step's cache key, and either takes the layer from the cache (touching no file system: no mount,
no unpack) or prepares a snapshot over the stage's layers, makes the change, and turns the
snapshot's upper dir into a layer blob.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
from typing import TYPE_CHECKING

from dockyard.build.cache import CachedLayer, step_key
from dockyard.build.context import BuildContext, OutsideContext, SourceNotFound
from dockyard.build.dockerfile import DockerfileError
from dockyard.build.dockerfile import instructions as ins
from dockyard.build.dockerignore import IgnoreMatcher
from dockyard.build.options import PROXY_ARGS
from dockyard.build.state import StageState, command_of, join_workdir
from dockyard.oci.images import LayerBlob

if TYPE_CHECKING:
    from dockyard.build.stagerun import StageRun


def _from_cache(sr: StageRun, key: str, created_by: str) -> bool:
    if sr.build.opts.no_cache:
        return False
    entry = sr.build.cache.get(key, has_blob=sr.build.images.content.has)
    if entry is None:
        return False
    _record(sr.state, entry, created_by)
    sr.state.key = key
    return True


def _record(state: StageState, entry: CachedLayer, created_by: str) -> None:
    if entry.digest is not None and entry.diff_id is not None:
        state.add_layer(LayerBlob(entry.digest, entry.diff_id, entry.size, entry.media_type))
    state.history(created_by, empty=entry.digest is None, created=entry.created)


def _finish(sr: StageRun, key: str, active, created_by: str) -> None:
    """The step's upper dir → a layer (or none), recorded in the stage and the cache."""
    from dockyard.build.diff import has_changes, write_layer

    b = sr.build
    now = b.now()
    if has_changes(active.upper):
        layer = write_layer(b.images.content, active.upper, mtime=b.opts.source_date_epoch,
                            compression=b.opts.compression)
        sr.rootfs.commit(active, layer)
        entry = CachedLayer(layer.digest, layer.diff_id, layer.size, layer.media_type, now)
    else:
        entry = CachedLayer(None, None, 0, "", now)
    b.cache.put(key, entry, now=now)
    _record(sr.state, entry, created_by)
    sr.state.key = key


# -- RUN ----------------------------------------------------------------------------------------


def run_args(state: StageState, instr: ins.Run) -> tuple[list[str], dict[str, str]]:
    """The argv of a RUN, with Docker's heredoc rules; also files to mount for a ``#!`` script."""
    if not instr.shell_form:
        return list(instr.command), {}
    text = instr.command[0] if instr.command else ""
    docs = instr.heredocs
    if docs:
        from dockyard.build.dockerfile.lexer import parse_heredoc_word

        if len(docs) == 1 and parse_heredoc_word(text.strip()):
            data = docs[0].data
            if data.startswith("#!"):
                return [f"/dev/pipes/{docs[0].name}"], {docs[0].name: data}
            text = data
        else:
            text = text + "".join(f"\n{d.content}{d.name}" for d in docs)
    return command_of(state, (text,), True), {}


def do_run(sr: StageRun, instr: ins.Run, n: int) -> None:
    state = sr.state
    args, scripts = run_args(state, instr)
    scoped = {k: v for k, v in state.args.items() if k not in PROXY_ARGS}
    mounts = [dataclasses.asdict(m) for m in instr.mounts]
    created_by = f"RUN {' '.join(args)} # buildkit"
    key = step_key(state.key, "RUN", args, scripts, mounts, instr.network, sorted(scoped.items()),
                   _bind_digests(sr, instr))
    if _from_cache(sr, key, created_by):
        sr.build.progress.cached(n)
        sr.build.count(cached=1)
        return
    from dockyard.build.mounts import mount_target, prepared_mounts
    from dockyard.build.run import RunSpec, run_step

    b = sr.build
    proxies = {k: v for k, v in b.opts.build_args.items() if k in PROXY_ARGS}
    run = RunSpec(args=args, env=state.run_env(proxies), cwd=state.workdir(), user=state.cfg.get("User") or "",
                  network=instr.network)
    secret_env: dict[str, str] = {}
    with sr.rootfs.active(state.layers) as act, prepared_mounts(
            instr.mounts, data_root=b.data_root, scratch=b.scratch, context=b.context,
            secrets=b.opts.secrets, workdir=state.workdir(), env=secret_env, stage_root=sr.stage_root) as extra:
        run.mounts = extra + _script_mounts(b.scratch, scripts)
        run.env = [*run.env, *(f"{k}={v}" for k, v in secret_env.items())]
        run.keep_parents = {mount_target(m, state.workdir()) for m in instr.mounts if m.type != "secret"}
        run_step(act.merged, act.upper, run, state_dir=b.state_dir, output=lambda line: b.progress.log(n, line))
        _finish(sr, key, act, created_by)
    b.count(run=1)


def _script_mounts(scratch, scripts: dict[str, str]) -> list[dict]:
    if not scripts:
        return []
    import tempfile

    d = tempfile.mkdtemp(prefix="pipes-", dir=scratch)
    for name, data in scripts.items():
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(data)
        os.chmod(path, 0o755)
    return [{"destination": "/dev/pipes", "type": "bind", "source": d, "options": ["rbind", "ro"]}]


def _bind_digests(sr: StageRun, instr: ins.Run) -> list[str]:
    """A context bind mount's content is part of the step, as in BuildKit."""
    out = []
    for m in instr.mounts:
        if m.type == "bind" and not m.from_:
            out.append(sr.build.context.digest(sr.build.context.resolve(m.source or ".")))
        elif m.type == "bind":
            out.append(sr.stage_key(m.from_))
    return out


# -- WORKDIR ------------------------------------------------------------------------------------


def do_workdir(sr: StageRun, instr: ins.Workdir, n: int) -> None:
    state = sr.state
    path = join_workdir(state.workdir(), instr.path)
    state.cfg["WorkingDir"] = path
    key = step_key(state.key, "WORKDIR", path)
    created_by = f"WORKDIR {path}"
    if _from_cache(sr, key, created_by):
        sr.build.progress.cached(n)
        return
    from dockyard.build.copy import Copier, Owner

    with sr.rootfs.active(state.layers) as act:
        owner = Owner(0, 0)
        if user := state.cfg.get("User"):
            # BuildKit creates the directory as the current USER (primary group from /etc/passwd)
            from dockyard.engine.spec import resolve_user

            ids = resolve_user(user, act.merged)
            owner = Owner(ids["uid"], ids["gid"])
        Copier(act.merged, owner, None).makedirs(path)
        _finish(sr, key, act, created_by)


# -- COPY / ADD ---------------------------------------------------------------------------------


def _dest(state: StageState, dest: str) -> str:
    if not dest.startswith("/"):
        joined = posixpath.join(state.workdir(), dest)
        return joined + "/" if dest.endswith("/") or dest in (".", "./") else joined
    return dest


def do_copy(sr: StageRun, instr: ins.Copy, n: int) -> None:
    state = sr.state
    is_add = isinstance(instr, ins.Add)
    dest = _dest(state, instr.dest)
    urls = [s for s in instr.sources if is_add and s.startswith(("http://", "https://"))]
    local = [s for s in instr.sources if s not in urls]
    resolved: dict[str, list[str]] = {}
    if instr.from_:
        # the source stage's key fixes its content: no need to look at its files on a cache hit
        parts: list = [sr.stage_key(instr.from_), local]
    else:
        resolved = _resolve(sr, instr, sr.build.context, local)
        ctx = sr.build.context
        parts = [json.dumps(resolved, sort_keys=True), ctx.digest([r for s in local for r in resolved[s]])]
    created_by = f"{instr.keyword} {' '.join([*instr.sources, *(s.name for s in instr.inline)])} {instr.dest} # buildkit"
    key = step_key(state.key, instr.keyword, parts, urls, instr.checksum if is_add else None,
                   [(s.name, s.data) for s in instr.inline], dest, instr.chown, instr.chmod,
                   instr.parents, instr.excludes, instr.unpack if is_add else None)
    if _from_cache(sr, key, created_by):
        sr.build.progress.cached(n)
        return
    from dockyard.build.copy import Copier, fetch_url, parse_chmod, resolve_chown

    chmod = parse_chmod(instr.chmod)
    with sr.rootfs.active(state.layers) as act:
        owner = resolve_chown(instr.chown, act.merged, keep=bool(instr.from_))
        copier = Copier(act.merged, owner, chmod)
        if instr.from_:
            with sr.stage_root(instr.from_) as root:
                src_ctx = BuildContext(root, ignore=IgnoreMatcher([]))
                resolved = _resolve(sr, instr, src_ctx, local)
                dest_is_dir = _dest_is_dir(instr, resolved, dest, copier)
                _copy_all(copier, src_ctx, instr, resolved, local, dest, dest_is_dir, is_add=False)
        else:
            ctx = sr.build.context
            dest_is_dir = _dest_is_dir(instr, resolved, dest, copier)
            _copy_all(copier, ctx, instr, resolved, local, dest, dest_is_dir, is_add=is_add)
        for url in urls:
            data, name, mtime = fetch_url(url, checksum=instr.checksum if is_add else None)
            copier.write_file(data, dest, name, dest_is_dir, mode=0o600, mtime=mtime)
        for inline in instr.inline:
            copier.write_file(inline.data.encode(), dest, inline.name, dest_is_dir)
        _finish(sr, key, act, created_by)


def _copy_all(copier, ctx: BuildContext, instr: ins.Copy, resolved: dict[str, list[str]], local: list[str],
              dest: str, dest_is_dir: bool, *, is_add: bool) -> None:
    from dockyard.build.copy import is_archive

    exclude = IgnoreMatcher(list(instr.excludes)) if instr.excludes else None
    for src in local:
        for rel in resolved[src]:
            if exclude is not None and exclude.excluded(rel):
                continue
            if is_add and instr.unpack is not False and is_archive(ctx.real(rel)):
                copier.extract(ctx.real(rel), dest)
            elif instr.parents:
                # --parents keeps the source's path below the context root
                where = rel if os.path.isdir(ctx.real(rel)) else posixpath.dirname(rel)
                copier.copy_tree(ctx, rel, posixpath.join(dest, where) + "/", True, exclude=exclude)
            else:
                copier.copy_tree(ctx, rel, dest, dest_is_dir, exclude=exclude)


def _dest_is_dir(instr: ins.Copy, resolved: dict[str, list[str]], dest: str, copier) -> bool:
    many = len(instr.sources) + len(instr.inline) > 1 or any(len(r) > 1 for r in resolved.values())
    return dest.endswith("/") or many or copier.is_dir(dest)


def _resolve(sr: StageRun, instr: ins.Copy, ctx: BuildContext, local: list[str]) -> dict[str, list[str]]:
    try:
        return {src: ctx.resolve(src) for src in local}
    except (OutsideContext, SourceNotFound) as e:
        where = f" (in stage {instr.from_})" if instr.from_ else ""
        raise DockerfileError(f"{instr.keyword} {e}{where}", line=instr.line,
                              filename=sr.build.df.filename) from None
