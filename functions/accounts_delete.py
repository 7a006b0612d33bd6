"""DELETE /api/v1/accounts/{id}: the account, its secret and its stored chats and messages (admin only)."""

from avito_service.accounts import service
from avito_service.api import AccountId, Envelope, admin_only, doc, install_error_handlers, ok, rest_handler
from avito_service.base import Model
from avito_service.cors import cors_config
from avito_service.messenger.store import register_account_cleanup as delete_stored_chats_on_delete
from avito_service.webhooks.subscriptions import register_account_cleanup as unsubscribe_webhook_on_delete
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)
unsubscribe_webhook_on_delete()  # first: it needs the account's credentials
delete_stored_chats_on_delete()


class Deleted(Model):
    id: str
    deleted: bool


@app.delete(
    "/api/v1/accounts/<id>",
    summary="Delete an account with its secret, chats and messages",
    tags=["Accounts"],
    responses=doc(Envelope[Deleted], 404),
    middlewares=[admin_only],
)
def delete_account(id: AccountId):
    service.delete_account(id)
    return ok(Deleted(id=id, deleted=True))


lambda_handler = rest_handler(app)
