"""GET /api/v1/health: liveness and version, no token needed, no secrets."""

from __future__ import annotations

from typing import Any

from avito_service.api import Envelope, doc, no_store, ok, rest_app
from avito_service.base import Model
from avito_service.config import get_settings
from avito_service.observability import logger
from aws_lambda_powertools.utilities.typing import LambdaContext

app = rest_app()


class Health(Model):
    status: str
    version: str


@app.get(
    "/api/v1/health",
    summary="Service health and version",
    tags=["Health"],
    responses=doc(Envelope[Health], public=True),
)
def health():
    return ok(Health(status="ok", version=get_settings().service_version))


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId", clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return no_store(app.resolve(event, context))
