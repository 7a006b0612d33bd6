"""POST /api/v1/eternal-online/accounts/{accountId}/set-online: one keep-alive now, enabled or not (admin)."""

from avito_service.api import Envelope, PathAccountId, admin_only, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from avito_service.online import keepalive
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


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
