"""POST /api/v1/auth/new-password: the first sign-in's new password -> tokens (no token)."""

from avito_service.api import Envelope, doc, ok, rest_app, rest_handler
from avito_service.users import service
from avito_service.users.models import NewPasswordRequest, Tokens

app = rest_app()


@app.post(
    "/api/v1/auth/new-password",
    summary="Set the new password the first sign-in asked for",
    description="`session` is the login answer's; a password that does not meet the policy is 422 on "
    "`newPassword`; an expired session 401 `invalid_session`.",
    tags=["Sign-in"],
    responses=doc(Envelope[Tokens], 400, 401, 422, 429, public=True),
)
def new_password(body: NewPasswordRequest):
    return ok(service.new_password(body.email, body.session, body.newPassword.get_secret_value()))


lambda_handler = rest_handler(app)
