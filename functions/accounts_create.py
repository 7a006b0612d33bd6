"""POST /api/v1/accounts: create an account; its secrets go to Secrets Manager (admin only)."""

from avito_service.accounts import service
from avito_service.accounts.models import Account, AccountCreate
from avito_service.api import Envelope, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.observability import metrics

app = rest_app()


@app.post(
    "/api/v1/accounts",
    summary="Create an account",
    tags=["Accounts"],
    responses=doc(Envelope[Account], 400, 409, status=201, description="Created"),
    middlewares=[admin_only],
)
def create_account(body: AccountCreate):
    account = service.create_account(body)
    audited("account.create", f"account:{account.id}", body.model_dump(mode="json", exclude_unset=True))
    metrics.add_metric(name="AccountCreated", unit="Count", value=1)
    return ok(account, status=201)


def audited(action: str, target: str, details: dict | None = None) -> None:
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, action, target, details)


lambda_handler = rest_handler(app)
