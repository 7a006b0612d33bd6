"""POST /api/v1/accounts/{id}/sync-stats: balance, CPA balance, items and item stats from Avito."""

from typing import Annotated

from avito_service.accounts.models import Account
from avito_service.api import AccountId, Envelope, any_role, doc, install_error_handlers, ok, rest_handler
from avito_service.base import Model
from avito_service.cors import cors_config
from avito_service.stats import MAX_DAYS, sync_stats
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ConfigDict, Field

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


class SyncStatsRequest(Model):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=30, ge=1, le=MAX_DAYS, description="calendar days up to today (Europe/Moscow)")


@app.post(
    "/api/v1/accounts/<id>/sync-stats",
    summary="Sync balance, items and statistics from Avito",
    tags=["Accounts"],
    responses=doc(Envelope[Account], 400, 404, 429, 502, 504),
    middlewares=[any_role],
)
def sync(id: AccountId, body: Annotated[SyncStatsRequest | None, Body()] = None):
    return ok(sync_stats(id, (body or SyncStatsRequest()).days))


lambda_handler = rest_handler(app)
