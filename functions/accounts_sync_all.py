"""POST /api/v1/accounts/sync-all-stats: a job that syncs every account's statistics (admin)."""

from typing import Annotated

from avito_service.accounts.stats import MAX_DAYS
from avito_service.api import Envelope, admin_only, doc, ok, rest_app, rest_handler
from avito_service.base import Model
from avito_service.errors import ValidationFailed
from avito_service.jobs.models import JobAccepted, JobKind
from avito_service.jobs.service import start_bulk
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ConfigDict, Field

app = rest_app()


class SyncAllRequest(Model):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=30, ge=1, le=MAX_DAYS, description="calendar days up to today (Europe/Moscow)")


@app.post(
    "/api/v1/accounts/sync-all-stats",
    summary="Sync every account's statistics in the background",
    tags=["Jobs"],
    responses=doc(
        Envelope[JobAccepted], 400, status=202, description="The job was created; follow it at /jobs/{jobId}"
    ),
    middlewares=[admin_only],
)
def sync_all(body: Annotated[SyncAllRequest | None, Body()] = None):
    raw = (app.current_event.body or "").strip()
    if raw not in ("", "null") and not raw.startswith("{"):
        # a body that is not an object (e.g. a JSON list) must not pass as "no body" (found by fuzzing)
        raise ValidationFailed.on("body", 'Must be a JSON object, e.g. {"days": 30}, or no body at all.')
    return ok(start_bulk(JobKind.SYNC_ALL_STATS, days=(body or SyncAllRequest()).days), status=202)


lambda_handler = rest_handler(app)
