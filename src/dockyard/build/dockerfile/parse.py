"""Dockerfile text → :class:`Dockerfile` (global ARGs plus stages of typed instructions).

Each instruction's arguments are read the way Docker reads that instruction: JSON (exec) or
shell form for RUN/CMD/ENTRYPOINT, JSON required for SHELL, whitespace words for COPY/ADD/VOLUME/
EXPOSE, ``key=value`` words (quotes kept for the expander) or the legacy ``KEY value`` form for
ENV/LABEL, ``name[=default]`` for ARG, one string for WORKDIR/USER/STOPSIGNAL.  Every error is a
:class:`DockerfileError` naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dockyard.build.dockerfile import instructions as ins
from dockyard.build.dockerfile.errors import DockerfileError
from dockyard.build.dockerfile.flags import parse_duration, parse_flags, parse_mount
from dockyard.build.dockerfile.forms import json_list, maybe_json, name_values, one, parse_words, words
from dockyard.build.dockerfile.lexer import Node, lex, parse_heredoc_word

#: parsed ``--flags`` and the fields every instruction shares (line, end_line, original)
Flags = dict[str, Any]
Base = dict[str, Any]

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")


def parse(text: str, *, filename: str = "Dockerfile") -> ins.Dockerfile:
    lexed = lex(text, filename=filename)
    if not lexed.nodes:
        raise DockerfileError("file with no instructions", filename=filename)
    df = ins.Dockerfile([], [], lexed.directives, lexed.escape, filename)
    for node in lexed.nodes:
        try:
            instr = parse_node(node, lexed.escape)
        except ValueError as e:
            raise DockerfileError(str(e), line=node.line, filename=filename) from None
        _place(df, instr, filename)
    if not df.stages:
        raise DockerfileError("no build stage in current context: add a FROM instruction",
                              line=lexed.nodes[-1].line, filename=filename)
    return df


def _place(df: ins.Dockerfile, instr: ins.Instruction, filename: str) -> None:
    if isinstance(instr, ins.From):
        if instr.name and any(s.name == instr.name for s in df.stages):
            raise DockerfileError(f"duplicate stage name {instr.name!r}", line=instr.line, filename=filename)
        df.stages.append(ins.Stage(len(df.stages), instr.base, instr.name, instr.platform, instr.line, instr))
    elif df.stages:
        df.stages[-1].instructions.append(instr)
    elif isinstance(instr, ins.Arg):
        df.meta_args.append(instr)
    else:
        raise DockerfileError(f"{instr.keyword} before the first FROM: only ARG may come before FROM",
                              line=instr.line, filename=filename)


def parse_node(node: Node, escape: str = "\\") -> ins.Instruction:
    handler = _HANDLERS.get(node.keyword)
    if handler is None:
        import difflib  # only a broken Dockerfile pays for suggestions

        word = node.original.split(None, 1)[0]
        close = difflib.get_close_matches(node.keyword, list(_HANDLERS), n=1)
        hint = f" (did you mean {close[0].upper()}?)" if close else ""
        raise ValueError(f"unknown instruction: {word.upper()}{hint}")
    flags = parse_flags(node.keyword, node.flags)
    base = {"line": node.line, "end_line": node.end_line, "original": node.original}
    return handler(node, flags, base, escape)


# -- one function per instruction --------------------------------------------------------------


def _from(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    args = words(node.rest)
    if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
        raise ValueError("FROM requires either one argument, or three: FROM <source> [AS <name>]")
    name = None
    if len(args) == 3:
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise ValueError(f"invalid name for build stage: {args[2]!r}, name can't start with a number "
                             "or contain symbols")
    return ins.From(**base, base=args[0], name=name, platform=flags.get("platform"))


def _arg(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    items = parse_words(node.rest, escape)
    if not items:
        raise ValueError("ARG requires at least one argument")
    args = []
    for w in items:
        key, eq, value = w.partition("=")
        if not key:
            raise ValueError("ARG names can not be blank")
        args.append(ins.KeyValue(key, value if eq else None))
    return ins.Arg(**base, args=tuple(args))


def _run(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    command, shell_form = maybe_json(node)
    if not command and not node.heredocs:
        raise ValueError("RUN requires at least one argument")
    network = flags.get("network", "default")
    if network not in ("default", "none", "host"):
        raise ValueError(f"RUN --network={network}: use default, none or host")
    security = flags.get("security", "sandbox")
    if security not in ("sandbox", "insecure"):
        raise ValueError(f"RUN --security={security}: use sandbox or insecure")
    mounts = tuple(parse_mount(m) for m in flags.get("mount", []))
    return ins.Run(**base, command=command, shell_form=shell_form, heredocs=tuple(node.heredocs),
                   mounts=mounts, network=network, security=security)


def _cmd_like(cls: type[ins.Cmd] | type[ins.Entrypoint]) -> Callable[..., ins.Instruction]:
    def handler(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
        command, shell_form = maybe_json(node)
        return cls(**base, command=command, shell_form=shell_form)
    return handler


def _shell(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    value = json_list(node.rest)
    if value is None:
        raise ValueError("SHELL requires the arguments to be in JSON form")
    if not value:
        raise ValueError("SHELL requires at least one argument")
    return ins.Shell(**base, shell=tuple(value))


def _copy_like(cls: type[ins.Copy]) -> Callable[..., ins.Instruction]:
    def handler(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
        kw = node.keyword.upper()
        args = json_list(node.rest)
        if args is None:
            args = words(node.rest)
        if len(args) < 2:
            raise ValueError(f"{kw} requires at least two arguments, but only {len(args)} "
                             "provided; the destination could not be determined")
        if parse_heredoc_word(args[-1]):
            raise ValueError(f"{kw} cannot accept a heredoc as a destination")
        sources, inline = [], []
        docs = list(node.heredocs)
        for src in args[:-1]:
            h = parse_heredoc_word(src)
            if h and docs:
                doc = docs.pop(0)
                inline.append(ins.InlineSource(h[0], doc.data, doc.expand))
            else:
                sources.append(src)
        extra = {}
        if cls is ins.Add:
            extra = {"checksum": flags.get("checksum"), "keep_git_dir": bool(flags.get("keep-git-dir")),
                     "unpack": flags.get("unpack")}
        else:
            extra = {"from_": flags.get("from"), "parents": bool(flags.get("parents"))}
        return cls(**base, sources=tuple(sources), dest=args[-1], inline=tuple(inline),
                   chown=flags.get("chown"), chmod=flags.get("chmod"), link=bool(flags.get("link")),
                   excludes=tuple(flags.get("exclude", [])), **extra)
    return handler


def _env(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    return ins.Env(**base, pairs=name_values(node, escape))


def _label(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    return ins.Label(**base, pairs=name_values(node, escape))


def _expose(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    ports = words(node.rest)
    if not ports:
        raise ValueError("EXPOSE requires at least one argument")
    return ins.Expose(**base, ports=tuple(ports))


def _volume(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    paths = json_list(node.rest)
    if paths is None:
        paths = words(node.rest)
    if not paths:
        raise ValueError("VOLUME requires at least one argument")
    if any(not p.strip() for p in paths):
        raise ValueError("VOLUME specified can not be an empty string")
    return ins.Volume(**base, paths=tuple(paths))


def _healthcheck(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    parts = node.rest.split(None, 1)
    if not parts:
        raise ValueError("HEALTHCHECK requires an argument: NONE or CMD <command>")
    kind = parts[0].upper()
    if kind == "NONE":
        if len(parts) > 1 or flags:
            raise ValueError("HEALTHCHECK NONE takes no arguments")
        return ins.Healthcheck(**base, test=("NONE",))
    if kind != "CMD":
        raise ValueError(f"unknown type {parts[0]!r} in HEALTHCHECK (try CMD)")
    sub = Node("cmd", [], parts[1] if len(parts) > 1 else "", node.line, node.end_line, node.original)
    command, shell_form = maybe_json(sub)
    if not command:
        raise ValueError("HEALTHCHECK CMD requires a command")
    test = ("CMD-SHELL", command[0]) if shell_form else ("CMD", *command)
    retries = flags.get("retries", "0")
    if not str(retries).lstrip("-").isdigit():
        raise ValueError(f"--retries: expected a number, not {retries!r}")
    if int(retries) < 0:
        raise ValueError("--retries cannot be negative")
    return ins.Healthcheck(**base, test=test, interval=parse_duration("interval", flags.get("interval")),
                           timeout=parse_duration("timeout", flags.get("timeout")),
                           start_period=parse_duration("start-period", flags.get("start-period")),
                           start_interval=parse_duration("start-interval", flags.get("start-interval")),
                           retries=int(retries))


def _onbuild(node: Node, flags: Flags, base: Base, escape: str) -> ins.Instruction:
    expression = node.rest
    if not expression:
        raise ValueError("ONBUILD requires at least one argument")
    from dockyard.build.dockerfile.lexer import node_from_line

    sub = node_from_line(expression, node.line, node.end_line, escape, "Dockerfile")
    if sub.keyword == "onbuild":
        raise ValueError("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if sub.keyword in ("from", "maintainer"):
        raise ValueError(f"{sub.keyword.upper()} isn't allowed as an ONBUILD trigger")
    trigger = parse_node(sub, escape)
    return ins.Onbuild(**base, expression=expression, trigger=trigger)


_HANDLERS: dict[str, Callable[..., ins.Instruction]] = {
    "from": _from,
    "arg": _arg,
    "run": _run,
    "cmd": _cmd_like(ins.Cmd),
    "entrypoint": _cmd_like(ins.Entrypoint),
    "shell": _shell,
    "copy": _copy_like(ins.Copy),
    "add": _copy_like(ins.Add),
    "env": _env,
    "label": _label,
    "workdir": lambda n, f, b, e: ins.Workdir(**b, path=one(n)),
    "user": lambda n, f, b, e: ins.User(**b, user=one(n)),
    "stopsignal": lambda n, f, b, e: ins.Stopsignal(**b, signal=one(n)),
    "maintainer": lambda n, f, b, e: ins.Maintainer(**b, name=one(n)),
    "expose": _expose,
    "volume": _volume,
    "healthcheck": _healthcheck,
    "onbuild": _onbuild,
}
