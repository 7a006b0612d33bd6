"""POST /<accountId>/<token> on the webhook Function URL: Avito's Messenger deliveries (no JWT; see template).

Authentication is the account's 256-bit secret in the path; everything else is in
``avito_service.webhooks.deliveries``. Answers use the contract's error shape.

Flood guards before any parsing or database read: a body over ``MAX_BODY_BYTES`` (1 MiB) is 413, a token that
cannot be one we issue is 401 (``webhooks.tokens.plausible``), so a flood of forged requests holds an execution
for a millisecond or two. The function has no concurrency cap by default (template, ``WebhookReservedConcurrency``):
Avito documents no retry, so a delivery throttled by a cap would be lost (DEPLOYMENT.md, "Webhook concurrency").
"""

import json
from typing import Any

from avito_service.api import install_error_handlers
from avito_service.observability import logger, metrics
from avito_service.webhooks import deliveries
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

MAX_BODY_BYTES = 1024 * 1024

app = LambdaFunctionUrlResolver()
install_error_handlers(app)  # type: ignore[arg-type] - same error mapping as the REST functions


@app.post("/<account_id>/<token>")
def receive(account_id: str, token: str) -> Response:
    accepted = deliveries.receive(account_id, token, app.current_event.decoded_body)
    return Response(status_code=200, content_type="application/json", body=json.dumps(accepted.body()))


def body_size(event: dict[str, Any]) -> int:
    """The decoded size of the event's body, without decoding it (base64 is 4 characters per 3 bytes)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4 - body[-2:].count("=")
    return len(body.encode("utf-8")) if len(body) * 4 > MAX_BODY_BYTES else len(body)


def _too_large() -> dict[str, Any]:
    metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)
    logger.warning("Webhook delivery rejected", extra={"status": 413, "error_code": "payload_too_large"})
    body = {
        "success": False,
        "error": {
            "code": "payload_too_large",
            "message": f"The body is larger than {MAX_BODY_BYTES // 1024} KiB; Avito's deliveries are far smaller.",
            "details": [],
        },
    }
    return {"statusCode": 413, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if body_size(event) > MAX_BODY_BYTES:
        return _too_large()
    return app.resolve(event, context)
