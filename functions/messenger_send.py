"""POST /api/v1/messenger/accounts/{accountId}/chats/{chatId}/send: send a text (1-1000 characters)."""

from typing import Annotated

from avito_service.api import ChatId, Envelope, PathAccountId, any_role, doc, install_error_handlers, ok, rest_handler
from avito_service.base import Model
from avito_service.cors import cors_config
from avito_service.messenger import live
from avito_service.messenger.models import Message
from avito_service.observability import metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import ConfigDict, StringConstraints

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


class SendRequest(Model):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


@app.post(
    "/api/v1/messenger/accounts/<accountId>/chats/<chatId>/send",
    summary="Send a text message",
    tags=["Messenger"],
    responses=doc(Envelope[Message], 400, 404, 502, 504),
    middlewares=[any_role],
)
def send(accountId: PathAccountId, chatId: ChatId, body: SendRequest):
    message = live.send_text(accountId, chatId, body.text)
    metrics.add_metric(name="MessageSent", unit="Count", value=1)
    return ok(message)


lambda_handler = rest_handler(app)
