"""PUT /api/v1/templates/{id}: change a quick reply's title or text (own ones; shared ones: admin, director)."""

from typing import Annotated

from avito_service.api import Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.templates import service
from avito_service.templates.models import Template, TemplateUpdate
from aws_lambda_powertools.event_handler.openapi.params import Path

app = rest_app()
TemplateId = Annotated[str, Path(min_length=1, max_length=64, description="the template's id")]


@app.put(
    "/api/v1/templates/<id>",
    summary="Change a quick reply",
    description="Another user's personal template is 404; a shared one needs admin or director (403).",
    tags=["Quick replies"],
    responses=doc(Envelope[Template], 400, 404),
    middlewares=[any_role],
)
def update_template(id: TemplateId, body: TemplateUpdate):
    caller = current_caller(app)
    return ok(service.update_template(caller.sub, caller.role, id, body))


lambda_handler = rest_handler(app)
