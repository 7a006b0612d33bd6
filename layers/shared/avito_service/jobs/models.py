"""The job resource of ``GET /api/v1/jobs/{jobId}``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from avito_service.base import Model


class JobKind(StrEnum):
    SYNC_STATS = "sync-stats"
    SYNC_ALL_STATS = "sync-all-stats"
    CHECK_ALL_CONNECTIONS = "check-all-connections"


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
    accountIds: list[str]
    done: int = Field(description="accounts finished successfully")
    failed: int = Field(description="accounts that failed (see outcomes)")
    total: int
    error: str | None = Field(default=None, description="what went wrong, when anything did")
    createdAt: str
    updatedAt: str
    trigger: str = Field(description="'api' or 'schedule'")
    outcomes: list[Outcome] = Field(default_factory=list, description="one per account, in accountIds order")


class JobAccepted(Model):
    jobId: str
    status: JobStatus
    kind: JobKind
    total: int
