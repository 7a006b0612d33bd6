"""GET /api/v1/messenger/accounts/{accountId}/chats/{chatId}/messages: messages from Avito, stored as well."""

from typing import Annotated

from avito_service.api import ChatId, Envelope, PathAccountId, any_role, doc, ok, rest_app, rest_handler
from avito_service.messenger import service as messenger
from avito_service.messenger.models import Message
from aws_lambda_powertools.event_handler.openapi.params import Query

app = rest_app()


@app.get(
    "/api/v1/messenger/accounts/<accountId>/chats/<chatId>/messages",
    summary="Messages of a chat from Avito",
    tags=["Messenger"],
    responses=doc(Envelope[list[Message]], 404, 502, 504),
    middlewares=[any_role],
)
def messages(
    accountId: PathAccountId,
    chatId: ChatId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
):
    return ok(messenger.list_messages(accountId, chatId, limit=limit, offset=offset))


lambda_handler = rest_handler(app)
