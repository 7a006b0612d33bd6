"""POST /api/v1/users: invite a user to the pool (admin); the first password is shown once."""

from avito_service.api import Envelope, admin_only, current_caller, doc, ok, rest_app, rest_handler
from avito_service.audit import service as audit
from avito_service.users import service
from avito_service.users.models import CreatedUser, UserCreate

app = rest_app()


@app.post(
    "/api/v1/users",
    summary="Create a user",
    description="409 `email_taken` for an e-mail in use; 422 for an unknown account id in `accountIds`. Without "
    "`temporaryPassword` one is generated and answered once; the user sets their own at the first sign-in.",
    tags=["Users"],
    responses=doc(Envelope[CreatedUser], 400, 409, status=201, description="Created"),
    middlewares=[admin_only],
)
def create_user(body: UserCreate):
    user = service.create_user(body)
    caller = current_caller(app)
    details = {"email": user.email, "name": user.name, "role": user.role, "accountIds": user.accountIds}
    audit.record(caller.sub, caller.name, "user.create", f"user:{user.id}", details)
    return ok(user, status=201)


lambda_handler = rest_handler(app)
