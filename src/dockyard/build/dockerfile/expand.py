"""Variable expansion applied exactly where Docker applies it.

The builder (not a shell) expands ``$VAR`` in ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL,
USER, VOLUME, WORKDIR, in ARG defaults, in COPY/ADD flags (``--from``, ``--chown``, ``--chmod``),
in ``RUN --mount`` options and in unquoted COPY/ADD heredoc bodies.  RUN, CMD, ENTRYPOINT, SHELL,
HEALTHCHECK and ONBUILD text is left alone: the container's shell expands it at run time (with
ARG values in its environment).  ``expand`` also reports which variables an instruction read,
because a build arg read by an instruction belongs in that instruction's cache key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from dockyard.build.dockerfile import instructions as ins
from dockyard.build.dockerfile.shell import ExpansionError, ShellLex


def expand(instr: ins.Instruction, env: Mapping[str, str], *, escape: str = "\\",
           used: set[str] | None = None) -> ins.Instruction:
    """*instr* with its expandable fields expanded in *env*; ValueError names the problem."""
    used = used if used is not None else set()
    lex = ShellLex(escape=escape)

    def word(text: str) -> str:
        return lex.process_word(text, env, used)

    def opt(text: str | None) -> str | None:
        return None if text is None else word(text)

    try:
        return _expand(instr, word, opt, lambda t: lex.process_words(t, env, used), env, escape, used)
    except ExpansionError as e:
        raise ValueError(f"{instr.keyword}: {e}") from None


def _expand(instr, word, opt, words, env, escape, used):
    rep = dataclasses.replace
    if isinstance(instr, ins.Copy):  # also ADD
        body = ShellLex(escape=escape, skip_quotes=True)
        inline = tuple(rep(s, data=body.process_word(s.data, env, used)) if s.expand else s
                       for s in instr.inline)
        return rep(instr, sources=tuple(word(s) for s in instr.sources), dest=word(instr.dest),
                   inline=inline, from_=opt(instr.from_), chown=opt(instr.chown), chmod=opt(instr.chmod),
                   excludes=tuple(word(x) for x in instr.excludes))
    if isinstance(instr, ins.Env | ins.Label):
        return rep(instr, pairs=tuple(ins.KeyValue(word(p.key), word(p.value or "")) for p in instr.pairs))
    if isinstance(instr, ins.Arg):
        return rep(instr, args=tuple(ins.KeyValue(a.key, opt(a.value)) for a in instr.args))
    if isinstance(instr, ins.Expose):
        return rep(instr, ports=tuple(p for w in instr.ports for p in words(w)))
    if isinstance(instr, ins.Volume):
        return rep(instr, paths=tuple(word(p) for p in instr.paths))
    if isinstance(instr, ins.Workdir):
        return rep(instr, path=word(instr.path))
    if isinstance(instr, ins.User):
        return rep(instr, user=word(instr.user))
    if isinstance(instr, ins.Stopsignal):
        return rep(instr, signal=word(instr.signal))
    if isinstance(instr, ins.From):
        return rep(instr, base=word(instr.base), platform=opt(instr.platform))
    if isinstance(instr, ins.Run) and instr.mounts:
        mounts = tuple(rep(m, target=word(m.target), source=word(m.source), id=word(m.id),
                           from_=word(m.from_)) for m in instr.mounts)
        return rep(instr, mounts=mounts)
    return instr
