"""POST /api/v1/messenger/accounts/{accountId}/chats/{chatId}/send: send a text (1-1000 characters).

An ``Idempotency-Key`` header makes a retry safe: the same key with the same request from the same caller answers
the first answer and never sends a second copy (``avito_service.idempotency``: Avito's answer is recorded as soon as
it arrives; a retry only stores it again). A send whose outcome is unknown is 502 ``send_outcome_unknown``.
"""

from typing import Annotated

from avito_service.api import (
    ChatId,
    Envelope,
    PathAccountId,
    answer_once,
    any_role,
    current_caller,
    doc,
    idempotency_key_header,
    ok,
    rest_app,
    rest_handler,
)
from avito_service.base import Model
from avito_service.messenger import service as messenger
from avito_service.messenger.models import Message, SentBy
from pydantic import ConfigDict, StringConstraints

app = rest_app()

IdempotencyKey = idempotency_key_header("body")


class SendRequest(Model):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


@app.post(
    "/api/v1/messenger/accounts/<accountId>/chats/<chatId>/send",
    summary="Send a text message",
    tags=["Messenger"],
    responses=doc(Envelope[Message], 400, 404, 409, 502, 504),
    middlewares=[any_role],
)
def send(accountId: PathAccountId, chatId: ChatId, body: SendRequest, idempotency_key: IdempotencyKey = None):
    caller = current_caller(app)
    answer = answer_once(
        app,
        "messenger.send",
        idempotency_key,
        fingerprint={"accountId": accountId, "chatId": chatId, "text": body.text},
        post=lambda: messenger.post_text(
            accountId, chatId, body.text, sent_by=SentBy(userId=caller.sub, name=caller.name)
        ),
        store=messenger.sent_answer(accountId, chatId, "MessageSent"),
    )
    return ok(answer)


lambda_handler = rest_handler(app)
