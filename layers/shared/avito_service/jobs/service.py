"""Creating jobs and reading them: what the job starters and ``GET /jobs/{jobId}`` need.

No Avito client is imported here: starting a job queues its tasks and the worker (``jobs/runner.py``) calls
Avito, so the functions that only start or read jobs neither load the client nor may read the Avito tokens.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from typing import Any

from avito_service import aws, clock
from avito_service.accounts import service as accounts
from avito_service.config import get_settings
from avito_service.errors import NotFound
from avito_service.jobs.models import Job, JobAccepted, JobKind, JobStatus, Outcome, SyncCursor
from avito_service.jobs.store import job_store
from avito_service.observability import logger

MAX_DELAY = 900  # SQS's longest DelaySeconds
LIST_PAGE = 100


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
    cursor = SyncCursor(days=days).model_dump() if kind == JobKind.SYNC_ALL_STATS else None
    tasks = [
        {"accountId": account_id, "status": JobStatus.QUEUED.value, **({"cursor": cursor} if cursor else {})}
        for account_id in account_ids
    ]
    status = JobStatus.DONE if not account_ids else JobStatus.QUEUED
    store.create(job_id, _header(job_id, kind, len(account_ids), trigger, status, days=days), tasks)
    enqueue(job_id, list(enumerate(account_ids)))
    logger.info("Job started", extra={"job_id": job_id, "kind": kind.value, "total": len(account_ids)})
    return JobAccepted(jobId=job_id, status=status, kind=kind, total=len(account_ids))


def hand_off(
    account_id: str,
    cursor: SyncCursor,
    pages: Mapping[int, list[int]],
    retry_in: float,
    *,
    started_by: str | None = None,
) -> JobAccepted:
    """A synchronous sync that ran out of time: the same cursor (and the item-id pages collected so far, by page
    number) becomes a job."""
    job_id = str(uuid.uuid4())
    store = job_store()
    for number, ids in pages.items():
        store.put_page(job_id, account_id, number, ids)
    task = {"accountId": account_id, "status": JobStatus.RUNNING.value, "cursor": cursor.model_dump()}
    header = _header(job_id, JobKind.SYNC_STATS, 1, "api", JobStatus.RUNNING, days=cursor.days)
    if started_by:
        header["startedBy"] = started_by  # jobs are visible to their starter, admins and directors
    store.create(job_id, header, [task])
    enqueue(job_id, [(0, account_id)], delay=retry_in)
    logger.info(
        "Sync continues in the background",
        extra={"job_id": job_id, "account_id": account_id, "phase": cursor.phase, "page": cursor.nextPage},
    )
    return JobAccepted(jobId=job_id, status=JobStatus.RUNNING, kind=JobKind.SYNC_STATS, total=1)


# --- the job resource -----------------------------------------------------------------------------------


def get_job(job_id: str, *, visible_to: str | None = None) -> Job:
    """The job; ``visible_to`` (an operator's sub): a job someone else started answers 404 like an unknown one."""
    header, tasks = job_store().job(job_id)
    if header is None or (visible_to is not None and header.get("startedBy") != visible_to):
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
