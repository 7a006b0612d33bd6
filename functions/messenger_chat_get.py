"""GET /api/v1/messenger/accounts/{accountId}/chats/{chatId}: one chat from Avito, stored as well."""

from avito_service.api import ChatId, Envelope, PathAccountId, any_role, doc, ok, rest_app, rest_handler
from avito_service.messenger import service as messenger
from avito_service.messenger.models import Chat

app = rest_app()


@app.get(
    "/api/v1/messenger/accounts/<accountId>/chats/<chatId>",
    summary="One chat from Avito (stored as well)",
    tags=["Messenger"],
    responses=doc(Envelope[Chat], 404, 502, 504),
    middlewares=[any_role],
)
def chat(accountId: PathAccountId, chatId: ChatId):
    return ok(messenger.get_chat(accountId, chatId))


lambda_handler = rest_handler(app)
