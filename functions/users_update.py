"""PUT /api/v1/users/{id}: name, role, assigned accounts, enabled (admin). A role change or a disable revokes
the user's tokens; the last enabled admin cannot be demoted or disabled (409)."""

from avito_service.api import Envelope, UserId, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.users import service
from avito_service.users.models import User, UserUpdate

app = rest_app()


@app.put(
    "/api/v1/users/<id>",
    summary="Update a user",
    tags=["Users"],
    responses=doc(Envelope[User], 400, 404, 409),
    middlewares=[admin_only],
)
def update_user(id: UserId, body: UserUpdate):
    user, changed = service.update_user(id, body)
    if changed:
        caller = current_caller(app)
        action = "user.assign" if set(changed["after"]) == {"accountIds"} else "user.update"
        audit.record(caller.sub, caller.name, action, f"user:{id}", changed)
    return ok(user)


lambda_handler = rest_handler(app)
