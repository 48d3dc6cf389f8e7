"""API errors as the real server reports them: a ``Status`` body with reason, code and causes.

Each subclasses one of dockyard's categories, so code below the HTTP layer can ``except
NotFound`` as everywhere else, while the API server renders :meth:`ApiError.status` verbatim.
"""

from __future__ import annotations

from typing import Any

from dockyard.base import errors


class ApiError(errors.DockyardError):
    reason = "InternalError"
    code = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.details = details
        if code is not None:
            self.code = code

    def status(self) -> dict[str, Any]:
        # Key order is Go's field order (what clients comparing text see): details before code.
        body: dict[str, Any] = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(kind: str, name: str, group: str = "") -> dict[str, Any]:
    d: dict[str, Any] = {"name": name}
    if group:
        d["group"] = group
    d["kind"] = kind
    return d


class NotFoundError(ApiError, errors.NotFound):
    reason, code = "NotFound", 404

    @classmethod
    def of(cls, plural: str, name: str, group: str = "") -> NotFoundError:
        gr = f"{plural}.{group}" if group else plural
        return cls(f'{gr} "{name}" not found', details=_details(plural, name, group))


class AlreadyExistsError(ApiError, errors.AlreadyExists):
    reason, code = "AlreadyExists", 409

    @classmethod
    def of(cls, plural: str, name: str, group: str = "") -> AlreadyExistsError:
        gr = f"{plural}.{group}" if group else plural
        return cls(f'{gr} "{name}" already exists', details=_details(plural, name, group))


class ConflictError(ApiError, errors.Conflict):
    reason, code = "Conflict", 409

    @classmethod
    def modified(cls, plural: str, name: str, group: str = "") -> ConflictError:
        gr = f"{plural}.{group}" if group else plural
        return cls(
            f'Operation cannot be fulfilled on {gr} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again",
            details=_details(plural, name, group),
        )


class BadRequest(ApiError, errors.InvalidArgument):
    reason, code = "BadRequest", 400


class Invalid(ApiError, errors.InvalidArgument):
    """422 with one cause per bad field, as ``field.ErrorList`` renders them."""

    reason, code = "Invalid", 422

    @classmethod
    def of(cls, kind: str, name: str, causes: list[dict[str, str]], group: str = "") -> Invalid:
        text = ", ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes)
        if len(causes) > 1:
            text = f"[{text}]"
        return cls(f'{kind}{"." + group if group else ""} "{name}" is invalid: {text}',
                   details={**_details(kind, name, group), "causes": causes})


class Gone(ApiError, errors.FailedPrecondition):
    reason, code = "Expired", 410


class MethodNotAllowed(ApiError, errors.InvalidArgument):
    reason, code = "MethodNotAllowed", 405


class UnsupportedMediaType(ApiError, errors.InvalidArgument):
    reason, code = "UnsupportedMediaType", 415


class NotAcceptable(ApiError, errors.InvalidArgument):
    reason, code = "NotAcceptable", 406


class TooLarge(ApiError, errors.ResourceExhausted):
    reason, code = "RequestEntityTooLarge", 413


class Unauthorized(ApiError, errors.Unauthenticated):
    reason, code = "Unauthorized", 401


class Forbidden(ApiError, errors.PermissionDenied):
    reason, code = "Forbidden", 403


def cause(field: str, kind: str, message: str) -> dict[str, str]:
    """One cause: kind is Required, Invalid, NotSupported, Duplicate, Forbidden, TooLong …"""
    reasons = {"Required": "FieldValueRequired", "Invalid": "FieldValueInvalid",
               "NotSupported": "FieldValueNotSupported", "Duplicate": "FieldValueDuplicate",
               "Forbidden": "FieldValueForbidden", "TooLong": "FieldValueTooLong", "Unknown": "FieldValueInvalid"}
    prefix = {"Required": "Required value", "Invalid": "Invalid value", "NotSupported": "Unsupported value",
              "Duplicate": "Duplicate value", "Forbidden": "Forbidden", "TooLong": "Too long"}.get(kind, kind)
    return {"reason": reasons.get(kind, "FieldValueInvalid"), "message": f"{prefix}: {message}" if message else prefix,
            "field": field}
