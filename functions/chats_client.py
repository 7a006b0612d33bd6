"""GET /api/v1/chats/{chatId}/client: the client card of a stored chat (any role; from storage, plus at most one
call of Avito CPA's phonesInfoFromChats a minute per account, clients/cpa.py)."""

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
from avito_service.clients import service
from avito_service.clients.models import ClientCard

app = rest_app()


@app.get(
    "/api/v1/chats/<chatId>/client",
    summary="The client card of a stored chat",
    description="The client's name and Avito user id, the phone numbers found in their messages (Russian formats, "
    "normalised to +7XXXXXXXXXX) and, where the account's key allows Avito CPA, the numbers CPA's "
    "phonesInfoFromChats found in this chat's messages (matched by the second the message was sent; `phoneSources` "
    "tells which is which), the item with its price and city, and the same Avito user's chats on the other "
    "accounts the caller may see. `accountId` as for GET /chats/{chatId}.",
    tags=["Stored chats"],
    responses=doc(Envelope[ClientCard], 404),
    middlewares=[any_role],
)
def client_card(chatId: StoredChatId, account_id: ChatAccountId = None):
    return ok(service.client_card(chatId, account_id, current_caller(app).account_ids))


lambda_handler = rest_handler(app)
