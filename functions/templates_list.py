"""GET /api/v1/templates: the shared quick replies and the caller's own (any role)."""

from avito_service.api import Cursor, Limit, Page, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.templates import service
from avito_service.templates.models import Template

app = rest_app()


@app.get(
    "/api/v1/templates",
    summary="List quick replies",
    description="Shared templates first, then the caller's personal ones, each by title.",
    tags=["Quick replies"],
    responses=doc(Page[Template]),
    middlewares=[any_role],
)
def list_templates(limit: Limit = 50, cursor: Cursor = None):
    start = int((decode_cursor(cursor, required_keys=("offset",)) or {"offset": 0})["offset"])
    templates = service.list_templates(current_caller(app).sub)
    page = templates[start : start + limit]
    more = start + limit < len(templates)
    return ok(page, next_cursor=encode_cursor({"offset": start + limit}) if more else None)


lambda_handler = rest_handler(app)
