"""GET /api/v1/accounts/{id}/calls?from=&to=: calls to the account's tracking numbers (any role).

502 ``calls_not_available`` for an account that is not client-credentials or whose tariff has no call tracking."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from avito_service import clock
from avito_service.api import AccountId, Cursor, Page, any_role, doc, ok, rest_app, rest_handler
from avito_service.calls import service
from avito_service.calls.models import TrackedCall
from avito_service.errors import ValidationFailed
from aws_lambda_powertools.event_handler.openapi.params import Query

app = rest_app()

DEFAULT_SPAN = timedelta(days=7)
From = Annotated[datetime | None, Query(alias="from", description="ISO 8601; default: 7 days before `to`")]
To = Annotated[
    datetime | None,
    Query(
        alias="to",
        description="ISO 8601; default: now, or 92 days after `from` if that is earlier; at most 92 days after `from`",
    ),
]
CallsLimit = Annotated[int, Query(ge=1, le=100, description="page size (1-100)")]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@app.get(
    "/api/v1/accounts/<id>/calls",
    summary="Calls to the account's Avito call-tracking numbers, oldest first (from Avito; stored as well)",
    tags=["Reviews and calls"],
    responses=doc(Page[TrackedCall], 404, 429, 502, 504),
    middlewares=[any_role],
)
def list_calls(id: AccountId, start: From = None, end: To = None, limit: CallsLimit = 50, cursor: Cursor = None):
    now = datetime.fromtimestamp(clock.now(), tz=UTC)
    try:
        if end is None:
            end = min(now, _utc(start) + service.MAX_SPAN) if start else now
        end = _utc(end)
        start = _utc(start) if start else end - DEFAULT_SPAN
    except OverflowError:  # a time at the edge of year 1 or 9999: no window of calls fits around it
        raise ValidationFailed.on("to" if end else "from", "Out of the range of times Avito keeps calls for.") from None
    if end < start:
        raise ValidationFailed.on("to", "Must not be before `from`.")
    if end - start > service.MAX_SPAN:
        raise ValidationFailed.on("to", "Must be at most 92 days after `from` (Avito's call tracking window).")
    calls, next_cursor = service.list_calls(id, start, end, limit, cursor)
    return ok(calls, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
