"""POST /api/v1/auth/login: e-mail and password -> tokens, or the NEW_PASSWORD_REQUIRED challenge (no token)."""

from avito_service.api import Envelope, doc, ok, rest_app, rest_handler
from avito_service.observability import metrics
from avito_service.users import service
from avito_service.users.models import Challenge, LoginRequest, Tokens

app = rest_app()


@app.post(
    "/api/v1/auth/login",
    summary="Sign in with e-mail and password",
    description="A wrong password and an unknown e-mail get the same 401 `invalid_credentials`; a disabled user "
    "401 `user_disabled`; five failures for one e-mail within 15 minutes 429. At the first sign-in the answer is "
    "`{challenge: NEW_PASSWORD_REQUIRED, session}`: answer it with POST /api/v1/auth/new-password.",
    tags=["Sign-in"],
    responses=doc(Envelope[Tokens | Challenge], 400, 401, 422, 429, public=True),
)
def login(body: LoginRequest):
    answer = service.login(body.email, body.password.get_secret_value())
    metrics.add_metric(name="SignIn", unit="Count", value=1)
    return ok(answer)


lambda_handler = rest_handler(app)
