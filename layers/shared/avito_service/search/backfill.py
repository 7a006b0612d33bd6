"""Index what MessengerTable already holds (the ``search-index`` job): one account at a time, resumable.

An account's chats are read from the ``byAccount`` index a page at a time; each chat's own documents and those
of its messages and notes (one Query of the chat's partition) are written to the index. After each page the
position (the index page's LastEvaluatedKey) is saved through ``checkpoint``, so a task that runs out of time,
or dies, continues from the last page it finished. Writing is idempotent (puts of deterministic keys), so the
stream consumer and this job may index the same item in either order; a message deleted while the job runs may
be put back by a job page that read it before the deletion (it stays findable until the next change of it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from boto3.dynamodb.conditions import Key

from avito_service import aws, clock, dynamo
from avito_service.config import get_settings
from avito_service.messenger.items import BY_ACCOUNT, account_pk
from avito_service.search.documents import documents
from avito_service.search.store import search_index

CHATS_PER_PAGE = 25


def _chat_items(table: Any, pk: str) -> list[dict[str, Any]]:
    return list(dynamo.query_all(table.query, KeyConditionExpression=Key("pk").eq(pk)))


def index_account(
    account_id: str,
    start_key: dict[str, Any] | None,
    until: float,
    checkpoint: Callable[[dict[str, Any] | None], None],
) -> tuple[bool, int]:
    """Index the account's chats from ``start_key`` until done or ``until`` (unix time) passes.

    Returns (finished, documents indexed)."""
    table = aws.table(get_settings().messenger_table)
    index = search_index()
    query: dict[str, Any] = {
        "IndexName": BY_ACCOUNT,
        "KeyConditionExpression": Key("accountPk").eq(account_pk(account_id)),
        "Limit": CHATS_PER_PAGE,
        "ProjectionExpression": "pk",
    }
    if start_key:
        query["ExclusiveStartKey"] = start_key
    indexed = 0
    while True:
        page = table.query(**query)
        for chat in page["Items"]:
            docs = [doc for item in _chat_items(table, str(chat["pk"])) for doc in documents(item)]
            index.put(docs)
            indexed += len(docs)
        next_key = page.get("LastEvaluatedKey")
        checkpoint(next_key)
        if not next_key:
            return True, indexed
        if clock.now() >= until:
            return False, indexed
        query["ExclusiveStartKey"] = next_key
