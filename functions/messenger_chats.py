"""GET /api/v1/messenger/accounts/{accountId}/chats: chats from Avito (u2i and u2u), stored as well."""

from typing import Annotated

from avito_service.api import Envelope, PathAccountId, any_role, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from avito_service.messenger import live
from avito_service.messenger.models import Chat
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


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
):
    return ok(live.list_chats(accountId, limit=limit, offset=offset, unread_only=unreadOnly))


lambda_handler = rest_handler(app)
