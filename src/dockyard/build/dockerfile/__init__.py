"""The Dockerfile language: parser directives, comments, continuations, heredocs, instructions.

Pure code, no I/O: ``parse(text)`` gives a :class:`Dockerfile` of stages and typed instructions,
``expand(instr, env)`` applies Docker's variable expansion where Docker applies it.  Every problem
is a :class:`DockerfileError` whose message starts with ``Dockerfile:<line>:``.
"""

from dockyard.build.dockerfile.errors import DockerfileError
from dockyard.build.dockerfile.expand import expand
from dockyard.build.dockerfile.instructions import Dockerfile, Stage
from dockyard.build.dockerfile.parse import parse
from dockyard.build.dockerfile.shell import ShellLex

__all__ = ["Dockerfile", "DockerfileError", "ShellLex", "Stage", "expand", "parse"]
