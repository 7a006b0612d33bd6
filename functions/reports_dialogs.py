"""GET /api/v1/reports/dialogs?from=&to=&accountId=&userId=&status=: one row per chat active in the period,
paginated; as CSV for Excel with ``Accept: text/csv`` or ``?format=csv`` (director, admin)."""

from datetime import date
from typing import Annotated, Literal

from avito_service.api import Cursor, Limit, Page, doc, ok, rest_app, rest_handler, supervisors
from avito_service.api.parameters import ReportAccount, ReportUser, iso_day
from avito_service.reports import service
from avito_service.reports.csv_export import dialogs_csv
from avito_service.reports.models import DialogRow
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

Day = Annotated[date, BeforeValidator(iso_day)]
app = rest_app()
RESPONSES = doc(Page[DialogRow], 404, description="a page of rows, or every row as CSV")
RESPONSES[200]["content"]["text/csv"] = {"schema": {"type": "string", "description": "UTF-8 with BOM, ';'"}}


def _wants_csv(fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    headers = app.current_event.headers or {}
    accept = next((str(v) for k, v in headers.items() if k.lower() == "accept"), "")
    return "text/csv" in accept.lower()


@app.get(
    "/api/v1/reports/dialogs",
    summary="Reports: the dialogs table",
    description="One row per chat with a message in the period (Europe/Moscow days), by account name then newest "
    "last message first. `Accept: text/csv` or `format=csv` answers every row as CSV for Excel (UTF-8 with a BOM, "
    "`;` separated, a header row; `limit` and `cursor` do not apply).",
    tags=["Reports"],
    responses=RESPONSES,
    middlewares=[supervisors],
)
def reports_dialogs(
    date_from: Annotated[Day, Query(alias="from", description="first day, YYYY-MM-DD (Europe/Moscow)")],
    date_to: Annotated[Day, Query(alias="to", description="last day, YYYY-MM-DD (Europe/Moscow), included")],
    *,
    account_id: ReportAccount = None,
    user_id: ReportUser = None,
    status: Annotated[
        Literal["new", "open", "closed"] | None, Query(description="only chats in this workflow status")
    ] = None,
    fmt: Annotated[Literal["json", "csv"] | None, Query(alias="format", description="csv: the CSV")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
):
    scope = service.DialogFilter(date_from, date_to, account_id=account_id, user_id=user_id, status=status)
    if _wants_csv(fmt):
        rows = service.all_dialogs(scope)
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=dialogs_csv(rows),
            headers={
                "Content-Disposition": f'attachment; filename="dialogs-{date_from}-{date_to}.csv"',
                "Cache-Control": "no-store",
            },
        )
    rows, next_cursor = service.dialogs(scope, limit=limit, cursor=cursor)
    return ok(rows, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
