"""Runtime errors, as subclasses of the shared categories (see dockyard.base.errors).

The CLI prints them as one line on stderr (or one JSON record with ``--log-format json``) and exits
1, as runc does; the engine reads that line back as the reason a container failed to start.
"""

from __future__ import annotations

from dockyard.base.errors import AlreadyExists, FailedPrecondition, Internal, InvalidArgument, NotFound


class SpecError(InvalidArgument):
    """config.json is malformed; the message names the field: ``config.json: process.args: …``."""


class ContainerNotFound(NotFound):
    pass


class ContainerExists(AlreadyExists):
    pass


class WrongState(FailedPrecondition):
    pass


class CreateFailed(Internal):
    """The container init reported a failure while setting the container up."""


def describe(e: BaseException) -> str:
    """One line for any error: OSErrors as "what: reason: path", ours as their message."""
    if isinstance(e, OSError) and e.strerror:
        return f"{e.strerror}: {e.filename}" if e.filename else e.strerror
    text = str(e) if hasattr(e, "category") or isinstance(e, (OSError, ValueError)) else repr(e)
    return " ".join(text.split())


__all__ = ["ContainerExists", "ContainerNotFound", "CreateFailed", "SpecError", "WrongState", "describe"]
