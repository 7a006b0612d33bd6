"""GET /api/v1/chats/{chatId}: one stored chat (any role; from storage, never Avito)."""

from avito_service.api import (
    ChatAccountId,
    Envelope,
    StoredChatId,
    any_role,
    current_caller,
    doc,
    ok,
    rest_app,
    rest_handler,
)
from avito_service.messenger.models import Chat
from avito_service.messenger.store import chat_store

app = rest_app()


@app.get(
    "/api/v1/chats/<chatId>",
    summary="Get a stored chat",
    description="A chat belongs to an account: `accountId` is required when more than one account holds the chat "
    "id (422 on `accountId` otherwise), optional when one does.",
    tags=["Stored chats"],
    responses=doc(Envelope[Chat], 404),
    middlewares=[any_role],
)
def get_chat(chatId: StoredChatId, account_id: ChatAccountId = None):
    return ok(chat_store().get_chat(chatId, account_id, current_caller(app).account_ids))


lambda_handler = rest_handler(app)
