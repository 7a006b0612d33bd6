"""EventBridge Scheduler (daily, 04:00 Europe/Moscow by default): a sync-all-stats job over every account,
so ``stats/history`` has a snapshot a day, a sync-reviews-calls job that stores new reviews (announced as
``avito-new-review``) and calls, and a webhook-check job (the webhook guard, ``webhooks/guard.py``)."""

from typing import Any

from avito_service.jobs.models import JobKind
from avito_service.jobs.service import start_bulk
from avito_service.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    accepted = start_bulk(JobKind.SYNC_ALL_STATS, trigger="schedule")
    inbound = start_bulk(JobKind.SYNC_REVIEWS_CALLS, trigger="schedule")
    webhooks = start_bulk(JobKind.WEBHOOK_CHECK, trigger="schedule")
    return {
        **accepted.model_dump(mode="json"),
        "reviewsAndCalls": inbound.model_dump(mode="json"),
        "webhookCheck": webhooks.model_dump(mode="json"),
    }
