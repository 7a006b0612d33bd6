"""The scheduled reconciler (EventBridge, every 5 minutes): a reconciliation pass for each account that needs one.

An account needs one when it has a webhook (``webhookSubscribed``) or eternal online, and its last pass
(``reconciledAt``) is at least ``DUE_SECONDS`` old: an eternal-online account whose keep-alives run at least every
4 minutes is reconciled by them and skipped here, so it costs no extra Avito call. With the schedule's 5 minutes
and a pass taking seconds, a lost delivery is found within 10 minutes (contract: "Nothing missed").

The accounts are read a page at a time from the accounts index (one Query per 100 accounts); the passes run in a
small thread pool, each under its own time budget, and the invocation stops starting passes when its own time
is nearly up (the next run picks up the rest: they are still due). One account's failure (Avito, its proxy) is
logged and counted, never raised: the others go on, and the next run tries it again.

Why not the keep-alive queue: the keep-alives are planned per account interval by the tick; the reconciliation is
one pass per account per 5 minutes, which this loop does without a queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from avito_service import clock, deadline
from avito_service.accounts import service as accounts
from avito_service.accounts.store import account_store
from avito_service.avito.client import AvitoApi
from avito_service.config import get_settings
from avito_service.errors import ServiceError
from avito_service.observability import logger, metrics
from avito_service.online.reconcile import RECONCILED_FIELD, ReconcileResult, reconcile

DUE_SECONDS = 240  # a pass younger than this is recent enough (the schedule runs every 300 s)
ACCOUNTS_PAGE = 100
MAX_PARALLEL = 8
STOP_MARGIN = 20.0  # seconds before the invocation's end when no new pass starts


@dataclass
class RunResult:
    accounts_read: int = 0
    due: int = 0
    reconciled: int = 0
    failed: int = 0
    chats_fetched: int = 0
    calls: int = 0


def is_due(item: Mapping[str, Any], now: float) -> bool:
    if not (item.get("webhookSubscribed") or item.get("eternalOnlineEnabled")) or not item.get("userId"):
        return False
    return now - int(item.get(RECONCILED_FIELD) or 0) >= DUE_SECONDS


def reconcile_item(item: Mapping[str, Any], *, now: float | None = None) -> ReconcileResult:
    """One pass for an account item already read; records ``reconciledAt``. Avito failures are raised."""
    account_id = str(item["id"])
    context = accounts.context_from_item(dict(item))
    previous = item.get(RECONCILED_FIELD)
    result = reconcile(
        account_id,
        str(context.account.userId),
        AvitoApi(context),
        previous=None if previous is None else int(previous),
        now=now,
    )
    accounts.record_fields(account_id, {RECONCILED_FIELD: result.at}, bump_version=False, now=now)
    return result


def run(*, now: float | None = None, seconds_left: float | None = None) -> RunResult:
    """Reconcile every due account (``seconds_left``: the invocation's remaining time, None for no limit)."""
    current = clock.now() if now is None else now
    stop_at = None if seconds_left is None else clock.now() + seconds_left - STOP_MARGIN
    budget = get_settings().avito_background_budget
    result = RunResult()
    cursor: str | None = None

    def one(item: dict[str, Any]) -> ReconcileResult | None:
        if stop_at is not None and clock.now() >= stop_at:
            return None
        try:
            with deadline.budget(budget):
                return reconcile_item(item, now=now)
        except ServiceError as exc:
            logger.info("Reconciliation failed", extra={"account_id": item.get("id"), "error_code": exc.code})
            return ReconcileResult(at=-1)

    with ThreadPoolExecutor(max_workers=MAX_PARALLEL, thread_name_prefix="reconcile") as pool:
        while True:
            items, cursor = account_store().list_page(ACCOUNTS_PAGE, cursor)
            result.accounts_read += len(items)
            due = [i for i in items if is_due(i, current)]
            result.due += len(due)
            for outcome in pool.map(one, due):
                if outcome is None:
                    continue
                if outcome.at < 0:
                    result.failed += 1
                    continue
                result.reconciled += 1
                result.chats_fetched += len(outcome.changed)
                result.calls += outcome.calls
            if not cursor or (stop_at is not None and clock.now() >= stop_at):
                break
    metrics.add_metric(name="ReconcileAccounts", unit=MetricUnit.Count, value=result.reconciled)
    metrics.add_metric(name="ReconcileFailed", unit=MetricUnit.Count, value=result.failed)
    metrics.add_metric(name="ReconcileChatsFetched", unit=MetricUnit.Count, value=result.chats_fetched)
    logger.info("Reconciliation run", extra=result.__dict__)
    return result
