"""The resolver and the Lambda entry point of every REST function.

:func:`rest_app` is the only way a REST handler builds its resolver, so none can forget request validation,
the CORS config or the contract's error mapping. Powertools' OpenAPI merge finds the resolvers by the
module-level ``app = rest_app()`` (``avito_service.openapi``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from avito_service import deadline
from avito_service.api.cors import cors_config
from avito_service.api.errors import install_error_handlers
from avito_service.config import get_settings
from avito_service.observability import logger, metrics


def rest_app(*, validation: bool = True) -> APIGatewayRestResolver:
    """A REST function's resolver: request validation (``validation=False`` only for routes without
    parameters or bodies, like the docs), CORS from the settings, and the contract's error mapping."""
    return install_error_handlers(APIGatewayRestResolver(enable_validation=validation, cors=cors_config()))


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
