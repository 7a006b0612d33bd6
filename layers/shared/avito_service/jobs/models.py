"""The job resource of ``GET /api/v1/jobs/{jobId}``, and a stats sync's resumable cursor (stored with its task)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from avito_service.base import Model


class JobKind(StrEnum):
    SYNC_STATS = "sync-stats"
    SYNC_ALL_STATS = "sync-all-stats"
    CHECK_ALL_CONNECTIONS = "check-all-connections"
    SYNC_REVIEWS_CALLS = "sync-reviews-calls"  # the daily sync's new reviews and calls (reviews/daily.py)
    SEARCH_INDEX = "search-index"  # index what is stored for search (issue 26)
    WEBHOOK_CHECK = "webhook-check"  # the daily sync's webhook guard (webhooks/guard.py, issue 28)
    BACKFILL = "backfill"  # an account's chat history of the last days (jobs/backfill.py, issue 28)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FINAL = frozenset({JobStatus.DONE, JobStatus.FAILED})


class Outcome(Model):
    accountId: str
    status: JobStatus
    error: str | None = Field(default=None, description="why this account failed")
    connectionStatus: str | None = Field(default=None, description="check-all-connections: the account's result")


class Job(Model):
    jobId: str
    kind: JobKind
    status: JobStatus
    accountIds: list[str] = Field(description="the accounts of this page of outcomes, in order")
    done: int = Field(description="accounts finished successfully")
    failed: int = Field(description="accounts that failed (see outcomes)")
    total: int
    error: str | None = Field(default=None, description="what went wrong, when anything did")
    createdAt: str
    updatedAt: str
    trigger: str = Field(description="'api' or 'schedule'")
    outcomes: list[Outcome] = Field(
        default_factory=list,
        description="one page of per-account outcomes (?limit=, ?cursor=; nextCursor beside data), in accountIds order",
    )


class JobAccepted(Model):
    jobId: str
    status: JobStatus
    kind: JobKind
    total: int


class SyncCursor(Model):
    days: int
    today: str | None = None  # fixed at the start: a sync that crosses midnight keeps one window
    phase: Literal["start", "items", "stats", "finish", "done"] = "start"
    userId: str | None = None
    userIdFromAvito: bool = False
    balanceReal: int | None = None
    balanceBonus: int | None = None
    cpaBalance: int | None = None
    cpaKept: bool = False  # CPA's budget was used up: keep the account's stored value
    nextPage: int = 1
    pages: int = 0
    statsPage: int = 0
    adsCount: int = 0
    viewsCount: int = 0
    contactsCount: int = 0
    favoritesCount: int = 0
    viewsToday: int = 0
    contactsToday: int = 0
    calls: int = 0  # Avito calls made by the steps (for logs and the benchmark)
    errors: int = 0  # consecutive failed attempts (jobs retry a few times)
    stalls: int = 0  # consecutive runs that paused without moving the cursor (the task fails after a few)
    # steps repeated because their call timed out after it was sent: Avito saw (and counted) that call, but its
    # answer was lost, so the repeat is a second call of the same page or batch (at least once, never lost)
    timeouts: int = 0

    def position(self) -> tuple[str, int, int, int]:
        """Where the steps stand: a run that ends where it started made no progress."""
        return (self.phase, self.nextPage, self.pages, self.statsPage)
