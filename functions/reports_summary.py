"""GET /api/v1/reports/summary?from=&to=&accountId=&userId=: the period's figures (director, admin)."""

from datetime import date
from typing import Annotated

from avito_service.api import Envelope, doc, ok, rest_app, rest_handler, supervisors
from avito_service.api.parameters import ReportAccount, ReportUser, iso_day
from avito_service.reports import service
from avito_service.reports.models import Summary
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

Day = Annotated[date, BeforeValidator(iso_day)]
app = rest_app()


@app.get(
    "/api/v1/reports/summary",
    summary="Reports: the period's figures",
    description="Chats started and answered, messages in and out, first response and reply times (median and p90, "
    "also in the account's working hours; from fixed buckets, within 9.5 %), slow replies, chats waiting now; "
    "in total, per day (Europe/Moscow), per account and per operator. Read from figures kept as messages are "
    "stored, never from the messages.",
    tags=["Reports"],
    responses=doc(Envelope[Summary], 404),
    middlewares=[supervisors],
)
def reports_summary(
    date_from: Annotated[Day, Query(alias="from", description="first day, YYYY-MM-DD (Europe/Moscow)")],
    date_to: Annotated[Day, Query(alias="to", description="last day, YYYY-MM-DD (Europe/Moscow), included")],
    account_id: ReportAccount = None,
    user_id: ReportUser = None,
):
    found = service.summary(date_from, date_to, account_id=account_id, user_id=user_id)
    return ok(found.model_dump(mode="json", by_alias=True))


lambda_handler = rest_handler(app)
