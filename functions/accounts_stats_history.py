"""GET /api/v1/accounts/{id}/stats/history?from=&to=&limit=&cursor=: stored snapshots, oldest first, paginated."""

import re
from datetime import date
from typing import Annotated

from avito_service.accounts.stats import Snapshot, history
from avito_service.api import AccountId, Cursor, Page, any_role, doc, ok, rest_app, rest_handler
from avito_service.errors import ValidationFailed
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator


def _iso_day(value: object) -> object:
    # pydantic alone also reads "0" or "1.5e9" as a Unix time; the contract's dates are YYYY-MM-DD only
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("Expected a date as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]

app = rest_app()


@app.get(
    "/api/v1/accounts/<id>/stats/history",
    summary="Stored statistics snapshots",
    tags=["Accounts"],
    responses=doc(Page[Snapshot], 404),
    middlewares=[any_role],
)
def stats_history(
    id: AccountId,
    date_from: Annotated[Day | None, Query(alias="from", description="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="last day, YYYY-MM-DD")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="page size (1-100, default 50)")] = 50,
    cursor: Cursor = None,
):
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed.on("from", "Must not be after 'to'.")
    snapshots, next_cursor = history(id, date_from, date_to, limit=limit, cursor=cursor)
    return ok(snapshots, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
