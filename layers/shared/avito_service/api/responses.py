"""The contract's answers: the success envelope, the error shape, and their OpenAPI documentation (``doc``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field

from avito_service.base import Model
from avito_service.errors import ErrorBody

T = TypeVar("T")


class Envelope[T](Model):
    success: Literal[True] = True
    data: T


class Page[T](Model):
    success: Literal[True] = True
    data: list[T]
    nextCursor: str | None = Field(description="opaque cursor of the next page; null on the last page")


class FieldErrorOut(Model):
    field: str
    message: str


class ErrorDetail(Model):
    code: str = Field(description="snake_case error code")
    message: str = Field(description="human sentence")
    details: list[FieldErrorOut] = Field(default_factory=list)
    requestId: str | None = None


class ErrorEnvelope(Model):
    success: Literal[False] = False
    error: ErrorDetail


_ERROR_DESCRIPTIONS = {
    400: "Malformed request (e.g. invalid JSON)",
    401: "Missing, expired or invalid token",
    403: "The token's role may not do this",
    404: "Unknown id",
    409: "Conflict (stale version, duplicate clientId)",
    413: "The request body (the uploaded file) is too large",
    415: "The request body is not sent as application/json",
    422: "Invalid field or query parameter",
    429: "Too many requests",
    500: "Unexpected error (logged, with a request id)",
    502: "Avito or the account's proxy answered with an error",
    504: "Avito did not answer in time",
}


def doc(
    model: Any,
    *errors: int,
    status: int = 200,
    description: str = "Success",
    public: bool = False,
    descriptions: dict[int, str] | None = None,
) -> dict[int, Any]:
    """OpenAPI ``responses`` for a route: the success model plus the contract's error shape per status.

    ``descriptions`` replaces the usual text of some statuses (e.g. what 415 means for a file upload)."""
    responses: dict[int, Any] = {
        status: {"description": description, "content": {"application/json": {"model": model}}}
    }
    always = {500} if public else {401, 403, 422, 500}
    if 400 in errors:  # an operation that takes a body (400: malformed JSON) refuses other media types too
        always = always | {415}
    for code in sorted(always | set(errors)):
        responses[code] = {
            "description": (descriptions or {}).get(code, _ERROR_DESCRIPTIONS[code]),
            "content": {"application/json": {"model": ErrorEnvelope}},
        }
    return responses


def ok(data: Any, *, status: int = 200, next_cursor: str | Literal[False] | None = False) -> Response:
    """The contract's success envelope; ``next_cursor`` (even ``None``) marks a paginated list."""
    body: dict[str, Any] = {"success": True, "data": _plain(data)}
    if next_cursor is not False:
        body["nextCursor"] = next_cursor
    return Response(status_code=status, content_type="application/json", body=json.dumps(body, ensure_ascii=False))


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [_plain(item) for item in data]
    return data


def error_response(
    status: int, code: str, message: str, details: Iterable[dict[str, Any]] = (), **extra: Any
) -> Response:
    body = ErrorBody(code=code, message=message, details=list(details)).as_dict()
    body["error"].update(extra)
    return Response(status_code=status, content_type="application/json", body=json.dumps(body, ensure_ascii=False))
