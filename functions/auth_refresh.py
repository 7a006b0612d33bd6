"""POST /api/v1/auth/refresh: a refresh token -> a new access token (no token; 401 once revoked)."""

from avito_service.api import Envelope, doc, install_error_handlers, ok, rest_handler
from avito_service.cors import cors_config
from avito_service.users import service
from avito_service.users.models import Refreshed, RefreshRequest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver(enable_validation=True, cors=cors_config())
install_error_handlers(app)


@app.post(
    "/api/v1/auth/refresh",
    summary="A new access token for a refresh token",
    tags=["Sign-in"],
    responses=doc(Envelope[Refreshed], 400, 401, 422, 429, public=True),
)
def refresh(body: RefreshRequest):
    return ok(service.refresh(body.refreshToken))


lambda_handler = rest_handler(app)
