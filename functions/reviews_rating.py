"""GET /api/v1/accounts/{id}/rating: the account's rating at Avito (any role)."""

from avito_service.api import AccountId, Envelope, any_role, doc, ok, rest_app, rest_handler
from avito_service.reviews import service
from avito_service.reviews.models import Rating

app = rest_app()


@app.get(
    "/api/v1/accounts/<id>/rating",
    summary="The account's rating at Avito (502 reviews_not_available without access to Avito's ratings API)",
    tags=["Reviews and calls"],
    responses=doc(Envelope[Rating], 404, 429, 502, 504),
    middlewares=[any_role],
)
def get_rating(id: AccountId):
    return ok(service.rating(id))


lambda_handler = rest_handler(app)
