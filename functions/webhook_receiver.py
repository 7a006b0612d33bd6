"""POST /<accountId>/<token> on the webhook Function URL: Avito's Messenger deliveries (no JWT; see template).

Authentication is the account's 256-bit secret in the path; everything else is in
``avito_service.webhooks.deliveries``. Answers use the contract's error shape.
"""

import json
from typing import Any

from avito_service.api import install_error_handlers
from avito_service.observability import logger, metrics
from avito_service.webhooks import deliveries
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.logging import correlation_paths

app = LambdaFunctionUrlResolver()
install_error_handlers(app)  # type: ignore[arg-type] - same error mapping as the REST functions


@app.post("/<account_id>/<token>")
def receive(account_id: str, token: str) -> Response:
    accepted = deliveries.receive(account_id, token, app.current_event.decoded_body)
    return Response(status_code=200, content_type="application/json", body=json.dumps(accepted.body()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
