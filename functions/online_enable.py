"""POST /api/v1/eternal-online/accounts/{accountId}/enable: enable eternal online and keep alive at once (admin)."""

from typing import Annotated

from avito_service.accounts.models import Account
from avito_service.api import Envelope, PathAccountId, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.online import service as online
from avito_service.online.service import EnableRequest
from aws_lambda_powertools.event_handler.openapi.params import Body

app = rest_app()


@app.post(
    "/api/v1/eternal-online/accounts/<accountId>/enable",
    summary="Enable eternal online for an account and run one keep-alive at once",
    tags=["Eternal online"],
    responses=doc(Envelope[Account], 400, 404),
    middlewares=[admin_only],
)
def enable(accountId: PathAccountId, body: Annotated[EnableRequest | None, Body()] = None):
    account = online.enable(accountId, body.interval if body else None)
    audited("online.enable", f"account:{accountId}", {"interval": account.onlineKeepAliveInterval})
    return ok(account)


def audited(action: str, target: str, details: dict | None = None) -> None:
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, action, target, details)


lambda_handler = rest_handler(app)
