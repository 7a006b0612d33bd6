"""Running jobs: one task in the worker, and a synchronous sync that hands itself off as a job.

Creating jobs and reading them is ``jobs/service.py`` (no Avito client there).

A task's SQS message is ``{jobId, order, accountId}``; the task's state (lease, cursor, outcome) is in
``JobsTable``, so a message delivered twice, retried after a crash or sent again as a delayed continuation
always resumes from the stored cursor. Concurrency is bounded by the worker's event source
(``ScalingConfig.MaximumConcurrency``); Avito's per-account limits by ``avito/limits.py`` across all of them.
"""

from __future__ import annotations

import uuid
from typing import Any

from avito_service import clock
from avito_service.accounts.connection import check_connection
from avito_service.avito.errors import AvitoAuthError
from avito_service.config import get_settings
from avito_service.errors import NotFound, ServiceError
from avito_service.jobs import sync
from avito_service.jobs.models import FINAL, JobKind, JobStatus
from avito_service.jobs.service import enqueue, hand_off
from avito_service.jobs.store import JobStore, job_store
from avito_service.observability import logger

MAX_ATTEMPTS = 3  # failed attempts of one step before the account counts as failed
RETRY_DELAY = 30  # seconds before a failed step is tried again
LEASE_MARGIN = 30.0  # a lease outlives the invocation that holds it by this much


class JobPages:
    """A sync task's item-id pages in JobsTable."""

    def __init__(self, store: JobStore, job_id: str, account_id: str) -> None:
        self.store, self.job_id, self.account_id = store, job_id, account_id

    def put(self, page: int, ids: list[int]) -> None:
        self.store.put_page(self.job_id, self.account_id, page, ids)

    def get(self, first: int, count: int) -> list[list[int]]:
        return self.store.pages(self.job_id, self.account_id, first, count)


# --- a synchronous sync ---------------------------------------------------------------------------------


def sync_or_hand_off(account_id: str, days: int, *, started_by: str | None = None) -> tuple[Any, bool]:
    """``(account, True)`` when the sync finished within ``SYNC_INLINE_SECONDS``, else ``(JobAccepted, False)``."""
    settings = get_settings()
    cursor, pages = sync.SyncCursor(days=days), sync.MemoryPages()
    budget = sync.Budget(settings.sync_inline_seconds, max_wait=min(10.0, settings.sync_inline_seconds))
    try:
        return sync.run(account_id, cursor, pages, budget), True
    except sync.Paused as paused:
        return hand_off(account_id, cursor, pages.pages, paused.retry_in, started_by=started_by), False


# --- the worker -----------------------------------------------------------------------------------------


def run_task(message: dict[str, Any], seconds: float) -> str:
    """Work on one task for at most ``seconds``; returns what happened (for logs and tests).

    ``finished``/``failed``: the task is over; ``paused``: it continues in a delayed message (Avito's budget or
    the time ran out); ``skipped``: it is finished already or another worker holds it. Unexpected exceptions
    propagate: the message is retried (and lands in the dead-letter queue after the queue's maxReceiveCount).
    """
    job_id, order, account_id = str(message["jobId"]), int(message["order"]), str(message["accountId"])
    store = job_store()
    owner = uuid.uuid4().hex
    task = store.claim(job_id, order, account_id, owner, until=clock.now() + seconds + LEASE_MARGIN)
    if task is None:
        store.complete_if_finished(job_id)
        return "skipped"
    header = store.header(job_id) or {}
    kind = JobKind(header.get("kind", JobKind.SYNC_STATS.value))
    if kind == JobKind.CHECK_ALL_CONNECTIONS:
        return _check(store, job_id, order, account_id)
    cursor = sync.SyncCursor.model_validate(task.get("cursor") or {"days": int(header.get("days", 30))})
    settings = get_settings()
    budget = sync.Budget(seconds, max_wait=settings.jobs_max_wait_seconds)

    def checkpoint(state: sync.SyncCursor) -> None:
        if not store.save_cursor(job_id, order, account_id, owner, state.model_dump()):
            raise LeaseLost

    try:
        sync.run(account_id, cursor, JobPages(store, job_id, account_id), budget, checkpoint)
    except LeaseLost:
        return "skipped"
    except sync.Paused as paused:
        store.release(job_id, order, account_id, owner)
        enqueue(job_id, [(order, account_id)], delay=paused.retry_in)
        return "paused"
    except NotFound:
        return _finish(store, job_id, order, account_id, JobStatus.FAILED, "The account no longer exists.")
    except ServiceError as error:
        cursor.errors += 1
        if cursor.errors >= MAX_ATTEMPTS or isinstance(error, AvitoAuthError):  # refused credentials stay refused
            return _finish(store, job_id, order, account_id, JobStatus.FAILED, error.message)
        logger.info(
            "Job step failed; trying again later",
            extra={"job_id": job_id, "account_id": account_id, "reason": error.message, "attempt": cursor.errors},
        )
        store.save_cursor(job_id, order, account_id, owner, cursor.model_dump())
        store.release(job_id, order, account_id, owner)
        enqueue(job_id, [(order, account_id)], delay=RETRY_DELAY)
        return "paused"
    return _finish(store, job_id, order, account_id, JobStatus.DONE, None)


class LeaseLost(Exception):
    """Another worker took the task over (this one outlived its lease)."""


def _check(store: JobStore, job_id: str, order: int, account_id: str) -> str:
    try:
        result = check_connection(account_id)
    except NotFound:
        return _finish(store, job_id, order, account_id, JobStatus.FAILED, "The account no longer exists.")
    if result.ok:
        return _finish(store, job_id, order, account_id, JobStatus.DONE, None, result.connectionStatus.value)
    steps = result.steps
    error = next(
        (s.error for s in (steps.proxy, steps.token, steps.account) if s is not None and not s.ok and s.error), None
    )
    return _finish(
        store, job_id, order, account_id, JobStatus.FAILED, error or "not connected", result.connectionStatus.value
    )


def _finish(  # noqa: PLR0917 - the task's key, its outcome and why
    store: JobStore,
    job_id: str,
    order: int,
    account_id: str,
    status: JobStatus,
    error: str | None,
    connection_status: str | None = None,
) -> str:
    fields: dict[str, Any] = {}
    if error:
        fields["error"] = error
        store.note_first_error(job_id, error)
    if connection_status:
        fields["connectionStatus"] = connection_status
    store.finish(job_id, order, account_id, status, fields)
    header = store.complete_if_finished(job_id) or {}
    if header.get("status") in FINAL:
        logger.info("Job finished", extra={"job_id": job_id, "status": header.get("status")})
    return "finished" if status == JobStatus.DONE else "failed"
