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
from avito_service.accounts import service as accounts
from avito_service.accounts.connection import check_connection
from avito_service.avito import limits
from avito_service.avito.errors import AvitoAuthError, AvitoError
from avito_service.avito.limits import BudgetExhausted
from avito_service.config import get_settings
from avito_service.deadline import DeadlineExceeded
from avito_service.errors import NotFound, ServiceError, TooManyRequests
from avito_service.jobs import sync
from avito_service.jobs.models import FINAL, JobKind, JobStatus, SyncCursor
from avito_service.jobs.service import SYNC_LOCK_SECONDS, enqueue, enqueue_setup, hand_off, start_sync
from avito_service.jobs.store import JobStore, job_store
from avito_service.observability import logger

MAX_ATTEMPTS = 3  # failed attempts of one step before the account counts as failed
JOIN_POLL_SECONDS = 30  # a task that joined another job's sync of its account looks again this much later
MAX_STALLS = 10  # runs in a row that paused without progress (Avito's budget never freed up) before it fails
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
    """``(account, True)`` when the sync finished within ``SYNC_INLINE_SECONDS``, else ``(JobAccepted, False)``:
    the job it continues as, or the job already syncing the account (one sync per account at a time)."""
    accounts.get_item(account_id)  # 404 before anything is recorded
    settings = get_settings()
    owner = f"inline-{uuid.uuid4().hex}"
    job_id, running = start_sync(account_id, days, owner, started_by=started_by)
    if running is not None:
        return running, False
    store = job_store()
    cursor, pages = sync.SyncCursor(days=days), sync.MemoryPages()
    budget = sync.Budget(settings.sync_inline_seconds, max_wait=min(10.0, settings.sync_inline_seconds))
    try:
        account = sync.run(account_id, cursor, pages, budget)
    except sync.Paused as paused:
        return hand_off(account_id, cursor, pages.pages, paused.retry_in, job_id=job_id, owner=owner), False
    except ServiceError as error:
        _finish(store, job_id, 0, account_id, JobStatus.FAILED, error.message, sync_lock=True)
        raise
    except BaseException:
        _finish(store, job_id, 0, account_id, JobStatus.FAILED, "The sync failed unexpectedly.", sync_lock=True)
        raise
    _finish(store, job_id, 0, account_id, JobStatus.DONE, None, sync_lock=True)
    return account, True


# --- the worker -----------------------------------------------------------------------------------------

SETUP_PAGE = 100  # accounts per set-up step of a bulk job


def set_up(job_id: str, cursor: str) -> str:
    """One set-up step of a bulk job: the page of accounts at ``cursor`` becomes tasks, queued; the next page's
    step is queued before the job's header moves on, so a crash at any point repeats a step (harmless: tasks
    are created only once) and never loses one. A step that is not the header's current one is stale."""
    store = job_store()
    header = store.header(job_id)
    if header is None or not header.get("settingUp") or header.get("setupCursor", "") != cursor:
        return "skipped"
    page, next_cursor = accounts.list_accounts(SETUP_PAGE, cursor or None)
    first = int(header.get("total", 0))
    kind = JobKind(header["kind"])
    start = SyncCursor(days=int(header.get("days", 30))).model_dump() if kind == JobKind.SYNC_ALL_STATS else None
    extra = {"cursor": start} if start else {}
    tasks = [
        {"order": first + n, "accountId": a.id, "status": JobStatus.QUEUED.value, **extra} for n, a in enumerate(page)
    ]
    store.add_tasks(job_id, tasks)
    enqueue(job_id, [(t["order"], t["accountId"]) for t in tasks])
    if next_cursor:
        enqueue_setup(job_id, next_cursor)
    if store.advance_setup(job_id, cursor, next_cursor, first + len(tasks)) and not next_cursor:
        store.complete_if_finished(job_id)  # every task may have finished while the last page was set up
        logger.info("Job set up", extra={"job_id": job_id, "total": first + len(tasks)})
    return "set up"


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
    if kind == JobKind.SYNC_REVIEWS_CALLS:
        return _reviews_and_calls(store, job_id, order, account_id, owner)
    if kind == JobKind.SEARCH_INDEX:
        return _index_for_search(store, job_id, order, account_id, owner, task, seconds)
    if kind == JobKind.WEBHOOK_CHECK:
        return _webhook_check(store, job_id, order, account_id)
    if kind == JobKind.BACKFILL:
        return _backfill(store, job_id, order, account_id, owner, task, seconds)
    if (joined := _joined_another(store, task, job_id, order, account_id, owner)) is not None:
        return joined
    cursor = sync.SyncCursor.model_validate(task.get("cursor") or {"days": int(header.get("days", 30))})
    settings = get_settings()
    budget = sync.Budget(seconds, max_wait=settings.jobs_max_wait_seconds)

    def checkpoint(state: sync.SyncCursor) -> None:
        if not store.save_cursor(job_id, order, account_id, owner, state.model_dump()):
            raise LeaseLost

    started_at = cursor.position()
    try:
        sync.run(account_id, cursor, JobPages(store, job_id, account_id), budget, checkpoint)
    except LeaseLost:
        return "skipped"
    except sync.Paused as paused:
        # A task that keeps pausing where it stands (Avito's budget for the account stays used up by others, a
        # step that never fits the time) would loop for ever, one delayed message after another: count such
        # runs and fail the account with a clear reason after MAX_STALLS of them.
        cursor.stalls = cursor.stalls + 1 if cursor.position() == started_at else 0
        if cursor.stalls >= MAX_STALLS:
            return _finish(store, job_id, order, account_id, JobStatus.FAILED, _stalled(cursor))
        store.save_cursor(job_id, order, account_id, owner, cursor.model_dump())
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


def _stalled(cursor: sync.SyncCursor) -> str:
    return (
        f"The sync made no progress in {cursor.stalls} attempts in a row (stuck at the '{cursor.phase}' step, "
        f"items page {cursor.nextPage}): Avito's budget for this account stayed used up. Try again later."
    )


def _joined_another(  # noqa: PLR0917 - the task's key, its lease and what is stored
    store: JobStore, task: dict[str, Any], job_id: str, order: int, account_id: str, owner: str
) -> str | None:
    """One sync per account at a time: when another job's task syncs the account now (or did, and this task
    waited for it), this task takes that sync's outcome instead of syncing again. Returns what happened when it
    joined (``finished``/``failed``: the outcome is taken; ``joined``: it waits in a delayed message), None when
    this task holds the account's lock and runs the sync itself."""
    holder = store.lock_sync(account_id, job_id, order, until=clock.now() + SYNC_LOCK_SECONDS)
    joined_job, joined_order = task.get("joinedJobId"), int(task.get("joinedOrder", 0))
    if joined_job:
        # Looked at after the lock attempt: the joined sync finishes before it lets the lock go, so a lock that is
        # free now never means "sync again" for a task whose joined sync is over.
        other = store.task(str(joined_job), joined_order, account_id)
        if other is not None and other.get("status") in FINAL:
            status = JobStatus(other["status"])
            error = other.get("error") if status == JobStatus.FAILED else None
            return _finish(store, job_id, order, account_id, status, error)  # and lets the lock go if it took it
    if holder is None:
        return None
    store.set_task_fields(job_id, order, account_id, {"joinedJobId": holder["jobId"], "joinedOrder": holder["order"]})
    store.release(job_id, order, account_id, owner)
    enqueue(job_id, [(order, account_id)], delay=JOIN_POLL_SECONDS)
    logger.info("Sync joined the running job", extra={"job_id": job_id, "joined_job_id": holder["jobId"]})
    return "joined"


class LeaseLost(Exception):
    """Another worker took the task over (this one outlived its lease)."""


def _check(store: JobStore, job_id: str, order: int, account_id: str) -> str:
    try:
        result = check_connection(account_id)
    except NotFound:
        return _finish(
            store, job_id, order, account_id, JobStatus.FAILED, "The account no longer exists.", sync_lock=False
        )
    if result.ok:
        return _finish(
            store, job_id, order, account_id, JobStatus.DONE, None, result.connectionStatus.value, sync_lock=False
        )
    steps = result.steps
    error = next(
        (s.error for s in (steps.proxy, steps.token, steps.account) if s is not None and not s.ok and s.error), None
    )
    return _finish(
        store,
        job_id,
        order,
        account_id,
        JobStatus.FAILED,
        error or "not connected",
        result.connectionStatus.value,
        sync_lock=False,
    )


def _reviews_and_calls(store: JobStore, job_id: str, order: int, account_id: str, owner: str) -> str:
    from avito_service.reviews import daily  # noqa: PLC0415 - only this kind needs it

    try:
        daily.sync_account(account_id, max_wait=get_settings().jobs_max_wait_seconds)
    except BudgetExhausted as exhausted:  # call tracking's 5 a minute: continue once a slot is free
        store.release(job_id, order, account_id, owner)
        enqueue(job_id, [(order, account_id)], delay=exhausted.retry_in)
        return "paused"
    except NotFound:
        return _finish(
            store, job_id, order, account_id, JobStatus.FAILED, "The account no longer exists.", sync_lock=False
        )
    except ServiceError as error:
        return _finish(store, job_id, order, account_id, JobStatus.FAILED, error.message, sync_lock=False)
    return _finish(store, job_id, order, account_id, JobStatus.DONE, None, sync_lock=False)


def _backfill(  # noqa: PLR0917 - the task's key, its lease, its state and its time
    store: JobStore, job_id: str, order: int, account_id: str, owner: str, task: dict[str, Any], seconds: float
) -> str:
    """A ``backfill`` task: steps from the saved cursor until done or the time is up (then a continuation)."""
    from avito_service.jobs import backfill  # noqa: PLC0415 - only this kind of job backfills

    header = store.header(job_id) or {}
    saved = task.get("cursor")
    cursor = (
        backfill.BackfillCursor.model_validate(saved)
        if saved
        else backfill.start_cursor(int(header.get("days", backfill.DEFAULT_DAYS)))
    )

    def save(state: backfill.BackfillCursor) -> None:
        if not store.save_cursor(job_id, order, account_id, owner, state.model_dump()):
            raise LeaseLost

    progress = backfill.Progress(store, job_id, account_id, save)
    try:
        finished = backfill.run(account_id, cursor, progress, clock.now() + seconds * 0.8)
    except LeaseLost:
        return "skipped"
    except (TooManyRequests, AvitoError, DeadlineExceeded) as slowed:
        delay = _slowed_down(account_id, slowed)
        if delay is None:  # another Avito error: handled below as a failed attempt
            return _backfill_failed(store, job_id, order, account_id, owner, cursor, slowed)
        # Avito asked to slow down (a 429, its Retry-After shared by containers): not a failure, the task waits
        # and the refused step runs again; one that never gets through fails after MAX_STALLS pauses in a row.
        cursor.stalls += 1
        if cursor.stalls >= MAX_STALLS:
            reason = f"Avito kept answering 429 (too many requests) {cursor.stalls} times in a row. Try again later."
            return _finish(store, job_id, order, account_id, JobStatus.FAILED, reason, sync_lock=False)
        store.save_cursor(job_id, order, account_id, owner, cursor.model_dump())
        store.release(job_id, order, account_id, owner)
        enqueue(job_id, [(order, account_id)], delay=delay)
        logger.info(
            "Backfill paused: Avito asked to slow down",
            extra={"job_id": job_id, "account_id": account_id, "chats": cursor.nextChat, "delay_s": round(delay)},
        )
        return "paused"
    except NotFound:
        return _finish(
            store, job_id, order, account_id, JobStatus.FAILED, "The account no longer exists.", sync_lock=False
        )
    except ServiceError as error:
        return _backfill_failed(store, job_id, order, account_id, owner, cursor, error)
    logger.info(
        "Backfill step",
        extra={"job_id": job_id, "account_id": account_id, "chats": cursor.nextChat, "calls": cursor.calls},
    )
    if not finished:
        store.release(job_id, order, account_id, owner)
        enqueue(job_id, [(order, account_id)])
        return "paused"
    return _finish(store, job_id, order, account_id, JobStatus.DONE, None, sync_lock=False)


def _slowed_down(account_id: str, error: ServiceError) -> float | None:
    """Seconds a backfill waits when ``error`` is Avito asking to slow down, else None (a real failure).

    Avito's 429 reaches the task three ways: the shared budget refuses the call for a remembered Retry-After
    (``BudgetExhausted``, with its seconds), the client's retries end on a 429 (``avito_rate_limited``: wait what
    Avito's Retry-After said, else ``RETRY_DELAY``), or waiting out a Retry-After does not fit the step's time
    (``DeadlineExceeded``: nothing was refused, continue at once)."""
    if isinstance(error, TooManyRequests):
        return max(1.0, float(getattr(error, "retry_in", RETRY_DELAY)))
    if isinstance(error, DeadlineExceeded):
        return 0.0
    if isinstance(error, AvitoError) and error.code == "avito_rate_limited":
        blocked = limits.shared_limits().blocked_for(account_id, error.endpoint) if error.endpoint else 0.0
        return max(1.0, blocked) if blocked else float(RETRY_DELAY)
    return None


def _backfill_failed(  # noqa: PLR0917 - the task's key, its lease, its state and the error
    store: JobStore, job_id: str, order: int, account_id: str, owner: str, cursor: Any, error: ServiceError
) -> str:
    """A failed attempt (Avito, the proxy): tried again ``RETRY_DELAY`` later, failed after ``MAX_ATTEMPTS``."""
    cursor.errors += 1
    if cursor.errors >= MAX_ATTEMPTS or isinstance(error, AvitoAuthError):
        return _finish(store, job_id, order, account_id, JobStatus.FAILED, error.message, sync_lock=False)
    store.save_cursor(job_id, order, account_id, owner, cursor.model_dump())
    store.release(job_id, order, account_id, owner)
    enqueue(job_id, [(order, account_id)], delay=RETRY_DELAY)
    return "paused"


def _webhook_check(store: JobStore, job_id: str, order: int, account_id: str) -> str:
    from avito_service.webhooks import guard  # noqa: PLC0415 - only this kind needs it

    try:
        guard.check_account(account_id)
    except NotFound:
        return _finish(
            store, job_id, order, account_id, JobStatus.FAILED, "The account no longer exists.", sync_lock=False
        )
    except ServiceError as error:
        return _finish(store, job_id, order, account_id, JobStatus.FAILED, error.message, sync_lock=False)
    return _finish(store, job_id, order, account_id, JobStatus.DONE, None, sync_lock=False)


def _index_for_search(  # noqa: PLR0917 - the task's key, its lease, its state and its time
    store: JobStore, job_id: str, order: int, account_id: str, owner: str, task: dict[str, Any], seconds: float
) -> str:
    """A ``search-index`` task: the account's stored chats into the search index, from its saved position."""
    from avito_service.search import backfill  # noqa: PLC0415 - only this kind of job indexes

    def checkpoint(key: dict[str, Any] | None) -> None:
        if not store.save_cursor(job_id, order, account_id, owner, {"searchKey": key or {}}):
            raise LeaseLost

    start = (task.get("cursor") or {}).get("searchKey") or None
    try:
        finished, indexed = backfill.index_account(account_id, start, clock.now() + seconds * 0.8, checkpoint)
    except LeaseLost:
        return "skipped"
    logger.info("Search index step", extra={"job_id": job_id, "account_id": account_id, "documents": indexed})
    if not finished:
        store.release(job_id, order, account_id, owner)
        enqueue(job_id, [(order, account_id)])
        return "paused"
    return _finish(store, job_id, order, account_id, JobStatus.DONE, None, sync_lock=False)


def _finish(  # noqa: PLR0917 - the task's key, its outcome and why
    store: JobStore,
    job_id: str,
    order: int,
    account_id: str,
    status: JobStatus,
    error: str | None,
    connection_status: str | None = None,
    *,
    sync_lock: bool = True,
) -> str:
    fields: dict[str, Any] = {}
    if error:
        fields["error"] = error
        store.note_first_error(job_id, error)
    if connection_status:
        fields["connectionStatus"] = connection_status
    store.finish(job_id, order, account_id, status, fields)
    if sync_lock:  # the sync kinds hold the account's lock (check-all-connections does not)
        store.unlock_sync(account_id, job_id)
    header = store.complete_if_finished(job_id) or {}
    if header.get("status") in FINAL:
        logger.info("Job finished", extra={"job_id": job_id, "status": header.get("status")})
    return "finished" if status == JobStatus.DONE else "failed"
