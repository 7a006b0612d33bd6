"""GET /api/v1/chats: stored chats, newest activity first, paginated (any role; from storage, never Avito)."""

from typing import Annotated

from avito_service.api import Cursor, Limit, Page, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.messenger.models import Chat
from avito_service.messenger.store import chat_store
from aws_lambda_powertools.event_handler.openapi.params import Query

app = rest_app()

AccountFilter = Annotated[
    str | None, Query(alias="accountId", min_length=1, max_length=64, description="only this account's chats")
]
UnreadOnly = Annotated[bool, Query(alias="unreadOnly", description="only chats with unread incoming messages")]


@app.get(
    "/api/v1/chats",
    summary="List stored chats",
    tags=["Stored chats"],
    responses=doc(Page[Chat]),
    middlewares=[any_role],
)
def list_chats(
    account_id: AccountFilter = None, unread_only: UnreadOnly = False, limit: Limit = 50, cursor: Cursor = None
):
    chats, next_cursor = chat_store().list_chats(
        account_id, unread_only, limit, cursor, current_caller(app).account_ids
    )
    return ok(chats, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
