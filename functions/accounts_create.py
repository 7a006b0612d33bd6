"""POST /api/v1/accounts: create an account; its secrets go to Secrets Manager (admin only)."""

from avito_service.accounts import service
from avito_service.accounts.models import Account, AccountCreate
from avito_service.api import Envelope, admin_only, doc, ok, rest_app, rest_handler
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
    metrics.add_metric(name="AccountCreated", unit="Count", value=1)
    return ok(account, status=201)


lambda_handler = rest_handler(app)
