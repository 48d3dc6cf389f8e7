"""Typed Dockerfile instructions: what each one says, before variables are expanded.

One frozen dataclass per instruction of the Dockerfile reference.  Every instruction keeps the
line range it came from and its original text (for errors, history and cache keys).  Variable
expansion produces new instances (``dataclasses.replace``), never mutates these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockyard.build.dockerfile.lexer import Heredoc


@dataclass(frozen=True, slots=True)
class Instruction:
    line: int
    end_line: int
    original: str

    @property
    def keyword(self) -> str:
        return type(self).__name__.upper()


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str | None


@dataclass(frozen=True, slots=True)
class From(Instruction):
    base: str
    name: str | None = None
    platform: str | None = None


@dataclass(frozen=True, slots=True)
class Arg(Instruction):
    args: tuple[KeyValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Mount:
    """``RUN --mount=…``: bind (default), cache, tmpfs, secret or ssh."""

    type: str = "bind"
    target: str = ""
    source: str = ""
    from_: str = ""
    id: str = ""
    readonly: bool | None = None
    sharing: str = "shared"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    required: bool = False
    size: int | None = None
    env: str = ""

    @property
    def writable(self) -> bool:
        if self.readonly is not None:
            return not self.readonly
        return self.type in ("cache", "tmpfs")


@dataclass(frozen=True, slots=True)
class Run(Instruction):
    command: tuple[str, ...] = ()
    shell_form: bool = True
    heredocs: tuple[Heredoc, ...] = ()
    mounts: tuple[Mount, ...] = ()
    network: str = "default"
    security: str = "sandbox"


@dataclass(frozen=True, slots=True)
class Cmd(Instruction):
    command: tuple[str, ...] = ()
    shell_form: bool = False


@dataclass(frozen=True, slots=True)
class Entrypoint(Instruction):
    command: tuple[str, ...] = ()
    shell_form: bool = False


@dataclass(frozen=True, slots=True)
class Shell(Instruction):
    shell: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InlineSource:
    """A heredoc used as a COPY/ADD source: a file named *name* holding *data*."""

    name: str
    data: str
    expand: bool


@dataclass(frozen=True, slots=True)
class Copy(Instruction):
    sources: tuple[str, ...] = ()
    dest: str = ""
    inline: tuple[InlineSource, ...] = ()
    from_: str | None = None
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    parents: bool = False
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Add(Copy):
    checksum: str | None = None
    keep_git_dir: bool = False
    unpack: bool | None = None


@dataclass(frozen=True, slots=True)
class Env(Instruction):
    pairs: tuple[KeyValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Label(Instruction):
    pairs: tuple[KeyValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Workdir(Instruction):
    path: str = ""


@dataclass(frozen=True, slots=True)
class User(Instruction):
    user: str = ""


@dataclass(frozen=True, slots=True)
class Expose(Instruction):
    ports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Volume(Instruction):
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Stopsignal(Instruction):
    signal: str = ""


@dataclass(frozen=True, slots=True)
class Healthcheck(Instruction):
    """``test`` is ``("NONE",)``, ``("CMD", …)`` or ``("CMD-SHELL", text)``; durations in ns."""

    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass(frozen=True, slots=True)
class Onbuild(Instruction):
    expression: str = ""
    trigger: Instruction | None = None


@dataclass(frozen=True, slots=True)
class Maintainer(Instruction):
    name: str = ""


@dataclass(slots=True)
class Stage:
    index: int
    base: str
    name: str | None
    platform: str | None
    line: int
    from_: From
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.name or f"stage-{self.index}"


@dataclass(slots=True)
class Dockerfile:
    stages: list[Stage]
    meta_args: list[Arg]
    directives: dict[str, str]
    escape: str = "\\"
    filename: str = "Dockerfile"

    def stage(self, ref: str) -> Stage | None:
        """A stage by name (case-insensitive) or index, as ``--target`` and ``--from`` name it."""
        low = ref.lower()
        for st in self.stages:
            if st.name == low:
                return st
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None
