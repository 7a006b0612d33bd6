"""GET /api/v1/chats/{chatId}/messages: a stored chat's messages, oldest first, paginated (any role; never Avito)."""

from avito_service.api import (
    ChatAccountId,
    Cursor,
    Limit,
    Page,
    StoredChatId,
    any_role,
    current_caller,
    doc,
    ok,
    rest_app,
    rest_handler,
)
from avito_service.messenger.models import Message
from avito_service.messenger.store import chat_store

app = rest_app()


@app.get(
    "/api/v1/chats/<chatId>/messages",
    summary="List a stored chat's messages",
    description="The messages of one account's copy of the chat: `accountId` is required when more than one "
    "account holds the chat id (422 on `accountId` otherwise), optional when one does.",
    tags=["Stored chats"],
    responses=doc(Page[Message], 404),
    middlewares=[any_role],
)
def list_messages(chatId: StoredChatId, account_id: ChatAccountId = None, limit: Limit = 50, cursor: Cursor = None):
    messages, next_cursor = chat_store().list_messages(
        chatId, limit, cursor, account_id, current_caller(app).account_ids
    )
    return ok(messages, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
