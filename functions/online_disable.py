"""POST /api/v1/eternal-online/accounts/{accountId}/disable: stop keeping the account online (admin)."""

from avito_service.accounts.models import Account
from avito_service.api import Envelope, PathAccountId, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.online import service as online

app = rest_app()


@app.post(
    "/api/v1/eternal-online/accounts/<accountId>/disable",
    summary="Disable eternal online for an account",
    tags=["Eternal online"],
    responses=doc(Envelope[Account], 404),
    middlewares=[admin_only],
)
def disable(accountId: PathAccountId):
    account = online.disable(accountId)
    audited("online.disable", f"account:{accountId}")
    return ok(account)


def audited(action: str, target: str, details: dict | None = None) -> None:
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, action, target, details)


lambda_handler = rest_handler(app)
