"""GET /api/v1/eternal-online/status: every account with eternal online enabled, soonest due first (admin)."""

from avito_service.api import Cursor, Limit, Page, admin_only, doc, ok, rest_app, rest_handler
from avito_service.online import service as online

app = rest_app()


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
