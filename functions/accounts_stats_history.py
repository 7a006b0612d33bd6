"""GET /api/v1/accounts/{id}/stats/history?from=&to=: stored snapshots, oldest first."""

from datetime import date
from typing import Annotated

from avito_service.api import AccountId, Envelope, any_role, doc, install_error_handlers, ok, rest_handler
from avito_service.errors import ValidationFailed
from avito_service.observability import logger
from avito_service.stats import Snapshot, history
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

app = APIGatewayRestResolver(enable_validation=True)
install_error_handlers(app)


@app.get(
    "/api/v1/accounts/<id>/stats/history",
    summary="Stored statistics snapshots",
    tags=["Accounts"],
    responses=doc(Envelope[list[Snapshot]], 404),
    middlewares=[any_role],
)
def stats_history(
    id: AccountId,
    date_from: Annotated[date | None, Query(alias="from", description="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="last day, YYYY-MM-DD")] = None,
):
    logger.append_keys(account_id=id)
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed.on("from", "Must not be after 'to'.")
    return ok(history(id, date_from, date_to))


lambda_handler = rest_handler(app)
