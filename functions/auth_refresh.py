"""POST /api/v1/auth/refresh: a refresh token -> a new access token (no token; 401 once revoked)."""

from avito_service.api import Envelope, doc, ok, rest_app, rest_handler
from avito_service.users import service
from avito_service.users.models import Refreshed, RefreshRequest

app = rest_app()


@app.post(
    "/api/v1/auth/refresh",
    summary="A new access token for a refresh token",
    tags=["Sign-in"],
    responses=doc(Envelope[Refreshed], 400, 401, 422, 429, public=True),
)
def refresh(body: RefreshRequest):
    return ok(service.refresh(body.refreshToken))


lambda_handler = rest_handler(app)
