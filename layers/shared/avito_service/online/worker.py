"""The SQS worker: run the keep-alives the tick planned, a batch at a time, in parallel.

Each record is ``{accountId, plannedAt, generation}``. A keep-alive is skipped when the account is gone,
eternal online was disabled, its settings changed since it was planned (``onlineGeneration`` differs), or it
is more than one interval late (a backlog, a redelivery: a newer keep-alive is planned by then, and running
old ones in a burst keeps nobody more online). Each keep-alive's Avito budget is what the invocation has left
(the Lambda context's remaining time, less a margin), at most ``AVITO_BACKGROUND_BUDGET``: a record that
starts late in a batch never runs past the function's timeout; with no time left it fails and SQS redelivers
it.
Avito and proxy failures are recorded on the account by :func:`keep_alive_item` and are *not* retried;
only unexpected errors (DynamoDB, Secrets Manager, a malformed record) fail the record, which SQS then
redelivers (up to the queue's maxReceiveCount, then the dead-letter queue).
"""

from __future__ import annotations

import functools
import json
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ConfigDict, Field

from avito_service import clock, deadline
from avito_service.accounts import service as accounts
from avito_service.accounts.models import DEFAULT_INTERVAL
from avito_service.base import Model
from avito_service.config import get_settings
from avito_service.errors import NotFound
from avito_service.observability import logger, metrics
from avito_service.online.keepalive import keep_alive_item

MAX_PARALLEL = 8
MIN_BUDGET = 1.0  # seconds: less than this left in the invocation and the keep-alive is not started


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


_METRIC = {Outcome.DONE: "KeepAliveDone", Outcome.FAILED: "KeepAliveFailed", Outcome.SKIPPED: "KeepAliveSkipped"}


class PlannedMessage(Model):
    model_config = ConfigDict(extra="ignore")

    accountId: str = Field(min_length=1, max_length=64)
    plannedAt: int
    generation: int = 0


class ParallelBatchProcessor(BatchProcessor):
    """Powertools' SQS batch processor, with the records of a batch handled by a small thread pool.

    Each record still goes through ``_process_record`` (success/failure bookkeeping, partial responses);
    one slow or failing account never holds up or breaks the others.
    """

    def __init__(self, max_workers: int = MAX_PARALLEL) -> None:
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False, logger=logger)
        self.max_workers = max_workers

    def process(self) -> list[tuple]:
        if len(self.records) <= 1:
            return super().process()
        return list(_pool(self.max_workers).map(self._process_record, self.records))


@functools.cache
def _pool(max_workers: int) -> ThreadPoolExecutor:
    """One pool per container, not one per batch: each thread keeps its own DynamoDB resource (aws.py) for as
    long as the container lives instead of building one per batch."""
    return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="keepalive")


def handle_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Entry point of the worker function: partial batch response (``ReportBatchItemFailures``)."""
    return process_partial_response(
        event=event, record_handler=handle_record, processor=ParallelBatchProcessor(), context=context
    )


class NoTimeLeft(Exception):
    """The invocation has too little time left to start a keep-alive: the record fails and SQS redelivers it."""


def handle_record(record: SQSRecord, lambda_context: Any = None) -> Outcome:
    """One record (Powertools passes the Lambda context, so the budget follows this invocation's time)."""
    planned = PlannedMessage.model_validate(json.loads(record.body))
    seconds = keep_alive_budget(lambda_context)
    with deadline.budget(seconds):
        outcome = run_planned(planned)
    _count(outcome, planned)
    return outcome


def keep_alive_budget(lambda_context: Any) -> float:
    """Seconds one keep-alive may spend: the invocation's remaining time less ``deadline.LAMBDA_MARGIN``, at
    most the background budget; NoTimeLeft under ``MIN_BUDGET`` (read when the record starts: a record that
    waited for a free thread gets what is left then)."""
    configured = get_settings().avito_background_budget
    remaining_ms = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if not callable(remaining_ms):
        return configured
    left = float(remaining_ms()) / 1000 - deadline.LAMBDA_MARGIN
    if left < MIN_BUDGET:
        raise NoTimeLeft(f"only {max(left, 0):.1f} s left in this invocation")
    return min(configured, left)


def run_planned(planned: PlannedMessage, *, now: float | None = None) -> Outcome:
    """Run one planned keep-alive unless it is no longer wanted (see the module docstring)."""
    item = accounts.account_store().get(planned.accountId)
    if item is None or not item.get("eternalOnlineEnabled"):
        return Outcome.SKIPPED
    if int(item.get("onlineGeneration") or 0) != planned.generation:
        return Outcome.SKIPPED
    interval = int(item.get("onlineKeepAliveInterval") or DEFAULT_INTERVAL)
    if (clock.now() if now is None else now) - planned.plannedAt > interval:
        return Outcome.SKIPPED  # older than one interval: a newer keep-alive is planned already
    try:
        result = keep_alive_item(item, now=now)
    except NotFound:  # deleted while the keep-alive ran
        return Outcome.SKIPPED
    return Outcome.DONE if result.ok else Outcome.FAILED


def _count(outcome: Outcome, planned: PlannedMessage) -> None:
    metrics.add_metric(name=_METRIC[outcome], unit=MetricUnit.Count, value=1)  # thread-safe (observability.py)
    if outcome is not Outcome.SKIPPED:
        lag = max(clock.now() - planned.plannedAt, 0.0)
        metrics.add_metric(name="KeepAliveLagSeconds", unit=MetricUnit.Seconds, value=round(lag, 3))
    if outcome is Outcome.SKIPPED:
        logger.info("Keep-alive skipped", extra={"account_id": planned.accountId, "generation": planned.generation})
