"""Open WebSocket connections (table ``ConnectionsTable``, key ``connectionId``).

| access pattern                          | how                                                   |
|-----------------------------------------|-------------------------------------------------------|
| a connection opens / closes             | PutItem / DeleteItem on ``connectionId``              |
| does a user still hold one (presence)   | Scan filtered on ``sub`` (workflow.presence)          |
| a connection changes its account filter | GetItem (allowed accounts), then UpdateItem while stored |
| every connection, for a fan-out         | Scan (projected): one page holds ~5,000 connections   |

An item holds ``sub`` and ``role`` of the caller who connected, ``accountIds`` (absent: every account),
``allowedAccountIds`` (a limited operator's accounts, users.scope; absent: every account) and ``ttl``: a
connection lives no longer than its token, ``ttl = min(token exp, connected + 2 h)`` (API Gateway closes a
WebSocket after two hours at most). Readers skip items past their ``ttl`` (DynamoDB deletes
expired items only eventually): an expired connection gets no frame, and the fan-out closes it
(:func:`split_connections`). No token is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws, clock, dynamo
from avito_service.auth import Identity
from avito_service.config import get_settings

MAX_CONNECTION_SECONDS = 2 * 3600  # API Gateway's limit for one WebSocket connection


@dataclass(frozen=True)
class Connection:
    connection_id: str
    sub: str
    role: str
    account_ids: frozenset[str] | None = None  # None: every account
    allowed: frozenset[str] | None = None  # a limited operator's accounts (users.scope); None: every account

    def wants(self, account_id: str) -> bool:
        if self.allowed is not None and account_id not in self.allowed:
            return False  # frames about an account the caller may not see are never sent
        return self.account_ids is None or account_id in self.account_ids


def _table() -> Any:
    return aws.table(get_settings().connections_table)


def open_connection(connection_id: str, identity: Identity, *, now: float | None = None) -> Connection:
    connected = clock.now() if now is None else now
    item: dict[str, Any] = {
        "connectionId": connection_id,
        "sub": identity.sub,
        "role": identity.role,
        "connectedAt": clock.iso(int(connected)),
        "ttl": min(int(identity.exp), int(connected) + MAX_CONNECTION_SECONDS),  # no longer than its token
    }
    allowed = getattr(identity, "account_ids", None)
    if allowed is not None:
        item["allowedAccountIds"] = sorted(allowed)
    _table().put_item(Item=item)
    return Connection(connection_id, identity.sub, identity.role, allowed=allowed)


def allowed_accounts(connection_id: str) -> tuple[bool, frozenset[str] | None]:
    """(stored?, the accounts the connection's caller may see; None: every account)."""
    item = _table().get_item(Key={"connectionId": connection_id}, ProjectionExpression="allowedAccountIds").get("Item")
    if item is None:
        return False, None
    ids = item.get("allowedAccountIds")
    return True, None if ids is None else frozenset(str(i) for i in ids)


def close_connection(connection_id: str) -> dict[str, Any] | None:
    """Forget the connection; answers its item as it was (None: not stored)."""
    return _table().delete_item(Key={"connectionId": connection_id}, ReturnValues="ALL_OLD").get("Attributes")


def has_live_connection(sub: str, *, now: float | None = None) -> bool:
    """Whether ``sub`` holds an open connection that has not expired: a filtered, strongly consistent Scan (a call
    centre holds tens of connections: one page; as ``live.revocation`` finds a user's connections)."""
    current = clock.now() if now is None else now
    items = dynamo.scan_all(
        _table().scan,
        FilterExpression="#sub = :sub AND #ttl > :now",
        ProjectionExpression="connectionId",
        ExpressionAttributeNames={"#sub": "sub", "#ttl": "ttl"},
        ExpressionAttributeValues={":sub": sub, ":now": int(current)},
        ConsistentRead=True,
    )
    return any(True for _ in items)


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
        if dynamo.condition_failed(exc):
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
    items = dynamo.scan_all(
        _table().scan,
        ProjectionExpression="connectionId, #sub, #role, accountIds, allowedAccountIds, #ttl",
        ExpressionAttributeNames={"#sub": "sub", "#role": "role", "#ttl": "ttl"},
    )
    live: list[Connection] = []
    expired: list[str] = []
    for item in items:
        if int(item.get("ttl", 0)) <= current:
            expired.append(str(item["connectionId"]))
            continue
        ids, allowed = item.get("accountIds"), item.get("allowedAccountIds")
        live.append(
            Connection(
                connection_id=str(item["connectionId"]),
                sub=str(item.get("sub", "")),
                role=str(item.get("role", "")),
                account_ids=None if ids is None else frozenset(str(i) for i in ids),
                allowed=None if allowed is None else frozenset(str(i) for i in allowed),
            )
        )
    return live, expired
