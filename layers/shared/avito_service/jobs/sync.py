"""The stats sync as resumable steps over a cursor: the synchronous ``sync-stats`` and the job worker run the same
steps, so both store the same figures and snapshot.

Steps: ``start`` (user id, balance, CPA balance) -> ``items`` (one page of 100 active items per step, its ids
kept as a page) -> ``stats`` (200 ids per step, Avito's batch size) -> ``finish`` (the snapshot and the
account's figures; idempotent) -> ``done``. After each step the caller stores the cursor (a job) or just goes
on (in memory); a step repeated after a crash redoes only that step's work: pages are stored under their
number and figures are added to the cursor in the same write that advances it.

A step is not started when what is left of the time budget is less than ``ANSWER_MARGIN`` times the slowest
answer Avito gave this sync so far: the step's call would be cut short by the budget's own end after Avito had
counted it (items list: 25 a minute), and the step repeated with a second call of the same page (seen under
load: the synchronous sync's 1 s budget in the tests ended half-way through a page, 102 item-list calls for
101 pages). A call that times out all the same (Avito slower than ever) is counted in ``cursor.timeouts``: the
only calls a sync makes twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from avito_service import clock, deadline
from avito_service.accounts import service as accounts
from avito_service.accounts.models import Account
from avito_service.accounts.stats import MAX_KOPECKS, Snapshot, avito_today, kopecks
from avito_service.avito.client import AvitoApi
from avito_service.avito.errors import AvitoError, AvitoTimeout
from avito_service.avito.limits import BudgetExhausted
from avito_service.config import get_settings
from avito_service.deadline import DeadlineExceeded
from avito_service.jobs.models import SyncCursor
from avito_service.observability import logger

PER_PAGE = 100  # the items list's largest page
STATS_BATCH = 200  # Avito's most item ids per stats call
STEP_SLACK = 1.0  # an Avito timeout with less than this left of the budget is the budget running out
ANSWER_MARGIN = 3.0  # a step starts only with this many times the slowest answer so far left of the budget
CPA_MAX_WAIT = 2.0  # the CPA balance (1 call a minute) is not worth a longer wait: the stored value is kept


class Pages(Protocol):
    def put(self, page: int, ids: list[int]) -> None: ...
    def get(self, first: int, count: int) -> list[list[int]]: ...


class MemoryPages:
    def __init__(self) -> None:
        self.pages: dict[int, list[int]] = {}

    def put(self, page: int, ids: list[int]) -> None:
        self.pages[page] = list(ids)

    def get(self, first: int, count: int) -> list[list[int]]:
        return [self.pages[p] for p in range(first, first + count) if p in self.pages]


@dataclass
class Budget:
    """How long the steps may run (``seconds`` from now) and the longest single wait for Avito's budget."""

    seconds: float
    max_wait: float

    def __post_init__(self) -> None:
        self._ends = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self._ends - time.monotonic()


class Paused(Exception):
    """The steps stopped before the end: the time budget is spent, or Avito's budget frees up in ``retry_in`` s."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"paused for {retry_in:.1f} s")
        self.retry_in = retry_in


def run(
    account_id: str,
    cursor: SyncCursor,
    pages: Pages,
    budget: Budget,
    checkpoint: Callable[[SyncCursor], None] = lambda _: None,
    *,
    now: float | None = None,
) -> Account:
    """Run the steps from ``cursor`` until done (the account) or :class:`Paused` (the cursor is up to date)."""
    context = accounts.load_context(account_id)
    client = AvitoApi(context)
    account: Account | None = None
    while cursor.phase != "done":
        left = budget.remaining()
        if left <= 0 or left < ANSWER_MARGIN * client.slowest_answer:
            raise Paused(0.0)  # nothing was sent: the next run starts this step afresh
        client.limit_wait = max(0.0, min(budget.max_wait, budget.remaining()))
        try:
            # each step has its own Avito budget (at most what the job has left; a request's deadline, when one
            # is active, is shorter and wins), so a long job never runs out of one client-wide budget
            with deadline.budget(min(get_settings().avito_background_budget, budget.remaining())):
                account = _step(client, cursor, pages, now)
        except BudgetExhausted as exc:
            raise Paused(exc.retry_in) from None
        except DeadlineExceeded:
            raise Paused(0.0) from None  # the step's reads did not finish in time: the cursor did not move
        except AvitoTimeout:
            cursor.timeouts += 1  # the request may have reached Avito: the repeated step calls it again
            if budget.remaining() > STEP_SLACK:
                raise  # Avito itself was slow: a failed attempt (retried a few times)
            # the read timeout was cut short by what was left of the budget: the time ran out, not Avito
            raise Paused(0.0) from None
        cursor.errors = 0
        checkpoint(cursor)
    return account or accounts.get_account(account_id)


def _step(client: AvitoApi, cursor: SyncCursor, pages: Pages, now: float | None) -> Account | None:
    if cursor.phase == "start":
        _start(client, cursor, now)
    elif cursor.phase == "items":
        resources = client.items_page(cursor.nextPage, "active", PER_PAGE)
        cursor.calls += 1
        ids = [int(i["id"]) for i in resources if i.get("id") is not None]
        if ids:
            pages.put(cursor.pages, ids)
            cursor.pages += 1
            cursor.adsCount += len(ids)
        if len(resources) < PER_PAGE:  # a page that is not full is the last one (Avito gives no total)
            cursor.phase = "stats" if cursor.pages else "finish"
        else:
            cursor.nextPage += 1
    elif cursor.phase == "stats":
        _stats_batch(client, cursor, pages)
    elif cursor.phase == "finish":
        account = _finish(client.account_id, cursor, now)
        cursor.phase = "done"
        return account
    return None


def _start(client: AvitoApi, cursor: SyncCursor, now: float | None) -> None:
    account = client.context.account
    cursor.today = cursor.today or avito_today(now).isoformat()
    if account.userId:
        cursor.userId = account.userId
    else:
        cursor.userId = str(client.account_self()["id"])
        cursor.userIdFromAvito = True
        cursor.calls += 1
    balance = client.balance(cursor.userId) or {}
    cursor.calls += 1
    cursor.balanceReal, cursor.balanceBonus = kopecks(balance.get("real")), kopecks(balance.get("bonus"))
    client.limit_wait = min(client.limit_wait, CPA_MAX_WAIT)
    try:
        cpa = client.cpa_balance() or {}
        cursor.calls += 1
        cursor.cpaBalance = int(cpa["balance"]) if cpa.get("balance") is not None else None
        if cursor.cpaBalance is not None and abs(cursor.cpaBalance) > MAX_KOPECKS:
            raise ValueError(f"a CPA balance of {cursor.cpaBalance:.3g} cannot be stored")
    except BudgetExhausted:
        cursor.cpaKept = True
        logger.info("CPA balance kept: Avito allows one call a minute", extra={"account_id": client.account_id})
    except (AvitoError, KeyError, TypeError, ValueError, OverflowError) as exc:
        logger.info("CPA balance not available", extra={"account_id": client.account_id, "reason": str(exc)[:200]})
        cursor.cpaBalance = None
    cursor.phase = "items"


def _stats_batch(client: AvitoApi, cursor: SyncCursor, pages: Pages) -> None:
    per_call = STATS_BATCH // PER_PAGE
    ids = [i for page in pages.get(cursor.statsPage, per_call) for i in page][:STATS_BATCH]
    today = date.fromisoformat(cursor.today or avito_today().isoformat())
    first_day = today - timedelta(days=cursor.days - 1)
    if ids:
        rows = client.item_stats(cursor.userId or "", ids, first_day.isoformat(), today.isoformat())
        cursor.calls += 1
        for row in rows:
            for day in row.get("stats") or []:
                cursor.viewsCount += int(day.get("uniqViews") or 0)
                cursor.contactsCount += int(day.get("uniqContacts") or 0)
                cursor.favoritesCount += int(day.get("uniqFavorites") or 0)
                if day.get("date") == today.isoformat():
                    cursor.viewsToday += int(day.get("uniqViews") or 0)
                    cursor.contactsToday += int(day.get("uniqContacts") or 0)
    cursor.statsPage += per_call
    if cursor.statsPage >= cursor.pages:
        cursor.phase = "finish"


def _finish(account_id: str, cursor: SyncCursor, now: float | None) -> Account:
    cpa_balance = cursor.cpaBalance
    if cursor.cpaKept:
        stored = accounts.get_item(account_id).get("cpaBalance")
        cpa_balance = int(stored) if stored is not None else None
    synced_at = clock.iso(now)
    snapshot = Snapshot(
        date=cursor.today or avito_today(now).isoformat(),
        syncedAt=synced_at,
        days=cursor.days,
        balanceReal=cursor.balanceReal,
        balanceBonus=cursor.balanceBonus,
        cpaBalance=cpa_balance,
        adsCount=cursor.adsCount,
        viewsCount=cursor.viewsCount,
        contactsCount=cursor.contactsCount,
        favoritesCount=cursor.favoritesCount,
        viewsToday=cursor.viewsToday,
        contactsToday=cursor.contactsToday,
    )
    figures = snapshot.model_dump(exclude={"date", "syncedAt", "days"})
    accounts.account_store().put_snapshot(account_id, snapshot.date, snapshot.model_dump())
    values: dict[str, Any] = {k: v for k, v in figures.items() if v is not None}
    remove = {k for k, v in figures.items() if v is None}
    if cursor.userIdFromAvito and cursor.userId:
        values["userId"] = cursor.userId
    account = accounts.record_fields(account_id, {**values, "lastSyncAt": synced_at}, remove, now=now)
    logger.info(
        "Stats synced",
        extra={"account_id": account_id, "items": cursor.adsCount, "days": cursor.days, "avito_calls": cursor.calls},
    )
    return account
