"""Domain errors. Each carries the contract's HTTP status and error code; ``api`` turns them into answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ServiceError(Exception):
    """Base of every error that has a defined HTTP answer."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, details: list[FieldError] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        if code:
            self.code = code


class BadRequest(ServiceError):
    status, code = 400, "bad_request"


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Conflict(ServiceError):
    status, code = 409, "conflict"


class ValidationFailed(ServiceError):
    """Invalid input; raised from pydantic validators too (it is not a ValueError, so pydantic lets it through)."""

    status, code = 422, "validation_error"

    @classmethod
    def on(cls, field_name: str, message: str) -> ValidationFailed:
        return cls(f"{field_name}: {message}", details=[FieldError(field_name, message)])


class UpstreamError(ServiceError):
    """Avito (or the account's proxy) answered with an error or could not be reached."""

    status, code = 502, "avito_error"


class UpstreamTimeout(ServiceError):
    status, code = 504, "avito_timeout"


@dataclass
class ErrorBody:
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"success": False, "error": {"code": self.code, "message": self.message, "details": self.details}}
