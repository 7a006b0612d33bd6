"""PUT /api/v1/accounts/{id}: partial update with optimistic locking on ``version`` (admin only)."""

from avito_service.accounts import service
from avito_service.accounts.models import Account, AccountUpdate
from avito_service.api import AccountId, Envelope, admin_only, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


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
