"""The one error a malformed Dockerfile raises: it always names the file and the line."""

from __future__ import annotations

from dockyard.base.errors import InvalidArgument


class DockerfileError(InvalidArgument):
    """``Dockerfile:7: unknown instruction: COPPY`` — file, line, then what is wrong."""

    def __init__(self, message: str, *, line: int | None = None, filename: str = "Dockerfile") -> None:
        self.line = line
        self.filename = filename
        self.detail = message
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: {message}")

    def located(self, filename: str) -> DockerfileError:
        """The same error, naming *filename* (``-f`` may point elsewhere than ./Dockerfile)."""
        return DockerfileError(self.detail, line=self.line, filename=filename)
