"""GET /api/v1/accounts/{id}/auto-replies: the account's greeting, out-of-hours reply and working hours."""

from avito_service.api import AccountId, Envelope, any_role, doc, ok, rest_app, rest_handler
from avito_service.autoreplies import service
from avito_service.autoreplies.models import AutoReplies

app = rest_app()


@app.get(
    "/api/v1/accounts/<id>/auto-replies",
    summary="An account's automatic replies",
    description="Both replies are off for an account that never set them.",
    tags=["Automatic replies"],
    responses=doc(Envelope[AutoReplies], 404),
    middlewares=[any_role],
)
def get_auto_replies(id: AccountId):
    return ok(service.get_auto_replies(id))


lambda_handler = rest_handler(app)
