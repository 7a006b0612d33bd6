"""POST /api/v1/auth/logout: revoke the caller's refresh tokens; their access tokens are refused within 60 s
and their WebSocket connections are closed."""

from avito_service.api import Envelope, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.users import service
from avito_service.users.models import LoggedOut

app = rest_app()


@app.post(
    "/api/v1/auth/logout",
    summary="Sign out everywhere",
    tags=["Sign-in"],
    responses=doc(Envelope[LoggedOut]),
    middlewares=[any_role],
)
def logout():
    service.logout(current_caller(app).sub)
    return ok(LoggedOut())


lambda_handler = rest_handler(app)
