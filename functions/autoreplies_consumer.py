"""MessengerTable stream -> the greeting and out-of-hours replies (partial batch responses)."""

from typing import Any

from avito_service.autoreplies import consumer
from avito_service.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle_batch(event, context)
