"""GET /api/v1/users/{id}: one user (admin, director, or the user themself)."""

from avito_service.api import Envelope, UserId, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.errors import Forbidden
from avito_service.roles import Role
from avito_service.users import service
from avito_service.users.models import User

app = rest_app()


@app.get(
    "/api/v1/users/<id>",
    summary="Get a user",
    tags=["Users"],
    responses=doc(Envelope[User], 404),
    middlewares=[any_role],
)
def get_user(id: UserId):
    caller = current_caller(app)
    if caller.role == Role.OPERATOR and caller.sub != id:
        raise Forbidden("An operator may read only their own user.")
    return ok(service.get_user(id))


lambda_handler = rest_handler(app)
