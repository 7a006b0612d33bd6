"""Domain errors. Each carries the contract's HTTP status and error code; ``api`` turns them into answers."""

from __future__ import annotations

from collections.abc import Iterable
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
    outcome_unknown: bool = False  # True when the failed operation may still have taken effect (e.g. a send)

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


class TooManyRequests(ServiceError):
    status, code = 429, "too_many_requests"


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


# --- pydantic validation errors in the contract's words ------------------------------------------------------

_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field; check the spelling.",
    "json_invalid": "The body is not valid JSON.",
    "model_attributes_type": "Expected a JSON object.",
    "dict_type": "Expected a JSON object.",
}


def field_name(loc: Iterable[Any]) -> str:
    """``("body", "proxyPort")`` -> ``proxyPort``; ``("query", "limit")`` -> ``limit``; nested -> dotted path."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def human_message(error: dict[str, Any]) -> str:
    if error.get("type") in _MESSAGES:
        return _MESSAGES[error["type"]]
    message = str(error.get("msg") or "Invalid value.")
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message if message.endswith(".") else message + "."
