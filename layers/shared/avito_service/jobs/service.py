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
from avito_service.config import get_settings
from avito_service.errors import NotFound
from avito_service.jobs.models import Job, JobAccepted, JobKind, JobStatus, Outcome, SyncCursor
from avito_service.jobs.store import job_store
from avito_service.observability import logger

MAX_DELAY = 900  # SQS's longest DelaySeconds


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


def start_bulk(kind: JobKind, *, trigger: str = "api", days: int = 30) -> JobAccepted:
    """A job over every account. The request (or the daily schedule) only records the job and queues its set-up:
    the worker lists the accounts a page at a time and creates and queues their tasks (``runner.set_up``), so
    starting a job over 10,000 accounts takes two writes, never the 29 s API Gateway allows (a 504 half way used
    to leave a job whose missing tasks never finished). ``total`` grows as the set-up goes; the job cannot be
    done before the set-up is."""
    job_id = str(uuid.uuid4())
    header = _header(job_id, kind, 0, trigger, JobStatus.QUEUED, days=days, settingUp=True, setupCursor="")
    job_store().create(job_id, header, [])
    enqueue_setup(job_id, "")
    logger.info("Job started", extra={"job_id": job_id, "kind": kind.value})
    return JobAccepted(jobId=job_id, status=JobStatus.QUEUED, kind=kind, total=0)


def enqueue_setup(job_id: str, cursor: str) -> None:
    """The set-up step of a bulk job for the page of accounts at ``cursor`` ("" = the first page)."""
    aws.sqs_client().send_message(
        QueueUrl=get_settings().jobs_queue_url, MessageBody=json.dumps({"jobId": job_id, "setup": cursor})
    )


SYNC_LOCK_SECONDS = 1500.0  # a sync's hold on its account: a task re-queued for up to 900 s, then a 300 s run
INLINE_LEASE_SECONDS = 60.0  # the request's own hold on its sync's task (API Gateway cuts the request at 29 s)
INLINE_WATCHDOG_SECONDS = 90  # then the task's queued message resumes it, should the request have died


def start_sync(
    account_id: str, days: int, owner: str, *, started_by: str | None = None
) -> tuple[str, JobAccepted | None]:
    """Start a synchronous sync-stats as a job of one account: ``(jobId, None)`` when it may run now (the job is
    recorded as running, its task leased to ``owner``), or ``(jobId, accepted)`` of the sync already running for
    the account, which this request joins (202 with that job). One sync per account at a time."""
    job_id = str(uuid.uuid4())
    store = job_store()
    holder = store.lock_sync(account_id, job_id, 0, until=clock.now() + SYNC_LOCK_SECONDS)
    if holder is not None:
        return holder["jobId"], joined(holder["jobId"])
    task = {"accountId": account_id, "status": JobStatus.RUNNING.value, "leaseOwner": owner}
    task["leaseUntil"] = clock.now() + INLINE_LEASE_SECONDS
    header = _header(job_id, JobKind.SYNC_STATS, 1, "api", JobStatus.RUNNING, days=days)
    if started_by:
        header["startedBy"] = started_by  # jobs are visible to their starter, admins and directors
    store.create(job_id, header, [task])
    # A watchdog: should the request die half way (a timeout, a crash), this message resumes the task once the
    # request's lease is over, so the job (and the account's lock) never hang; it does nothing for a sync that
    # finished, and waits its turn behind a hand-off's own message.
    enqueue(job_id, [(0, account_id)], delay=INLINE_WATCHDOG_SECONDS)
    return job_id, None


def start_backfill(account_id: str, days: int, *, started_by: str | None = None) -> JobAccepted:
    """A backfill job of one account (``jobs/backfill.py``): recorded, its one task queued; ``done``/``total``
    count chats once the worker has listed them."""
    job_id = str(uuid.uuid4())
    header = _header(job_id, JobKind.BACKFILL, 1, "api", JobStatus.QUEUED, days=days, chatsDone=0, chatsTotal=0)
    if started_by:
        header["startedBy"] = started_by
    job_store().create(job_id, header, [{"accountId": account_id, "status": JobStatus.QUEUED.value}])
    enqueue(job_id, [(0, account_id)])
    logger.info("Backfill started", extra={"job_id": job_id, "account_id": account_id, "days": days})
    return JobAccepted(jobId=job_id, status=JobStatus.QUEUED, kind=JobKind.BACKFILL, total=0)


def joined(job_id: str) -> JobAccepted:
    """The running job a second sync of the same account joins."""
    header = job_store().header(job_id) or {}  # being written by the request that started it: "running"
    status = header.get("status", JobStatus.RUNNING.value)
    kind = JobKind(header.get("kind", JobKind.SYNC_STATS.value))
    logger.info("Sync joined the running job", extra={"job_id": job_id})
    return JobAccepted(jobId=job_id, status=status, kind=kind, total=int(header.get("total", 1)))


def hand_off(
    account_id: str,
    cursor: SyncCursor,
    pages: Mapping[int, list[int]],
    retry_in: float,
    *,
    job_id: str | None = None,
    owner: str | None = None,
) -> JobAccepted:
    """A synchronous sync that ran out of time: the same cursor (and the item-id pages collected so far, by page
    number) goes on as a job: the request's own job (``job_id``, its task leased to ``owner``), or a new one."""
    store = job_store()
    if job_id is None:
        job_id = str(uuid.uuid4())
        task = {"accountId": account_id, "status": JobStatus.RUNNING.value, "cursor": cursor.model_dump()}
        header = _header(job_id, JobKind.SYNC_STATS, 1, "api", JobStatus.RUNNING, days=cursor.days)
        store.create(job_id, header, [task])
    for number, ids in pages.items():
        store.put_page(job_id, account_id, number, ids)
    if owner is not None:
        store.save_cursor(job_id, 0, account_id, owner, cursor.model_dump())
        store.release(job_id, 0, account_id, owner)
    enqueue(job_id, [(0, account_id)], delay=retry_in)
    logger.info(
        "Sync continues in the background",
        extra={"job_id": job_id, "account_id": account_id, "phase": cursor.phase, "page": cursor.nextPage},
    )
    return JobAccepted(jobId=job_id, status=JobStatus.RUNNING, kind=JobKind.SYNC_STATS, total=1)


# --- the job resource -----------------------------------------------------------------------------------


def get_job(
    job_id: str, limit: int = 50, cursor: str | None = None, *, visible_to: str | None = None
) -> tuple[Job, str | None]:
    """The job (status and counts over every account) with one page of its outcomes, in account order, and the
    cursor of the next page (None on the last): a job over 10,000 accounts is read a page at a time.
    ``visible_to`` (an operator's sub): a job someone else started answers 404 like an unknown one."""
    store = job_store()
    header = store.header(job_id)
    if header is None or (visible_to is not None and header.get("startedBy") != visible_to):
        raise NotFound(f"No job with id {job_id}.")
    tasks, next_cursor = store.tasks_page(job_id, limit, cursor)
    outcomes = [
        Outcome(
            accountId=t["accountId"],
            status=t.get("status", JobStatus.QUEUED.value),
            error=t.get("error"),
            connectionStatus=t.get("connectionStatus"),
        )
        for t in tasks
    ]
    done, total = int(header.get("done", 0)), int(header.get("total", 0))
    if header["kind"] == JobKind.BACKFILL.value:  # counted in chats (contract: "History on connect")
        done, total = int(header.get("chatsDone", 0)), int(header.get("chatsTotal", 0))
    job = Job(
        jobId=header["jobId"],
        kind=header["kind"],
        status=header["status"],
        accountIds=[o.accountId for o in outcomes],
        done=done,
        failed=int(header.get("failed", 0)),
        total=total,
        error=header.get("error"),
        createdAt=header["createdAt"],
        updatedAt=header["updatedAt"],
        trigger=header.get("trigger", "api"),
        outcomes=outcomes,
    )
    return job, next_cursor
