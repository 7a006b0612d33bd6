"""POST /api/v1/accounts/{id}/sync-stats: balance, CPA balance, items and item stats from Avito.

200 with the account when the sync finishes within ``SYNC_INLINE_SECONDS`` (about 20 s); otherwise 202 with a
job that continues in the background from where this request stopped (``GET /api/v1/jobs/{jobId}``).
"""

from typing import Annotated

from avito_service.accounts.models import Account
from avito_service.accounts.stats import MAX_DAYS
from avito_service.api import AccountId, Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.base import Model
from avito_service.jobs.models import JobAccepted
from avito_service.jobs.runner import sync_or_hand_off
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ConfigDict, Field

app = rest_app()


class SyncStatsRequest(Model):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=30, ge=1, le=MAX_DAYS, description="calendar days up to today (Europe/Moscow)")


RESPONSES = doc(Envelope[Account], 400, 404, 429, 502, 504)
RESPONSES[202] = {
    "description": "The sync takes longer (a large account, or Avito's limits): it goes on as a job",
    "content": {"application/json": {"model": Envelope[JobAccepted]}},
}


@app.post(
    "/api/v1/accounts/<id>/sync-stats",
    summary="Sync balance, items and statistics from Avito (202 with a job when it takes longer)",
    tags=["Accounts"],
    responses=RESPONSES,
    middlewares=[any_role],
)
def sync(id: AccountId, body: Annotated[SyncStatsRequest | None, Body()] = None):
    result, finished = sync_or_hand_off(id, (body or SyncStatsRequest()).days, started_by=current_caller(app).sub)
    return ok(result) if finished else ok(result, status=202)


lambda_handler = rest_handler(app)
