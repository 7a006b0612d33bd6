"""A waiting alert's one-time schedule fired (EventBridge Scheduler invokes this with the schedule's input
``{accountId, chatId, since, threshold}``): mark the threshold once and arm the next (workflow/alerts.py)."""

from typing import Any

from avito_service.observability import logger, metrics
from avito_service.workflow import alerts


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    fired = alerts.fire(event)
    logger.info("Waiting alert", extra={"chat_id": str(event.get("chatId"))[:200], "alerted": fired})
    return {"alerted": fired}
