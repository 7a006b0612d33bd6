"""POST /api/v1/templates: a personal quick reply (any role) or a shared one (admin, director)."""

from avito_service.api import Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.templates import service
from avito_service.templates.models import Template, TemplateCreate

app = rest_app()


@app.post(
    "/api/v1/templates",
    summary="Create a quick reply",
    description="`shared: true` needs admin or director (403 otherwise). At most 200 personal templates per user "
    "and 500 shared ones (409 `template_limit_reached`).",
    tags=["Quick replies"],
    responses=doc(Envelope[Template], 400, 409, status=201, description="Created"),
    middlewares=[any_role],
)
def create_template(body: TemplateCreate):
    caller = current_caller(app)
    return ok(service.create_template(caller.sub, caller.role, body), status=201)


lambda_handler = rest_handler(app)
