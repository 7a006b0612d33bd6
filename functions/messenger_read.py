"""POST /api/v1/messenger/accounts/{accountId}/chats/{chatId}/messages/{messageId}/read: mark the chat read."""

from avito_service.api import ChatId, Envelope, MessageId, PathAccountId, any_role, doc, ok, rest_app, rest_handler
from avito_service.messenger import service as messenger

app = rest_app()


@app.post(
    "/api/v1/messenger/accounts/<accountId>/chats/<chatId>/messages/<messageId>/read",
    summary="Mark the chat read at Avito and in storage",
    tags=["Messenger"],
    responses=doc(Envelope[messenger.ReadResult], 404, 502, 504),
    middlewares=[any_role],
)
def read(accountId: PathAccountId, chatId: ChatId, messageId: MessageId):
    return ok(messenger.mark_read(accountId, chatId, messageId))


lambda_handler = rest_handler(app)
