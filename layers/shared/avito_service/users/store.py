"""UsersTable: what Cognito does not hold about a user.

| item (pk / sk)                         | holds                                                              |
|----------------------------------------|--------------------------------------------------------------------|
| ``USER#<sub>`` / ``USER``              | email, name, role, accountIds, enabled, createdAt, lastSeenAt,     |
|                                        | tokensValidAfter (unix s), version; listPk/listSk for the list     |
| ``EMAIL#<email>`` / ``EMAIL``          | userId: one user per e-mail (created with the user, in one write)  |
| ``META`` / ``ADMINS``                  | enabledAdmins: a counter every admin change moves in the same      |
|                                        | transaction, so "the last enabled admin" holds under concurrency   |
| ``LOGIN#<sha256(email)>`` / ``FAILS``  | failed sign-ins in the current window (ttl)                        |

| access pattern                  | how                                                          |
|---------------------------------|--------------------------------------------------------------|
| the authorizer's user state     | GetItem USER#, projected                                     |
| users, oldest first, paginated  | Query GSI byCreatedAt (listPk = USERS)                       |
| a user by e-mail (sign-in)      | GetItem EMAIL# then USER#                                    |
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.config import get_settings
from avito_service.users.state import UserState

LIST_PK = "USERS"
BY_CREATED = "byCreatedAt"
ADMINS_KEY = {"pk": "META", "sk": "ADMINS"}


class ConditionFailed(Exception):
    """A conditional write failed: ``reason`` says which part (``user``, ``email``, ``last_admin``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _table_name() -> str:
    return get_settings().users_table


def _table() -> Any:
    return aws.table(_table_name())


def user_key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": "USER"}


def email_key(email: str) -> dict[str, str]:
    return {"pk": f"EMAIL#{email}", "sk": "EMAIL"}


def _login_key(email: str) -> dict[str, str]:
    return {"pk": "LOGIN#" + hashlib.sha256(email.encode()).hexdigest(), "sk": "FAILS"}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: (int(v) if isinstance(v, Decimal) else v) for k, v in item.items()}


def auth_state(user_id: str) -> UserState | None:
    """What the authorizer checks (None: no record, e.g. a user created in Cognito only)."""
    item = (
        _table()
        .get_item(
            Key=user_key(user_id),
            ProjectionExpression="enabled, tokensValidAfter, accountIds, #name",
            ExpressionAttributeNames={"#name": "name"},
        )
        .get("Item")
    )
    if item is None:
        return None
    return UserState(
        enabled=bool(item.get("enabled", True)),
        tokens_valid_after=int(item.get("tokensValidAfter", 0)),
        account_ids=frozenset(str(i) for i in item.get("accountIds") or ()),
        name=str(item["name"]) if item.get("name") else None,
    )


def get(user_id: str) -> dict[str, Any] | None:
    item = _table().get_item(Key=user_key(user_id), ConsistentRead=True).get("Item")
    return _plain(item) if item else None


def by_email(email: str) -> dict[str, Any] | None:
    marker = _table().get_item(Key=email_key(email), ConsistentRead=True).get("Item")
    return get(str(marker["userId"])) if marker else None


def _cancelled_reason(exc: ClientError, reasons: list[str]) -> str | None:
    code = exc.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return reasons[0]
    if code != "TransactionCanceledException":
        return None
    for reason, outcome in zip(reasons, exc.response.get("CancellationReasons") or [], strict=False):
        if outcome.get("Code") == "ConditionalCheckFailed":
            return reason
    return reasons[0]


def _admins_change(delta: int) -> dict[str, Any]:
    if delta > 0:
        return {
            "Update": {
                "TableName": _table_name(),
                "Key": ADMINS_KEY,
                "UpdateExpression": "ADD enabledAdmins :one",
                "ExpressionAttributeValues": {":one": 1},
            }
        }
    return {
        "Update": {
            "TableName": _table_name(),
            "Key": ADMINS_KEY,
            "UpdateExpression": "ADD enabledAdmins :minus",
            "ConditionExpression": "enabledAdmins > :one",
            "ExpressionAttributeValues": {":minus": -1, ":one": 1},
        }
    }


def _transact(items: list[dict[str, Any]], reasons: list[str]) -> None:
    try:
        aws.dynamodb_client().transact_write_items(TransactItems=items)
    except ClientError as exc:
        reason = _cancelled_reason(exc, reasons)
        if reason is None:
            raise
        raise ConditionFailed(reason) from exc


def create(item: dict[str, Any], *, admin_delta: int = 0) -> None:
    """The user and its e-mail marker in one transaction (ConditionFailed ``email`` or ``user`` if taken)."""
    full = {**user_key(item["id"]), "listPk": LIST_PK, "listSk": f"{item['createdAt']}#{item['id']}", **item}
    items: list[dict[str, Any]] = [
        {"Put": {"TableName": _table_name(), "Item": full, "ConditionExpression": "attribute_not_exists(pk)"}},
        {
            "Put": {
                "TableName": _table_name(),
                "Item": {**email_key(item["email"]), "userId": item["id"]},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    reasons = ["user", "email"]
    if admin_delta:
        items.append(_admins_change(admin_delta))
        reasons.append("last_admin")
    _transact(items, reasons)


def update(user_id: str, values: dict[str, Any], *, version: int, admin_delta: int = 0) -> None:
    """Set ``values`` on the user if it is still at ``version`` (ConditionFailed ``user``); moves the admin
    counter in the same transaction (ConditionFailed ``last_admin`` when it would reach 0)."""
    names = {f"#f{i}": name for i, name in enumerate(values)}
    updates = {f":v{i}": value for i, value in enumerate(values.values())}
    assignments = ", ".join(f"#f{i} = :v{i}" for i in range(len(values)))
    change = {
        "Update": {
            "TableName": _table_name(),
            "Key": user_key(user_id),
            "UpdateExpression": f"SET {assignments}, #version = :next" if values else "SET #version = :next",
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {**names, "#version": "version"},
            "ExpressionAttributeValues": {**updates, ":expected": version, ":next": version + 1},
        }
    }
    items, reasons = [change], ["user"]
    if admin_delta:
        items.append(_admins_change(admin_delta))
        reasons.append("last_admin")
    _transact(items, reasons)


def delete(item: dict[str, Any], *, admin_delta: int = 0) -> None:
    items: list[dict[str, Any]] = [
        {
            "Delete": {
                "TableName": _table_name(),
                "Key": user_key(item["id"]),
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":expected": item["version"]},
            }
        },
        {"Delete": {"TableName": _table_name(), "Key": email_key(item["email"])}},
    ]
    reasons = ["user", "email"]
    if admin_delta:
        items.append(_admins_change(admin_delta))
        reasons.append("last_admin")
    _transact(items, reasons)


def touch(user_id: str, seen_at: str) -> None:
    """Record ``lastSeenAt`` (only on an existing user)."""
    _set_on_existing(user_id, "lastSeenAt", seen_at)


def revoke_tokens(user_id: str, at: int) -> None:
    """Refuse the user's access tokens issued before ``at`` (unix seconds; only on an existing user)."""
    _set_on_existing(user_id, "tokensValidAfter", at)


def _set_on_existing(user_id: str, field: str, value: Any) -> None:
    """Set one field of the user, conditional on the user existing (a deleted user is not recreated)."""
    try:
        _table().update_item(
            Key=user_key(user_id),
            UpdateExpression="SET #field = :value",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#field": field},
            ExpressionAttributeValues={":value": value},
        )
    except ClientError as exc:
        if not dynamo.condition_failed(exc):
            raise


def list_page(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the users, oldest first, by the limit+1 rule (``dynamo.query_page``: a page of exactly the last
    ``limit`` users has no next cursor)."""
    return dynamo.query_page(
        _table().query,
        {"IndexName": BY_CREATED, "KeyConditionExpression": Key("listPk").eq(LIST_PK)},
        limit=limit,
        cursor=cursor,
        key_attrs=("pk", "sk", "listPk", "listSk"),
        belongs=lambda start: start["listPk"] == LIST_PK,
        convert=_plain,
    )


def count_users(limit: int = 1) -> int:
    """How many users there are, counting up to ``limit`` (is the pool empty?)."""
    page = _table().query(
        IndexName=BY_CREATED, KeyConditionExpression=Key("listPk").eq(LIST_PK), Limit=limit, Select="COUNT"
    )
    return int(page.get("Count", 0))


# --- failed sign-ins ---------------------------------------------------------------------------------------


def failures(email: str, now: int) -> int:
    item = _table().get_item(Key=_login_key(email), ConsistentRead=True).get("Item")
    if not item or int(item.get("ttl", 0)) <= now:
        return 0
    return int(item.get("count", 0))


def record_failure(email: str, now: int, window: int) -> None:
    """Count one failed sign-in; the window starts with the first failure and ends ``window`` s later."""
    key = _login_key(email)
    try:
        _table().update_item(
            Key=key,
            UpdateExpression="ADD #count :one",
            ConditionExpression="attribute_exists(pk) AND #ttl > :now",
            ExpressionAttributeNames={"#count": "count", "#ttl": "ttl"},
            ExpressionAttributeValues={":one": 1, ":now": now},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        _table().put_item(Item={**key, "count": 1, "ttl": now + window})


def clear_failures(email: str) -> None:
    _table().delete_item(Key=_login_key(email))
