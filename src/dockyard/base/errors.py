"""Error categories shared by every layer.

As in containerd's `errdefs`, a small fixed set of *categories* says what kind of failure happened;
each layer subclasses them (``class ImageNotFound(NotFound)``) or raises them with context.  Errors
crossing a wire (HTTP, the shim socket) travel as a category name plus message and come back as the
same category, so a caller can write ``except NotFound`` whatever the transport.

Messages are one line, name the object and where, and say what to do:
``image "busybox:latest": not found; run `dockyard image bootstrap busybox` or `dockyard pull busybox```.
"""

from __future__ import annotations


class DockyardError(Exception):
    """Base of every error dockyard raises on purpose.  ``category`` travels over wires."""

    category = "unknown"
    #: HTTP status a server answers with for this category.
    http_status = 500
    #: Process exit code the CLI uses for this category.
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}; {hint}" if hint else message)

    def to_wire(self) -> dict[str, str]:
        return {"category": self.category, "message": str(self)}


class NotFound(DockyardError):
    category = "not_found"
    http_status = 404


class AlreadyExists(DockyardError):
    category = "already_exists"
    http_status = 409


class InvalidArgument(DockyardError):
    category = "invalid_argument"
    http_status = 400


class Conflict(DockyardError):
    category = "conflict"
    http_status = 409


class FailedPrecondition(DockyardError):
    category = "failed_precondition"
    http_status = 412


class Unavailable(DockyardError):
    category = "unavailable"
    http_status = 503


class PermissionDenied(DockyardError):
    category = "permission_denied"
    http_status = 403


class Unauthenticated(DockyardError):
    category = "unauthenticated"
    http_status = 401


class ResourceExhausted(DockyardError):
    category = "resource_exhausted"
    http_status = 429


class Internal(DockyardError):
    category = "internal"
    http_status = 500


CATEGORIES: dict[str, type[DockyardError]] = {
    cls.category: cls
    for cls in (
        NotFound,
        AlreadyExists,
        InvalidArgument,
        Conflict,
        FailedPrecondition,
        Unavailable,
        PermissionDenied,
        Unauthenticated,
        ResourceExhausted,
        Internal,
    )
}


def from_wire(payload: dict[str, str]) -> DockyardError:
    """Rebuild an error sent by :meth:`DockyardError.to_wire` as the same category."""
    cls = CATEGORIES.get(payload.get("category", ""), DockyardError)
    return cls(payload.get("message", "unknown error"))
