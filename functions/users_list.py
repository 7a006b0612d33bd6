"""GET /api/v1/users: users, oldest first, paginated (admin, director)."""

from avito_service.api import Cursor, Limit, Page, doc, install_error_handlers, ok, rest_handler, supervisors
from avito_service.cors import cors_config
from avito_service.users import service
from avito_service.users.models import User
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


@app.get("/api/v1/users", summary="List users", tags=["Users"], responses=doc(Page[User]), middlewares=[supervisors])
def list_users(limit: Limit = 50, cursor: Cursor = None):
    users, next_cursor = service.list_users(limit, cursor)
    return ok(users, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
