"""The errors the patch library raises, mapped onto dockyard's categories and kube-apiserver's statuses.

kube-apiserver answers a patch it cannot even decode with 400 BadRequest, a well-formed patch that
does not apply to the object (a JSON-patch ``test`` that fails, a path that is missing) with 422
Unprocessable Entity, a strategic merge patch against a custom resource with 415 Unsupported Media
Type, and a server-side apply whose fields another manager owns with 409 Conflict. ``http_status``
on each instance carries that choice so the server can answer exactly as upstream does.
"""

from __future__ import annotations

from dockyard.base.errors import Conflict, InvalidArgument


class PatchError(InvalidArgument):
    """A patch that is malformed (400) or does not apply to the object (422)."""

    def __init__(
        self, message: str, *, status: int = 422, op_index: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.http_status = status
        #: For JSON patch, the index of the operation that failed.
        self.op_index = op_index


class UnsupportedPatch(InvalidArgument):
    """A patch type the object does not support, e.g. strategic merge patch on a custom resource."""

    http_status = 415


class ApplyConflict(Conflict):
    """Server-side apply would change fields another field manager owns.

    ``conflicts`` lists ``(manager, path)`` pairs, the manager printed as upstream prints it
    (``"kubectl-client-side-apply" using apps/v1``) and the path as ``.spec.replicas``.
    """

    def __init__(
        self, message: str, conflicts: list[tuple[str, str]], *, causes: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message, hint=None)
        self.conflicts = conflicts
        #: Status ``details.causes`` as upstream sends them (type FieldManagerConflict, message, field).
        self.causes = causes or []
