"""Open WebSocket connections (table ``ConnectionsTable``, key ``connectionId``).

| access pattern                          | how                                                   |
|-----------------------------------------|-------------------------------------------------------|
| a connection opens / closes             | PutItem / DeleteItem on ``connectionId``              |
| a connection changes its account filter | UpdateItem, only while the connection is stored       |
| every connection, for a fan-out         | Scan (projected): one page holds ~5,000 connections   |

An item holds ``sub`` and ``role`` of the caller who connected, ``accountIds`` (absent: every account)
and ``ttl``: a connection lives no longer than its token, ``ttl = min(token exp, connected + 2 h)`` (API
Gateway closes a WebSocket after two hours at most). Readers skip items past their ``ttl`` (DynamoDB deletes
expired items only eventually): an expired connection gets no frame, and the fan-out closes it
(:func:`split_connections`). No token is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws, clock
from avito_service.auth import Identity
from avito_service.config import get_settings

MAX_CONNECTION_SECONDS = 2 * 3600  # API Gateway's limit for one WebSocket connection


@dataclass(frozen=True)
class Connection:
    connection_id: str
    sub: str
    role: str
    account_ids: frozenset[str] | None = None  # None: every account

    def wants(self, account_id: str) -> bool:
        return self.account_ids is None or account_id in self.account_ids


def _table() -> Any:
    return aws.table(get_settings().connections_table)


def open_connection(connection_id: str, identity: Identity, *, now: float | None = None) -> Connection:
    connected = clock.now() if now is None else now
    _table().put_item(
        Item={
            "connectionId": connection_id,
            "sub": identity.sub,
            "role": identity.role,
            "connectedAt": clock.iso(int(connected)),
            "ttl": min(int(identity.exp), int(connected) + MAX_CONNECTION_SECONDS),  # no longer than its token
        }
    )
    return Connection(connection_id, identity.sub, identity.role)


def close_connection(connection_id: str) -> None:
    _table().delete_item(Key={"connectionId": connection_id})


def set_account_filter(connection_id: str, account_ids: Iterable[str] | None) -> bool:
    """Limit the connection to ``account_ids`` (None: every account). False when the connection is not stored."""
    if account_ids is None:
        update: dict[str, Any] = {"UpdateExpression": "REMOVE accountIds"}
    else:
        update = {
            "UpdateExpression": "SET accountIds = :ids",
            "ExpressionAttributeValues": {":ids": sorted(set(account_ids))},
        }
    try:
        _table().update_item(
            Key={"connectionId": connection_id}, ConditionExpression="attribute_exists(connectionId)", **update
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def open_connections(*, now: float | None = None) -> Iterator[Connection]:
    """Every stored connection that has not expired."""
    live, _ = split_connections(now=now)
    yield from live


def split_connections(*, now: float | None = None) -> tuple[list[Connection], list[str]]:
    """The stored connections that have not expired, and the ids of those that have (their token ran out, or
    two hours passed): those get no frames and are to be closed."""
    current = clock.now() if now is None else now
    scan: dict[str, Any] = {"ProjectionExpression": "connectionId, #sub, #role, accountIds, #ttl"}
    scan["ExpressionAttributeNames"] = {"#sub": "sub", "#role": "role", "#ttl": "ttl"}
    live: list[Connection] = []
    expired: list[str] = []
    while True:
        page = _table().scan(**scan)
        for item in page.get("Items", []):
            if int(item.get("ttl", 0)) <= current:
                expired.append(str(item["connectionId"]))
                continue
            ids = item.get("accountIds")
            live.append(
                Connection(
                    connection_id=str(item["connectionId"]),
                    sub=str(item.get("sub", "")),
                    role=str(item.get("role", "")),
                    account_ids=None if ids is None else frozenset(str(i) for i in ids),
                )
            )
        if "LastEvaluatedKey" not in page:
            return live, expired
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
