"""SQS worker: run the planned keep-alives of a batch (partial batch response: only unexpected errors retry)."""

from typing import Any

from avito_service.observability import logger, metrics
from avito_service.online import worker


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return worker.handle_batch(event, context)
