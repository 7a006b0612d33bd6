"""GET /api/v1/users: users, oldest first, paginated (admin, director)."""

from avito_service.api import Cursor, Limit, Page, doc, ok, rest_app, rest_handler, supervisors
from avito_service.users import service
from avito_service.users.models import User

app = rest_app()


@app.get("/api/v1/users", summary="List users", tags=["Users"], responses=doc(Page[User]), middlewares=[supervisors])
def list_users(limit: Limit = 50, cursor: Cursor = None):
    users, next_cursor = service.list_users(limit, cursor)
    return ok(users, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
