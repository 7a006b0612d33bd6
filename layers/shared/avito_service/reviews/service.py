"""Ratings, reviews and answers of one account: Avito through the account's proxy, every review seen stored.

Every function loads the account through :func:`connect` (``accounts.load_context``): the one place where
per-operator account scoping applies to this domain.
"""

from __future__ import annotations

from typing import Any

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.avito.inbound import REVIEWS_PAGE_MAX, InboundApi
from avito_service.avito.objects import parse_each
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.errors import NotFound
from avito_service.observability import logger
from avito_service.reviews.models import (
    Rating,
    Review,
    ReviewAnswer,
    rating_from_avito,
    review_from_avito,
)
from avito_service.reviews.store import review_store

SYNC_MAX_PAGES = 10  # the daily sync reads at most 500 newest reviews per account (stops at a known page)
ANSWER_SEARCH_PAGES = 4  # DELETE of an answer the service has not stored looks through 200 newest reviews


def connect(account_id: str) -> InboundApi:
    """The account's client (404 for an unknown account)."""
    return InboundApi(accounts.load_context(account_id))


def _reviews(account_id: str, raws: list[Any]) -> list[Review]:
    return parse_each(account_id, "review", raws, review_from_avito)


def rating(account_id: str) -> Rating:
    return rating_from_avito(connect(account_id).rating_info())


def list_reviews(account_id: str, limit: int, cursor: str | None) -> tuple[list[Review], str | None]:
    """A page of the account's reviews, newest first, from Avito (stored as well); the cursor is Avito's offset."""
    position = decode_cursor(cursor, required_keys=("offset",))
    offset = int(position["offset"]) if position else 0
    client = connect(account_id)
    reviews: list[Review] = []
    consumed = total = 0
    while len(reviews) < limit:
        want = min(REVIEWS_PAGE_MAX, limit - len(reviews))
        page = client.reviews_page(offset + consumed, want)
        total, raws = page["total"], page["reviews"]
        consumed += len(raws)
        reviews.extend(_reviews(account_id, raws))
        if len(raws) < want:
            break
    review_store().save(account_id, reviews)
    end = offset + consumed
    return reviews, encode_cursor({"offset": end}) if consumed and end < total else None


def answer(account_id: str, review_id: str, text: str) -> ReviewAnswer:
    """Answer a review at Avito; the answer goes to Avito's moderation."""
    return store_answer(account_id, review_id, text, post_answer(account_id, review_id, text))


def post_answer(account_id: str, review_id: str, text: str) -> dict[str, Any]:
    """The step of an answer that must never be repeated (Avito keeps one answer per review): Avito's answer as
    plain JSON, with our clock (``answeredAt``) for an answer without ``createdAt``, for :func:`store_answer`
    (recorded by ``idempotency.once`` before anything is stored)."""
    created = connect(account_id).create_review_answer(int(review_id), text)
    return {"answer": dict(created), "answeredAt": clock.now()}


def store_answer(account_id: str, review_id: str, text: str, posted: dict[str, Any]) -> ReviewAnswer:
    """Record an answer Avito took (:func:`post_answer`) on the stored review; the same answer every time."""
    created = posted["answer"]
    when = float(created["createdAt"]) if created.get("createdAt") else float(posted["answeredAt"])
    result = ReviewAnswer(id=str(created["id"]), text=text, status="moderation", createdAt=clock.iso(when))
    review_store().set_answer(account_id, review_id, result)
    logger.info("Review answered", extra={"account_id": account_id, "review_id": review_id})
    return result


def delete_answer(account_id: str, review_id: str) -> None:
    """Remove the account's answer to a review (404 ``answer_not_found`` when it has none)."""
    client = connect(account_id)
    stored = review_store().get(account_id, review_id)
    review = stored if stored is not None and stored.answer is not None else _find(client, account_id, review_id)
    if review is None or review.answer is None:
        raise NotFound(f"Review {review_id} has no answer to delete.", code="answer_not_found")
    client.remove_review_answer(int(review.answer.id))
    review_store().set_answer(account_id, review_id, None)
    logger.info("Review answer removed", extra={"account_id": account_id, "review_id": review_id})


def _find(client: InboundApi, account_id: str, review_id: str) -> Review | None:
    for number in range(ANSWER_SEARCH_PAGES):
        page = client.reviews_page(number * REVIEWS_PAGE_MAX, REVIEWS_PAGE_MAX)
        reviews = _reviews(account_id, page["reviews"])
        review_store().save(account_id, reviews)
        match = next((r for r in reviews if r.id == review_id), None)
        if match is not None or len(page["reviews"]) < REVIEWS_PAGE_MAX:
            return match
    return None


def sync_new(client: InboundApi, account_id: str) -> tuple[list[Review], int]:
    """The daily sync: newest pages until one holds a known review (or the end). Returns (new reviews, Avito calls)."""
    new: list[Review] = []
    calls = 0
    for number in range(SYNC_MAX_PAGES):
        page = client.reviews_page(number * REVIEWS_PAGE_MAX, REVIEWS_PAGE_MAX)
        calls += 1
        stored = review_store().save(account_id, _reviews(account_id, page["reviews"]))
        new.extend(stored)
        # newest first: a page that held any known review is where the known ones begin
        if len(stored) < len(page["reviews"]) or len(page["reviews"]) < REVIEWS_PAGE_MAX:
            break
    return new, calls
