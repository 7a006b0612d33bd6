"""GET /api/v1/audit: who did what, newest first, paginated (admin, director)."""

from avito_service.api import Cursor, Limit, Page, doc, ok, rest_app, rest_handler, supervisors
from avito_service.audit import service
from avito_service.audit.models import AuditEntry

app = rest_app()


@app.get(
    "/api/v1/audit", summary="The audit log", tags=["Audit"], responses=doc(Page[AuditEntry]), middlewares=[supervisors]
)
def list_audit(limit: Limit = 50, cursor: Cursor = None):
    entries, next_cursor = service.entries(limit, cursor)
    return ok(entries, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
