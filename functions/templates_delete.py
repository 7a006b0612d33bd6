"""DELETE /api/v1/templates/{id}: delete a quick reply (own ones; shared ones: admin, director)."""

from typing import Annotated

from avito_service.api import Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.base import Model
from avito_service.templates import service
from aws_lambda_powertools.event_handler.openapi.params import Path

app = rest_app()
TemplateId = Annotated[str, Path(min_length=1, max_length=64, description="the template's id")]


class Deleted(Model):
    id: str
    deleted: bool


@app.delete(
    "/api/v1/templates/<id>",
    summary="Delete a quick reply",
    description="Another user's personal template is 404; a shared one needs admin or director (403).",
    tags=["Quick replies"],
    responses=doc(Envelope[Deleted], 404),
    middlewares=[any_role],
)
def delete_template(id: TemplateId):
    caller = current_caller(app)
    service.delete_template(caller.sub, caller.role, id)
    return ok(Deleted(id=id, deleted=True))


lambda_handler = rest_handler(app)
