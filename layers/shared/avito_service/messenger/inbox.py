"""The all-accounts inbox: chats of every account, newest activity first, read from a write-sharded index.

``byActivity`` and ``unreadAll`` hold each chat under one of ``INBOX_SHARDS`` partition keys (``CHATS#07``,
``UNREAD#07``; ``items.inbox_shard``), so 1,000 deliveries/s land on 16 index partitions instead of one.
A page queries every shard in parallel (one round trip of latency, 16 small reads), each for at most
``limit + 1`` chats, and merges them by ``activitySk``, newest first.

``activitySk`` is unique per chat, so the merge is a total order and one value says where every shard
stands: the opaque cursor holds the ``activitySk`` of the page's last chat, and the next page asks each
shard for the chats strictly before it (``activitySk < :before``). Every chat after that boundary, in any
shard, was on an earlier page; a page is never longer than ``limit`` and the last page has no cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from avito_service import aws, dynamo
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.dynamo import from_wire, to_wire
from avito_service.errors import ValidationFailed
from avito_service.messenger.items import INBOX_SHARDS


@dataclass(frozen=True)
class ShardedIndex:
    name: str  # the GSI
    pk_attr: str  # its partition key attribute
    pk_of: Callable[[int], str]  # shard -> partition key value
    kind: str  # written into cursors, so a cursor of one list is refused by another
    shards: int = INBOX_SHARDS  # 1: one partition key (pk_of(0))
    sort_attr: str = "activitySk"  # unique per chat, so one value says where every shard stands
    ascending: bool = False  # newest first by default; the "needs a reply" index reads oldest first


def _shown(item: dict[str, Any], hidden: frozenset[str], only: frozenset[str] | None) -> bool:
    account_id = item.get("accountId")
    return account_id not in hidden and (only is None or account_id in only)


def page(
    table_name: str,
    index: ShardedIndex,
    limit: int,
    cursor: str | None,
    *,
    hidden: frozenset[str] = frozenset(),
    only: frozenset[str] | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict], str | None]:
    """One page of the merged index: items newest first, and the cursor of the next page (None at the end).

        Chats of the accounts in ``hidden`` (deleted, cleanup pending) are skipped as if they were not there: a shard
        reads on until it has ``limit + 1`` others, so pages keep their length and the limit+1 rule. ``only`` (a limited
        operator's accounts, users.scope) skips every other account's chats the same way, and so does ``keep`` (the
    chat filters the index does not answer itself, e.g. a tag on the "needs a reply" index)."""
    start = decode_cursor(cursor, required_keys=("list", "before"))
    if start and (start["list"] != index.kind or not isinstance(start["before"], str)):
        raise ValidationFailed.on("cursor", "Not a cursor of this list.")
    before = start["before"] if start else None
    client = aws.dynamodb_low_level_client()  # thread-safe (the resource is not), so the shards go in parallel

    def fetch(shard: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit + 1`` items of one shard before the boundary, and whether it may hold more."""
        values = {":pk": index.pk_of(shard)}
        condition = "#pk = :pk"
        if before is not None:
            values[":before"] = before
            condition += f" AND #sort {'>' if index.ascending else '<'} :before"
        query: dict[str, Any] = {
            "TableName": table_name,
            "IndexName": index.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": index.pk_attr} | ({"#sort": index.sort_attr} if before else {}),
            "ExpressionAttributeValues": to_wire(values),
            "ScanIndexForward": index.ascending,
        }
        return dynamo.first_items(
            client.query,
            limit + 1,
            convert=from_wire,
            keep=lambda item: _shown(item, hidden, only) and (keep is None or keep(item)),
            **query,
        )

    with ThreadPoolExecutor(max_workers=index.shards) as pool:
        fetched = list(pool.map(fetch, range(index.shards)))
    merged = sorted(
        (item for items, _ in fetched for item in items), key=lambda i: i[index.sort_attr], reverse=not index.ascending
    )
    taken = merged[:limit]
    if len(merged) <= limit:  # a shard that may hold more returned limit + 1 items: then merged is longer
        return taken, None
    return taken, encode_cursor({"list": index.kind, "before": taken[-1][index.sort_attr]})
