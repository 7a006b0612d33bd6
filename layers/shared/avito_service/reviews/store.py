"""Stored reviews (table ``MessengerTable``, beside the chats), so the daily sync can tell new reviews.

| access pattern                       | key                                                            |
|--------------------------------------|----------------------------------------------------------------|
| an account's reviews                 | pk ``ACCOUNT#<accountId>#REVIEWS``, sk ``REVIEW#<reviewId>``   |
| a review stored (and announced) once | put with ``attribute_not_exists(pk)`` on its key               |

Items hold the API's ``Review`` as JSON (``reviewJson``), ``createdAt`` and ``announce``: true for a review
newer than every review stored before it (the first fill of an account stores its history, and an older page
read later is history too: neither is news). An INSERT with ``announce`` is what ``live.frames`` turns into an
``avito-new-review`` frame (the table's stream feeds the WebSocket fan-out). Like every Messenger write, a
review is stored in one transaction with a ConditionCheck that the account still exists, so nothing is
written for a deleted account; ``accounts.cleanup`` deletes the partition with the account's other data.
"""

from __future__ import annotations

import functools
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from avito_service import aws, clock, dynamo
from avito_service.accounts.store import account_key
from avito_service.config import get_settings
from avito_service.reviews.models import Review, ReviewAnswer

REVIEW_PREFIX = "REVIEW#"


def reviews_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#REVIEWS"


def review_key(account_id: str, review_id: str) -> dict[str, str]:
    return {"pk": reviews_pk(account_id), "sk": f"{REVIEW_PREFIX}{review_id}"}


def review_from_item(item: dict[str, Any]) -> Review:
    return Review.model_validate_json(str(item["reviewJson"]))


def put_once(item: dict[str, Any], account_id: str) -> bool:
    """Put ``item`` into MessengerTable unless its key exists, in one transaction with a check that the account
    exists. True when it was stored; False when it was there already or the account is gone."""
    settings = get_settings()
    try:
        aws.dynamodb_client().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": settings.messenger_table,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": settings.accounts_table,
                        "Key": account_key(account_id),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    except ClientError as exc:
        if dynamo.condition_failed(exc, any_cancellation=True):
            return False
        raise
    return True


def partition(account_id_pk: str) -> list[dict[str, Any]]:
    """Every item of one partition (an account's reviews or calls: hundreds at most)."""
    table = aws.table(get_settings().messenger_table)
    return list(dynamo.query_all(table.query, KeyConditionExpression=Key("pk").eq(account_id_pk)))


def delete_partition(account_id_pk: str) -> int:
    """Delete a partition (account cleanup); returns how many items went."""
    items = partition(account_id_pk)
    with aws.table(get_settings().messenger_table).batch_writer() as batch:
        for item in items:
            batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    return len(items)


class ReviewStore:
    def stored(self, account_id: str) -> dict[str, Review]:
        """The account's stored reviews by id."""
        found = {}
        for item in partition(reviews_pk(account_id)):
            if str(item.get("sk", "")).startswith(REVIEW_PREFIX):
                review = review_from_item(item)
                found[review.id] = review
        return found

    def get(self, account_id: str, review_id: str) -> Review | None:
        item = aws.table(get_settings().messenger_table).get_item(Key=review_key(account_id, review_id)).get("Item")
        return review_from_item(item) if item else None

    def save(self, account_id: str, reviews: list[Review], *, now: float | None = None) -> list[Review]:
        """Store what Avito listed: new reviews once (announced when newer than every stored one), changed
        ones (an answer, its moderation) updated. Returns the reviews stored for the first time."""
        known = self.stored(account_id)
        newest = max((r.createdAt or "" for r in known.values()), default=None)
        new: list[Review] = []
        for review in reviews:
            before = known.get(review.id)
            if before is None:
                item = {
                    **review_key(account_id, review.id),
                    "accountId": account_id,
                    "reviewJson": review.model_dump_json(),
                    "createdAt": review.createdAt or "",
                    "announce": newest is not None and (review.createdAt or "") > newest,
                    "storedAt": clock.iso(now),
                }
                if put_once(item, account_id):
                    new.append(review)
            elif before != review:
                self._write(account_id, review)
        return new

    def set_answer(self, account_id: str, review_id: str, answer: ReviewAnswer | None) -> Review | None:
        """Record an answer given (or removed) through the service on the stored review, if it is stored."""
        review = self.get(account_id, review_id)
        if review is None:
            return None
        changed = review.model_copy(update={"answer": answer, "canAnswer": answer is None})
        self._write(account_id, changed)
        return changed

    def _write(self, account_id: str, review: Review) -> None:
        try:
            aws.table(get_settings().messenger_table).update_item(
                Key=review_key(account_id, review.id),
                UpdateExpression="SET reviewJson = :json",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":json": review.model_dump_json()},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise


@functools.cache
def review_store() -> ReviewStore:
    return ReviewStore()
