"""EventBridge schedule (every 5 minutes): a reconciliation pass for every account with a webhook or eternal
online whose last pass is older than 4 minutes, so a lost delivery is stored and announced within 10 minutes
(``avito_service/online/reconciler.py``)."""

from typing import Any

from avito_service.observability import logger, metrics
from avito_service.online import reconciler


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    result = reconciler.run(seconds_left=remaining() / 1000 if callable(remaining) else None)
    return {"due": result.due, "reconciled": result.reconciled, "failed": result.failed}
