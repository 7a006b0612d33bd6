"""GET /api/v1/search?q=: chats, messages, names, phones, items, tags and notes the caller may see (any role)."""

from typing import Annotated

from avito_service.api import Cursor, Limit, Page, any_role, current_caller, doc, ok, rest_app, rest_handler
from avito_service.search import service
from avito_service.search.models import SearchResult
from aws_lambda_powertools.event_handler.openapi.params import Query

app = rest_app()
SearchQuery = Annotated[
    str, Query(alias="q", min_length=2, max_length=100, description="words or word beginnings, Russian or English")
]
AccountFilter = Annotated[
    str | None, Query(alias="accountId", min_length=1, max_length=64, description="only this account's chats")
]


@app.get(
    "/api/v1/search",
    summary="Search the chats",
    description="Client names, phone numbers, item titles, tags, notes and message text of the chats the caller "
    "may see; every word of `q` must match a whole word or a word's beginning (case does not matter; ё reads as "
    "the plain letter). Best first (whole words; then phone, client, item, tag, note, message), then newest.",
    tags=["Search"],
    responses=doc(Page[SearchResult], 404),
    middlewares=[any_role],
)
def search(q: SearchQuery, account_id: AccountFilter = None, limit: Limit = 50, cursor: Cursor = None):
    visible = current_caller(app).account_ids
    results, next_cursor = service.search(q, visible=visible, account_id=account_id, limit=limit, cursor=cursor)
    return ok(results, next_cursor=next_cursor)


lambda_handler = rest_handler(app)
