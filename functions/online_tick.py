"""EventBridge schedule (every 5 minutes): plan the next window's keep-alives as delayed SQS messages."""

from typing import Any

from avito_service import online
from avito_service.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    result = online.tick()
    return {"accountsDue": result.accounts_read, "keepAlivesPlanned": len(result.keep_alives)}
