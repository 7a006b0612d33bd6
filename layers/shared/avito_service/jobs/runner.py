"""Creating jobs, queueing their tasks, running one task in the worker, and the job resource.

A task's SQS message is ``{jobId, order, accountId}``; the task's state (lease, cursor, outcome) is in
``JobsTable``, so a message delivered twice, retried after a crash or sent again as a delayed continuation
always resumes from the stored cursor. Concurrency is bounded by the worker's event source
(``ScalingConfig.MaximumConcurrency``); Avito's per-account limits by ``avito/limits.py`` across all of them.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from avito_service import aws, clock
from avito_service.accounts import service as accounts
from avito_service.avito.errors import AvitoAuthError
from avito_service.config import get_settings
from avito_service.connection import check_connection
from avito_service.errors import NotFound, ServiceError
from avito_service.jobs import sync
from avito_service.jobs.models import FINAL, Job, JobAccepted, JobKind, JobStatus, Outcome
from avito_service.jobs.store import JobStore, job_store
from avito_service.observability import logger

MAX_DELAY = 900  # SQS's longest DelaySeconds
MAX_ATTEMPTS = 3  # failed attempts of one step before the account counts as failed
RETRY_DELAY = 30  # seconds before a failed step is tried again
LEASE_MARGIN = 30.0  # a lease outlives the invocation that holds it by this much
LIST_PAGE = 100


class JobPages:
    """A sync task's item-id pages in JobsTable."""

    def __init__(self, store: JobStore, job_id: str, account_id: str) -> None:
        self.store, self.job_id, self.account_id = store, job_id, account_id

    def put(self, page: int, ids: list[int]) -> None:
        self.store.put_page(self.job_id, self.account_id, page, ids)

    def get(self, first: int, count: int) -> list[list[int]]:
        return self.store.pages(self.job_id, self.account_id, first, count)


# --- creating jobs --------------------------------------------------------------------------------------


def _header(job_id: str, kind: JobKind, total: int, trigger: str, status: JobStatus, **extra: Any) -> dict:
    now = clock.iso()
    return {
        "jobId": job_id,
        "kind": kind.value,
        "status": status.value,
        "total": total,
        "done": 0,
        "failed": 0,
        "trigger": trigger,
        "createdAt": now,
        "updatedAt": now,
        **extra,
    }


def enqueue(job_id: str, tasks: list[tuple[int, str]], delay: float = 0) -> None:
    """One SQS message per task ``(order, accountId)``, ten to a batch; raises if any could not be sent."""
    sqs = aws.sqs_client()
    url = get_settings().jobs_queue_url
    seconds = min(MAX_DELAY, max(0, math.ceil(delay)))
    for start in range(0, len(tasks), 10):
        chunk = tasks[start : start + 10]
        answer = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(index),
                    "MessageBody": json.dumps({"jobId": job_id, "order": order, "accountId": account_id}),
                    "DelaySeconds": seconds,
                }
                for index, (order, account_id) in enumerate(chunk)
            ],
        )
        if answer.get("Failed"):
            raise RuntimeError(f"could not queue {len(answer['Failed'])} task(s) of job {job_id}")


def every_account_id() -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = accounts.list_accounts(LIST_PAGE, cursor)
        ids.extend(a.id for a in page)
        if not cursor:
            return ids


def start_bulk(kind: JobKind, *, trigger: str = "api", days: int = 30) -> JobAccepted:
    """A job over every account: one task each, queued for the worker."""
    job_id = str(uuid.uuid4())
    account_ids = every_account_id()
    store = job_store()
    cursor = sync.SyncCursor(days=days).model_dump() if kind == JobKind.SYNC_ALL_STATS else None
    tasks = [
        {"accountId": account_id, "status": JobStatus.QUEUED.value, **({"cursor": cursor} if cursor else {})}
        for account_id in account_ids
    ]
    status = JobStatus.DONE if not account_ids else JobStatus.QUEUED
    store.create(job_id, _header(job_id, kind, len(account_ids), trigger, status, days=days), tasks)
    enqueue(job_id, list(enumerate(account_ids)))
    logger.info("Job started", extra={"job_id": job_id, "kind": kind.value, "total": len(account_ids)})
    return JobAccepted(jobId=job_id, status=status, kind=kind, total=len(account_ids))


def hand_off(account_id: str, cursor: sync.SyncCursor, pages: sync.MemoryPages, retry_in: float) -> JobAccepted:
    """A synchronous sync that ran out of time: the same cursor (and the pages collected so far) becomes a job."""
    job_id = str(uuid.uuid4())
    store = job_store()
    for number, ids in pages.pages.items():
        store.put_page(job_id, account_id, number, ids)
    task = {"accountId": account_id, "status": JobStatus.RUNNING.value, "cursor": cursor.model_dump()}
    header = _header(job_id, JobKind.SYNC_STATS, 1, "api", JobStatus.RUNNING, days=cursor.days)
    store.create(job_id, header, [task])
    enqueue(job_id, [(0, account_id)], delay=retry_in)
    logger.info(
        "Sync continues in the background",
        extra={"job_id": job_id, "account_id": account_id, "phase": cursor.phase, "page": cursor.nextPage},
    )
    return JobAccepted(jobId=job_id, status=JobStatus.RUNNING, kind=JobKind.SYNC_STATS, total=1)


def sync_or_hand_off(account_id: str, days: int) -> tuple[Any, bool]:
    """``(account, True)`` when the sync finished within ``SYNC_INLINE_SECONDS``, else ``(JobAccepted, False)``."""
    settings = get_settings()
    cursor, pages = sync.SyncCursor(days=days), sync.MemoryPages()
    budget = sync.Budget(settings.sync_inline_seconds, max_wait=min(10.0, settings.sync_inline_seconds))
    try:
        return sync.run(account_id, cursor, pages, budget), True
    except sync.Paused as paused:
        return hand_off(account_id, cursor, pages, paused.retry_in), False


# --- the job resource -----------------------------------------------------------------------------------


def get_job(job_id: str) -> Job:
    header, tasks = job_store().job(job_id)
    if header is None:
        raise NotFound(f"No job with id {job_id}.")
    outcomes = [
        Outcome(
            accountId=t["accountId"],
            status=t.get("status", JobStatus.QUEUED.value),
            error=t.get("error"),
            connectionStatus=t.get("connectionStatus"),
        )
        for t in sorted(tasks, key=lambda t: int(t.get("order", 0)))
    ]
    return Job(
        jobId=header["jobId"],
        kind=header["kind"],
        status=header["status"],
        accountIds=[o.accountId for o in outcomes],
        done=int(header.get("done", 0)),
        failed=int(header.get("failed", 0)),
        total=int(header.get("total", 0)),
        error=header.get("error"),
        createdAt=header["createdAt"],
        updatedAt=header["updatedAt"],
        trigger=header.get("trigger", "api"),
        outcomes=outcomes,
    )


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
