"""POST /api/v1/auth/logout: revoke the caller's refresh tokens; their access tokens are refused within 60 s
and their WebSocket connections are closed."""

from avito_service.api import Envelope, any_role, current_caller, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from avito_service.users import service
from avito_service.users.models import LoggedOut
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


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
