"""GET /api/v1/accounts/{id}: one account (any role; never with secrets)."""

from avito_service.accounts import service
from avito_service.accounts.models import Account
from avito_service.api import AccountId, Envelope, any_role, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


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
