"""GET /api/v1/accounts/{id}: one account (any role; never with secrets)."""

from avito_service.accounts import service
from avito_service.accounts.models import Account
from avito_service.api import AccountId, Envelope, any_role, doc, ok, rest_app, rest_handler

app = rest_app()


@app.get(
    "/api/v1/accounts/<id>",
    summary="Get an account",
    tags=["Accounts"],
    responses=doc(Envelope[Account], 404),
    middlewares=[any_role],
)
def get_account(id: AccountId):
    return ok(service.get_account(id))


lambda_handler = rest_handler(app)
