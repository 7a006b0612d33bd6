"""MessengerTable stream -> WebSocket frames to every interested connection (partial batch responses)."""

from typing import Any

from avito_service.live import fanout
from avito_service.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return fanout.handle_batch(event, context)
