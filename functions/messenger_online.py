"""POST /api/v1/messenger/accounts/{accountId}/status/online: one keep-alive now (see README, eternal online)."""

from avito_service.api import Envelope, PathAccountId, any_role, doc, ok, rest_app, rest_handler
from avito_service.online.keepalive import KeepAliveResult, keep_alive

app = rest_app()


@app.post(
    "/api/v1/messenger/accounts/<accountId>/status/online",
    summary="Run the keep-alive for this account now",
    tags=["Messenger"],
    responses=doc(Envelope[KeepAliveResult], 404),
    middlewares=[any_role],
)
def online(accountId: PathAccountId):
    return ok(keep_alive(accountId))


lambda_handler = rest_handler(app)
