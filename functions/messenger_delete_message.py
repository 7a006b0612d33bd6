"""DELETE /api/v1/messenger/accounts/{accountId}/chats/{chatId}/messages/{messageId}: delete an own message."""

from avito_service.api import ChatId, Envelope, MessageId, PathAccountId, any_role, doc, ok, rest_app, rest_handler
from avito_service.messenger import service as messenger
from avito_service.messenger.models import Message

app = rest_app()


@app.delete(
    "/api/v1/messenger/accounts/<accountId>/chats/<chatId>/messages/<messageId>",
    summary="Delete the account's own message (within an hour of sending); stored as type deleted",
    tags=["Messenger"],
    responses=doc(
        Envelope[Message],
        404,
        409,
        502,
        504,
        descriptions={409: "The message is not the account's own, or it was sent more than an hour ago"},
    ),
    middlewares=[any_role],
)
def delete_message(accountId: PathAccountId, chatId: ChatId, messageId: MessageId):
    return ok(messenger.delete_message(accountId, chatId, messageId))


lambda_handler = rest_handler(app)
