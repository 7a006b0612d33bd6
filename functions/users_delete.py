"""DELETE /api/v1/users/{id}: remove a user from the pool (admin; never the last enabled admin)."""

from avito_service.api import Envelope, UserId, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.users import service
from avito_service.users.models import User

app = rest_app()


@app.delete(
    "/api/v1/users/<id>",
    summary="Delete a user",
    tags=["Users"],
    responses=doc(Envelope[User], 404, 409),
    middlewares=[admin_only],
)
def delete_user(id: UserId):
    user = service.delete_user(id)
    caller = current_caller(app)
    audit.record(caller.sub, caller.name, "user.delete", f"user:{id}", {"email": user.email, "role": user.role})
    return ok(user)


lambda_handler = rest_handler(app)
