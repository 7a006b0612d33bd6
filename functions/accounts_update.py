"""PUT /api/v1/accounts/{id}: partial update with optimistic locking on ``version`` (admin only)."""

from avito_service.accounts import service
from avito_service.accounts.models import Account, AccountUpdate
from avito_service.api import AccountId, Envelope, admin_only, doc, ok, rest_app, rest_handler

app = rest_app()


@app.put(
    "/api/v1/accounts/<id>",
    summary="Update an account (partial; null clears a field)",
    tags=["Accounts"],
    responses=doc(Envelope[Account], 400, 404, 409),
    middlewares=[admin_only],
)
def update_account(id: AccountId, body: AccountUpdate):
    return ok(service.update_account(id, body))


lambda_handler = rest_handler(app)
