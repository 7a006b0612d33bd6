"""What every REST handler shares: the resolver's error mapping, roles, envelopes and OpenAPI helpers.

A handler module creates its own ``APIGatewayRestResolver(enable_validation=True)`` (so Powertools'
OpenAPI merge can find it), calls :func:`install_error_handlers`, and declares routes with
``responses=doc(...)`` so each operation documents its success model and the contract's error shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, Field

from avito_service import deadline
from avito_service.base import (
    ApiModel,  # noqa: F401 - re-exported: handlers import it from here
    Model,
)
from avito_service.config import get_settings
from avito_service.errors import ErrorBody, Forbidden, ServiceError, field_name, human_message
from avito_service.observability import logger, metrics
from avito_service.roles import ALL_ROLES, Role
from avito_service.users import scope

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


def rest_handler(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point of a REST function: correlation id and request id on every log line, metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # One time budget for the whole request: every Avito call, retry and wait draws from it (504 when spent).
        with deadline.request(context, get_settings().avito_request_budget):
            return no_store(app.resolve(event, context))

    return lambda_handler


def no_store(response: dict[str, Any]) -> dict[str, Any]:
    """``Cache-Control: no-store`` on an API answer (they hold account data: no browser or proxy keeps them)."""
    if "multiValueHeaders" in response:
        response["multiValueHeaders"]["Cache-Control"] = ["no-store"]
    else:
        response.setdefault("headers", {})["Cache-Control"] = "no-store"
    return response


AccountId = Annotated[str, Path(min_length=1, max_length=64, description="the account's id")]
PathAccountId = Annotated[str, Path(min_length=1, max_length=64, description="the account's id")]
# Avito ids: letters, digits and ``_~.:-``, not starting with a dot (so ``.`` and ``..`` are refused); every id is
# percent-encoded again on its way to Avito (avito.client.avito_path).
AVITO_ID_PATTERN = r"^[A-Za-z0-9_~:\-][A-Za-z0-9_~.:\-]*$"
ChatId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=AVITO_ID_PATTERN,
        description="Avito chat id: letters, digits and _~.:- (not starting with a dot)",
    ),
]
MessageId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=AVITO_ID_PATTERN,
        description="Avito message id: letters, digits and _~.:- (not starting with a dot)",
    ),
]
# A stored chat's id (``/api/v1/chats/{chatId}``): any id a delivery or a listing stored, so no pattern here.
StoredChatId = Annotated[str, Path(min_length=1, max_length=200, description="Avito's chat id (u2i-..., u2u-...)")]
ChatAccountId = Annotated[
    str | None,
    Query(
        alias="accountId",
        min_length=1,
        max_length=64,
        description="the account whose copy of the chat is meant; required when several accounts hold the chat id",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100, description="page size (1-100)")]
Cursor = Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")]


# --- validation errors -> the contract's shape -------------------------------------------------------------


def validation_error_response(exc: RequestValidationError) -> Response:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    details = [{"field": field_name(e.get("loc", ())), "message": human_message(e)} for e in errors]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:3])
    return error_response(422, "validation_error", f"Invalid request: {summary}", details)


def install_error_handlers(app: APIGatewayRestResolver) -> APIGatewayRestResolver:
    """Map domain errors, validation errors and the unexpected to the contract's error shape."""

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        # Powertools validates the request before route middlewares run; a caller whose role may not use
        # the route gets its 403, not a 422 describing a body it may not send anyway.
        try:
            check_route_roles(app)
            check_route_scope(app)  # an account the caller may not see is a 404 whatever else is wrong
        except ServiceError as refused:
            return error_response(refused.status, refused.code, refused.message)
        return validation_error_response(exc)

    @app.exception_handler(ServiceError)
    def _service(exc: ServiceError) -> Response:
        if exc.status >= 500:
            logger.warning(
                "Request failed", extra={"error_code": exc.code, "status": exc.status, "reason": exc.message}
            )
        return error_response(exc.status, exc.code, exc.message, (d.as_dict() for d in exc.details))

    @app.exception_handler(NotFoundError)
    def _no_route(_: NotFoundError) -> Response:
        return error_response(404, "not_found", "No such endpoint.")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        request_id = app.current_event.request_context.request_id if app.current_event else None
        logger.exception("Unexpected error", extra={"error_type": type(exc).__name__})
        return error_response(
            500,
            "internal_error",
            "Something went wrong on our side; quote the request id when reporting it.",
            requestId=request_id,
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(_: Exception | None = None) -> Response:
        return error_response(415, "unsupported_media_type", "Send the request body as application/json.")

    @app.exception_handler(ValueError)
    def _unreadable(exc: ValueError) -> Response:
        # Only Powertools' own body readers raising on a body of another media type (multipart without a
        # boundary...) is a 415; any other ValueError is an internal error like every other exception.
        content_type = (app.current_event.headers.get("content-type") or "").strip().lower()
        if _raised_by_body_reader(exc) and content_type and not content_type.startswith("application/json"):
            return _media_type()
        return _unexpected(exc)

    @app.exception_handler(RecursionError)
    def _too_deep(_: RecursionError) -> Response:  # json.loads of a deeply nested body
        return error_response(400, "malformed_json", "The request body is nested too deeply to be read.")

    @app.exception_handler(UnicodeDecodeError)
    def _undecodable(exc: UnicodeDecodeError) -> Response:
        if _body_is_not_utf8(app.current_event):  # a body that is not even UTF-8 text cannot be JSON
            return error_response(400, "malformed_json", "The request body is not valid JSON.")
        return _unexpected(exc)

    return app


_BODY_READER = "aws_lambda_powertools.event_handler.middlewares.openapi_validation"


def _raised_by_body_reader(exc: BaseException) -> bool:
    """True when the innermost frame of ``exc`` is Powertools' request-body reader."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals.get("__name__") == _BODY_READER


def _body_is_not_utf8(event: Any) -> bool:
    """True for a body API Gateway passed base64-encoded that does not decode to UTF-8 text."""
    if event is None or not event.is_base64_encoded or not event.body:
        return False
    try:
        base64.b64decode(event.body).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return True
    return False


# --- callers and roles -------------------------------------------------------------------------------------


class Caller(Model):
    sub: str
    role: str
    accountIds: frozenset[str] | None = None  # None: every account (see users.scope)
    name: str | None = None

    @property
    def account_ids(self) -> frozenset[str] | None:
        return self.accountIds


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """The caller as the authorizer described it in the request context (auth.context_of)."""
    context = app.current_event.request_context.authorizer.get_context() or {}
    sub = str(context.get("sub") or context.get("principalId") or "")
    role = str(context.get("role") or "")
    account_ids = None
    raw = context.get("accountIds")
    if role == Role.OPERATOR and raw:
        try:
            parsed = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            parsed = []  # unreadable: the operator sees nothing rather than everything
        account_ids = frozenset(str(i) for i in parsed) if isinstance(parsed, list) else frozenset()
    return Caller(sub=sub, role=role, accountIds=account_ids, name=str(context.get("name") or "") or None)


_PATH_LOG_KEYS = {"id": "account_id", "accountId": "account_id", "chatId": "chat_id"}


def _path_log_keys(app: APIGatewayRestResolver) -> dict[str, str]:
    """``account_id`` (and ``chat_id``) from the path, so every later log line of the request carries them."""
    params = app.current_event.path_parameters or {}
    return {key: str(params[name])[:200] for name, key in _PATH_LOG_KEYS.items() if params.get(name)}


def require_role(*roles: Role) -> Callable[..., Response]:
    """Route middleware: let only ``roles`` through (403 otherwise, also for roles the contract does not know).

    Every route has one, so it also appends the caller, role, account id and chat id to the log keys."""
    allowed = frozenset(roles)

    def middleware(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
        caller = _check_role(current_caller(app), allowed)
        logger.append_keys(caller=caller.sub, role=caller.role, **_path_log_keys(app))
        check_route_scope(app, caller)
        return next_middleware(app)

    middleware.allowed_roles = allowed  # type: ignore[attr-defined] - read by check_route_roles
    return middleware


def _check_role(caller: Caller, allowed: frozenset[Role]) -> Caller:
    if caller.role not in ALL_ROLES:
        raise Forbidden(f"The role '{caller.role[:40]}' is not one this service knows.")
    if caller.role not in allowed:
        raise Forbidden(f"The '{caller.role}' role may not do this; it needs: {', '.join(sorted(allowed))}.")
    return caller


def check_route_scope(app: APIGatewayRestResolver, caller: Caller | None = None) -> None:
    """Object-level authorization: an account the request names that the caller may not see is a 404
    (users.scope), checked for every route by its role middleware, before any handler code runs."""
    caller = caller or current_caller(app)
    route = app.context.get("_route")
    event = app.current_event
    scope.check_request(
        caller.account_ids, getattr(route, "path", ""), event.path_parameters, event.query_string_parameters
    )


def check_route_roles(app: APIGatewayRestResolver) -> None:
    """Raise Forbidden if the caller may not use the route being handled (its ``require_role`` middleware)."""
    route = app.context.get("_route")
    for middleware in getattr(route, "middlewares", None) or ():
        allowed = getattr(middleware, "allowed_roles", None)
        if allowed is not None:
            _check_role(current_caller(app), allowed)


admin_only = require_role(Role.ADMIN)
supervisors = require_role(Role.ADMIN, Role.DIRECTOR)
any_role = require_role(Role.ADMIN, Role.OPERATOR, Role.DIRECTOR)
