"""The resolver and the Lambda entry point of every REST function.

:func:`rest_app` is the only way a REST handler builds its resolver, so none can forget request validation,
the CORS config or the contract's error mapping. Powertools' OpenAPI merge finds the resolvers by the
module-level ``app = rest_app()`` (``avito_service.openapi``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from avito_service import deadline
from avito_service.api.cors import cors_config
from avito_service.api.errors import install_error_handlers
from avito_service.config import get_settings
from avito_service.observability import logger, metrics


class _ObjectBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, refusing a JSON body that is not an object.

    Every body of this API is a JSON object, but Powertools reduces a JSON array to its first element before
    validating it against the route's model (``_normalize_field_value``), so ``[{}, 1]`` passed as ``{}``: an
    empty, valid change (found by the fuzzing on ``PUT /users/{id}``). No option of Powertools refuses it."""

    def _parse_json_data(self, app: Any) -> Any:
        body = super()._parse_json_data(app)
        if body is not None and not isinstance(body, dict):
            raise RequestValidationError(
                [{"type": "model_type", "loc": ("body",), "msg": "The request body must be a JSON object."}]
            )
        return body


def rest_app(*, validation: bool = True) -> APIGatewayRestResolver:
    """A REST function's resolver: request validation (``validation=False`` only for routes without
    parameters or bodies, like the docs), CORS from the settings, and the contract's error mapping."""
    app = APIGatewayRestResolver(enable_validation=validation, cors=cors_config())
    if validation:  # the resolver keeps its request validation here and puts it first in every route's chain
        app._request_validation_middleware = _ObjectBodyValidation()
    return install_error_handlers(app)


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
