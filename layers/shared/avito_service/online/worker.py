"""The SQS worker: run the keep-alives the tick planned, a batch at a time, in parallel.

Each record is ``{accountId, plannedAt, generation}``. A keep-alive is skipped when the account is gone,
eternal online was disabled, or its settings changed since it was planned (``onlineGeneration`` differs).
Avito and proxy failures are recorded on the account by :func:`keep_alive_item` and are *not* retried;
only unexpected errors (DynamoDB, Secrets Manager, a malformed record) fail the record, which SQS then
redelivers (up to the queue's maxReceiveCount, then the dead-letter queue).
"""

from __future__ import annotations

import functools
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ConfigDict, Field

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.base import Model
from avito_service.errors import NotFound
from avito_service.observability import logger, metrics
from avito_service.online.keepalive import keep_alive_item

MAX_PARALLEL = 8
_metrics_lock = threading.Lock()


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


def handle_record(record: SQSRecord) -> Outcome:
    planned = PlannedMessage.model_validate(json.loads(record.body))
    outcome = run_planned(planned)
    _count(outcome, planned)
    return outcome


def run_planned(planned: PlannedMessage, *, now: float | None = None) -> Outcome:
    """Run one planned keep-alive unless it is no longer wanted."""
    item = accounts.account_store().get(planned.accountId)
    if item is None or not item.get("eternalOnlineEnabled"):
        return Outcome.SKIPPED
    if int(item.get("onlineGeneration") or 0) != planned.generation:
        return Outcome.SKIPPED
    try:
        result = keep_alive_item(item, now=now)
    except NotFound:  # deleted while the keep-alive ran
        return Outcome.SKIPPED
    return Outcome.DONE if result.ok else Outcome.FAILED


def _count(outcome: Outcome, planned: PlannedMessage) -> None:
    with _metrics_lock:  # Metrics is shared by the pool's threads
        metrics.add_metric(name=_METRIC[outcome], unit=MetricUnit.Count, value=1)
        if outcome is not Outcome.SKIPPED:
            lag = max(clock.now() - planned.plannedAt, 0.0)
            metrics.add_metric(name="KeepAliveLagSeconds", unit=MetricUnit.Seconds, value=round(lag, 3))
    if outcome is Outcome.SKIPPED:
        logger.info("Keep-alive skipped", extra={"account_id": planned.accountId, "generation": planned.generation})
