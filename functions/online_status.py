"""GET /api/v1/eternal-online/status: every account with eternal online enabled, soonest due first (admin)."""

from avito_service.api import Cursor, Limit, Page, admin_only, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from avito_service.online import service as online
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


@app.get(
    "/api/v1/eternal-online/status",
    summary="Eternal-online status of every enabled account",
    tags=["Eternal online"],
    responses=doc(Page[online.OnlineStatus]),
    middlewares=[admin_only],
)
def status(limit: Limit = 50, cursor: Cursor = None):
    statuses, next_cursor = online.status(limit, cursor)
    return ok(statuses, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
