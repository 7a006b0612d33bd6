"""The daily webhook guard: is our subscription still there, and did another integration subscribe?

Live Avito was seen to keep one subscription per account (the newest): another integration subscribing to the
same account silently takes its deliveries, without any error on our side. The daily sync (``jobs_daily_sync``)
runs a ``webhook-check`` job over every account; each task asks Avito for the account's subscriptions once and

- records ``webhookWarning`` on the account (``ours_missing``, ``foreign``, or removed when all is well) and
  ``webhookCheckedAt``, which the console shows as a warning on the account;
- counts ``WebhookGuardProblem`` (CloudWatch, one per account with a problem): ``WebhookGuardAlarm`` in
  template.yaml tells the alarm topic.

Only accounts we subscribed (a current token hash) are checked for a missing subscription; a foreign one is a
warning on any account, since it may take deliveries once ours is added.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.avito.client import AvitoApi
from avito_service.observability import logger, metrics
from avito_service.webhooks.subscriptions import (
    WebhookWarning,
    mask_foreign,
    record_warning,
    split_subscriptions,
    warning_of,
)

METRIC = "WebhookGuardProblem"


def check_account(account_id: str) -> WebhookWarning | None:
    """Check one account's subscriptions at Avito, record the outcome on it and count a problem; returns it.
    Avito or proxy failures are raised (the job counts the account as failed, nothing is recorded)."""
    item = accounts.get_item(account_id)
    listed = AvitoApi(accounts.context_from_item(item)).subscriptions()
    active, foreign = split_subscriptions(account_id, listed, item)
    warning = warning_of(item, active, foreign)
    record_warning(account_id, item, warning)
    accounts.record_fields(account_id, {"webhookCheckedAt": clock.iso()}, bump_version=False)
    if warning is None:
        return None
    metrics.add_metric(name=METRIC, unit=MetricUnit.Count, value=1)
    logger.warning(
        "Webhook guard: a problem with the account's subscription",
        extra={
            "account_id": account_id,
            "warning": warning.value,
            "foreign": [mask_foreign(str(s.get("url", ""))) for s in foreign],
        },
    )
    return warning
