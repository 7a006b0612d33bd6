"""GET /api/v1/messenger/accounts/{accountId}/chats: chats from Avito (``chatTypes``, default u2i,u2u), stored too."""

from typing import Annotated

from avito_service.api import Envelope, PathAccountId, any_role, doc, ok, rest_app, rest_handler
from avito_service.messenger import service as messenger
from avito_service.messenger.models import CHAT_TYPES_PATTERN, DEFAULT_CHAT_TYPES, Chat, chat_types_param
from aws_lambda_powertools.event_handler.openapi.params import Query

app = rest_app()


@app.get(
    "/api/v1/messenger/accounts/<accountId>/chats",
    summary="Chats from Avito (stored as well)",
    tags=["Messenger"],
    responses=doc(Envelope[list[Chat]], 404, 502, 504),
    middlewares=[any_role],
)
def chats(
    accountId: PathAccountId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    unreadOnly: Annotated[bool, Query()] = False,
    chatTypes: Annotated[
        str,
        Query(
            pattern=CHAT_TYPES_PATTERN,
            max_length=64,
            description="comma list of u2i (about an item), u2u (user to user), a2u (Avito to user)",
        ),
    ] = DEFAULT_CHAT_TYPES,
):
    chat_types = chat_types_param(chatTypes)
    return ok(
        messenger.list_chats(accountId, limit=limit, offset=offset, unread_only=unreadOnly, chat_types=chat_types)
    )


lambda_handler = rest_handler(app)
