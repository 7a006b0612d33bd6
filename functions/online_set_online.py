"""POST /api/v1/eternal-online/accounts/{accountId}/set-online: one keep-alive now, enabled or not (admin)."""

from avito_service.api import Envelope, PathAccountId, admin_only, doc, ok, rest_app, rest_handler
from avito_service.online import keepalive

app = rest_app()


@app.post(
    "/api/v1/eternal-online/accounts/<accountId>/set-online",
    summary="Run one keep-alive for an account now",
    description="A real Messenger call (unread chats, stored as well); `ok: false` with `error` when it failed.",
    tags=["Eternal online"],
    responses=doc(Envelope[keepalive.KeepAliveResult], 404),
    middlewares=[admin_only],
)
def set_online(accountId: PathAccountId):
    return ok(keepalive.keep_alive(accountId))


lambda_handler = rest_handler(app)
