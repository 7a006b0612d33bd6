"""POST /api/v1/accounts/{id}/check-connection: proxy, token and account steps, stored as the account's status."""

from avito_service.accounts.connection import CheckResult, check_connection
from avito_service.api import AccountId, Envelope, any_role, doc, ok, rest_app, rest_handler

app = rest_app()


@app.post(
    "/api/v1/accounts/<id>/check-connection",
    summary="Check the proxy, the credentials and the account",
    tags=["Accounts"],
    responses=doc(Envelope[CheckResult], 404),
    middlewares=[any_role],
)
def check(id: AccountId):
    return ok(check_connection(id))


lambda_handler = rest_handler(app)
