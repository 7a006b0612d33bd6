"""Domain errors, validation errors and the unexpected, mapped to the contract's error shape in one place."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from avito_service.api.responses import error_response
from avito_service.api.roles import check_route_roles, check_route_scope
from avito_service.errors import ServiceError, field_name, human_message
from avito_service.observability import logger


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
