"""GET /api/v1/me: the signed-in user (any accepted token)."""

from avito_service.api import Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.users import service
from avito_service.users.models import Me

app = rest_app()


@app.get(
    "/api/v1/me",
    summary="The signed-in user",
    description="An HS256 token whose `sub` is not a user gives `{id: sub, role, accountIds, name: null}`.",
    tags=["Users"],
    responses=doc(Envelope[Me]),
    middlewares=[any_role],
)
def get_me():
    caller = current_caller(app)
    return ok(service.me(caller.sub, caller.role, caller.account_ids))


lambda_handler = rest_handler(app)
