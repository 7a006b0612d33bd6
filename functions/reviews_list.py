"""GET /api/v1/accounts/{id}/reviews: the account's reviews from Avito, newest first, stored as well (any role)."""

from avito_service.api import AccountId, Cursor, Limit, Page, any_role, doc, ok, rest_app, rest_handler
from avito_service.reviews import service
from avito_service.reviews.models import Review

app = rest_app()


@app.get(
    "/api/v1/accounts/<id>/reviews",
    summary="The account's reviews, newest first (from Avito; stored so the daily sync can tell new ones)",
    tags=["Reviews and calls"],
    responses=doc(Page[Review], 404, 429, 502, 504),
    middlewares=[any_role],
)
def list_reviews(id: AccountId, limit: Limit = 50, cursor: Cursor = None):
    reviews, next_cursor = service.list_reviews(id, limit, cursor)
    return ok(reviews, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
