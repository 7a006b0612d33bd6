"""POST /api/v1/accounts/{id}/backfill: load the account's chat history of the last ``days`` days (a 202 job)."""

from typing import Annotated

from avito_service.accounts import service as accounts
from avito_service.api import AccountId, Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.base import Model
from avito_service.jobs.backfill import DEFAULT_DAYS, MAX_DAYS
from avito_service.jobs.models import JobAccepted
from avito_service.jobs.service import start_backfill
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ConfigDict, Field

app = rest_app()


class BackfillRequest(Model):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="chats active in the last this many days")


RESPONSES = doc(
    Envelope[JobAccepted],
    400,
    404,
    status=202,
    description="The backfill job (GET /api/v1/jobs/{jobId}: done/total count chats)",
)


@app.post(
    "/api/v1/accounts/<id>/backfill",
    summary="Load the account's chat history of the last days (a job)",
    tags=["Accounts"],
    responses=RESPONSES,
    middlewares=[any_role],
)
def backfill(id: AccountId, body: Annotated[BackfillRequest | None, Body()] = None):
    accounts.get_item(id)  # 404 before a job is recorded
    days = (body or BackfillRequest()).days
    caller = current_caller(app)
    accepted = start_backfill(id, days, started_by=caller.sub)
    audit.record(caller.sub, caller.name, "account.backfill", f"account:{id}", {"days": days, "jobId": accepted.jobId})
    return ok(accepted, status=202)


lambda_handler = rest_handler(app)
