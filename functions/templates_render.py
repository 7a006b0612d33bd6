"""POST /api/v1/templates/{id}/render?accountId=&chatId=: a quick reply filled in for a stored chat (any role)."""

from typing import Annotated

from avito_service.api import AVITO_ID_PATTERN, Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.templates import service
from avito_service.templates.models import Rendered
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

app = rest_app()
TemplateId = Annotated[str, Path(min_length=1, max_length=64, description="the template's id")]
AccountQuery = Annotated[str, Query(alias="accountId", min_length=1, max_length=64, description="the chat's account")]
ChatQuery = Annotated[
    str, Query(alias="chatId", min_length=1, max_length=200, pattern=AVITO_ID_PATTERN, description="the stored chat")
]


@app.post(
    "/api/v1/templates/<id>/render",
    summary="Fill in a quick reply for a chat",
    description="Placeholders {client_name}, {item_title}, {item_price}, {operator_name} and {account_name} are "
    "replaced from the stored chat, its account and the caller; a value that is not known becomes an empty string.",
    tags=["Quick replies"],
    responses=doc(Envelope[Rendered], 404),
    middlewares=[any_role],
)
def render_template(id: TemplateId, account_id: AccountQuery, chat_id: ChatQuery):
    caller = current_caller(app)
    text = service.render_for_chat(
        caller.sub, id, account_id, chat_id, operator_name=caller.name, visible=caller.account_ids
    )
    return ok(Rendered(text=text))


lambda_handler = rest_handler(app)
