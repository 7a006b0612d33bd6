"""Accounts table access.

Access patterns and keys (table ``AccountsTable``, keys ``pk``/``sk``):

| pattern                                  | key / index                                                   |
|------------------------------------------|---------------------------------------------------------------|
| account by id                            | pk ``ACCOUNT#<id>``, sk ``PROFILE``                            |
| accounts in creation order, paginated    | GSI ``byCreatedAt``: listPk ``ACCOUNTS``, listSk ``<createdAt>#<id>`` |
| one account per Avito clientId           | pk ``CLIENT#<clientId>``, sk ``CLIENT`` (written in the same transaction) |
| stats snapshots of an account by date    | pk ``ACCOUNT#<id>``, sk ``STATS#<YYYY-MM-DD>`` (paginated)     |
| enabled eternal-online accounts due by T | sparse GSI ``byOnlineDue``: ``onlinePk`` = ``ONLINE``, ``nextDueAt`` <= T |
| deleted accounts whose data is still being cleaned up | pk ``CLEANUP``, sk ``ACCOUNT#<id>`` (a copy of the account) |

Every change of an account adds one to ``version``; updates set only the attributes that change,
under a condition, so concurrent updates of different fields both land.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.config import get_settings
from avito_service.errors import NotFound

PROFILE = "PROFILE"
LIST_PK = "ACCOUNTS"
ONLINE_PK = "ONLINE"
BY_CREATED = "byCreatedAt"
BY_ONLINE_DUE = "byOnlineDue"
CLEANUP_PK = "CLEANUP"
ONLINE_CURSOR_KEYS = ("onlinePk", "nextDueAt", "pk", "sk")


def account_key(account_id: str) -> dict[str, str]:
    return {"pk": f"ACCOUNT#{account_id}", "sk": PROFILE}


def cleanup_key(account_id: str) -> dict[str, str]:
    return {"pk": CLEANUP_PK, "sk": f"ACCOUNT#{account_id}"}


def client_key(client_id: str) -> dict[str, str]:
    return {"pk": f"CLIENT#{client_id}", "sk": "CLIENT"}


class ConditionFailed(Exception):
    """The conditional write did not apply; the caller decides whether that is a 404, a 409 or a retry."""


@dataclass
class Change:
    """One conditional update of an account item."""

    set_values: dict[str, Any] = field(default_factory=dict)
    remove: set[str] = field(default_factory=set)
    add: dict[str, int] = field(default_factory=dict)
    expected_version: int | None = None
    expected_values: dict[str, Any] = field(default_factory=dict)  # value None = attribute must not exist
    bump_version: bool = True

    def expression(self) -> dict[str, Any]:
        expression = dynamo.Expression()
        add = dict(self.add)
        if self.bump_version:
            add["version"] = 1
        conditions = [f"attribute_exists({expression.name('pk')})"]
        if self.expected_version is not None:
            conditions.append(f"{expression.name('version')} = {expression.value(self.expected_version)}")
        for attr, expected in self.expected_values.items():
            if expected is None:
                conditions.append(f"attribute_not_exists({expression.name(attr)})")
            else:
                conditions.append(f"{expression.name(attr)} = {expression.value(expected)}")
        return dynamo.update_expression(
            set_values=self.set_values, add=add, remove=self.remove, conditions=conditions, expression=expression
        )


def _is_condition_failure(exc: ClientError) -> bool:
    # Any cancelled transaction counts: the callers re-read and decide (404, 409 or retry) either way.
    return dynamo.condition_failed(exc, any_cancellation=True)


class AccountStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self) -> Any:
        return aws.table(self.table_name)  # this thread's Table (aws.dynamodb_resource: one per thread)

    # --- accounts ---------------------------------------------------------------------------------------

    def get(self, account_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=account_key(account_id), ConsistentRead=True).get("Item")

    def existing(self, account_id: str) -> dict[str, Any]:
        """The account's item, or the contract's 404 ``account_not_found`` (an unknown or deleted account)."""
        item = self.get(account_id)
        if item is None:
            raise NotFound(f"No account with id '{account_id[:64]}'.", code="account_not_found")
        return item

    def client_owner(self, client_id: str) -> str | None:
        item = self._table.get_item(Key=client_key(client_id), ConsistentRead=True).get("Item")
        return item["accountId"] if item else None

    def create(self, item: dict[str, Any]) -> None:
        """Write the account and its clientId marker in one transaction (ConditionFailed: clientId taken)."""
        marker = {**client_key(item["clientId"]), "accountId": item["id"]}
        try:
            aws.dynamodb_client().transact_write_items(
                TransactItems=[
                    {"Put": self._put(item, "attribute_not_exists(pk)")},
                    {"Put": self._put(marker, "attribute_not_exists(pk)")},
                ],
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed from exc
            raise

    def update(
        self, account_id: str, change: Change, *, new_client_id: str | None = None, old_client_id: str | None = None
    ) -> dict[str, Any]:
        """Apply ``change``; with ``new_client_id`` the clientId marker moves in the same transaction."""
        expression = change.expression()
        try:
            if new_client_id is None:
                answer = self._table.update_item(Key=account_key(account_id), ReturnValues="ALL_NEW", **expression)
                return answer["Attributes"]
            self._move_client_marker(account_id, expression, old_client_id or "", new_client_id)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed from exc
            raise
        item = self.get(account_id)
        if item is None:
            raise ConditionFailed
        return item

    def _move_client_marker(self, account_id: str, expression: dict[str, Any], old: str, new: str) -> None:
        update = {
            "TableName": self.table_name,
            "Key": account_key(account_id),
            "UpdateExpression": expression["UpdateExpression"],
            "ConditionExpression": expression["ConditionExpression"],
            "ExpressionAttributeNames": expression["ExpressionAttributeNames"],
        }
        if "ExpressionAttributeValues" in expression:
            update["ExpressionAttributeValues"] = expression["ExpressionAttributeValues"]
        aws.dynamodb_client().transact_write_items(
            TransactItems=[
                {"Update": update},
                {"Put": self._put({**client_key(new), "accountId": account_id}, "attribute_not_exists(pk)")},
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": client_key(old),
                        "ConditionExpression": "accountId = :me",
                        "ExpressionAttributeValues": {":me": account_id},
                    },
                },
            ],
        )

    def delete_to_cleanup(self, item: dict[str, Any], *, now: float) -> None:
        """In one transaction: remove the account and its clientId marker, and record a cleanup marker holding a
        copy of the account (what the background cleanup needs: secret ARN, credentials' place, webhook state).
        From then on no write for the account passes its condition check, and the cleanup cannot be lost.
        ConditionFailed: the account was deleted (or changed its clientId) meanwhile."""
        account_id = str(item["id"])
        copy = {k: v for k, v in item.items() if k not in {"pk", "sk", "listPk", "listSk", "onlinePk", "nextDueAt"}}
        marker = {**cleanup_key(account_id), "accountId": account_id, "deletedAt": int(now), "account": copy}
        try:
            aws.dynamodb_client().transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table_name,
                            "Key": account_key(account_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.table_name,
                            "Key": client_key(str(item["clientId"])),
                            "ConditionExpression": "attribute_not_exists(pk) OR accountId = :me",
                            "ExpressionAttributeValues": {":me": account_id},
                        }
                    },
                    {"Put": self._put(marker, "attribute_not_exists(pk)")},
                ],
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed from exc
            raise

    def cleanup_marker(self, account_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=cleanup_key(account_id), ConsistentRead=True).get("Item")

    def cleanup_markers(self) -> list[dict[str, Any]]:
        """Every pending cleanup (deleted accounts are few: one partition is plenty)."""
        return list(
            dynamo.query_all(self._table.query, KeyConditionExpression=Key("pk").eq(CLEANUP_PK), ConsistentRead=True)
        )

    def deleted_account_ids(self) -> frozenset[str]:
        """Accounts deleted whose data the background cleanup has not removed yet (their markers' ids only)."""
        return deleted_account_ids(self._table)

    def update_cleanup_marker(self, account_id: str, values: dict[str, Any]) -> None:
        self._table.update_item(
            Key=cleanup_key(account_id),
            **dynamo.update_expression(set_values=values, conditions=["attribute_exists(pk)"]),
        )

    def delete_cleanup_marker(self, account_id: str) -> None:
        self._table.delete_item(Key=cleanup_key(account_id))

    def delete_leftovers(self, account_id: str) -> int:
        """Delete every item still under the deleted account's key (snapshots, cached token); idempotent.
        Returns how many there were. Never the profile of a live account: callers run it after the delete."""
        keys = [
            {"pk": i["pk"], "sk": i["sk"]}
            for i in dynamo.query_all(
                self._table.query,
                KeyConditionExpression=Key("pk").eq(f"ACCOUNT#{account_id}"),
                ProjectionExpression="pk, sk",
                ConsistentRead=True,
            )
        ]
        with self._table.batch_writer() as batch:
            for key in keys:
                batch.delete_item(Key=key)
        return len(keys)

    def list_page(
        self, limit: int, cursor: str | None, *, only: frozenset[str] | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        request: dict[str, Any] = {"IndexName": BY_CREATED, "KeyConditionExpression": Key("listPk").eq(LIST_PK)}
        if only is not None:  # at most 100 ids (users.models.MAX_ASSIGNED_ACCOUNTS): DynamoDB's IN takes 100
            request["FilterExpression"] = Attr("id").is_in(sorted(only))
        return dynamo.query_page(
            self._table.query,
            request,
            limit=limit,
            cursor=cursor,
            key_attrs=("pk", "sk", "listPk", "listSk"),
            belongs=lambda start: start["listPk"] == LIST_PK,
        )

    # --- eternal online (the sparse index ``byOnlineDue``) ------------------------------------------------

    def online_due(self, horizon: int) -> Iterator[dict[str, Any]]:
        """Projected index items (id, nextDueAt, interval, generation) with ``nextDueAt < horizon``, soonest first."""
        condition = Key("onlinePk").eq(ONLINE_PK) & Key("nextDueAt").lt(horizon)
        return dynamo.query_all(self._table.query, IndexName=BY_ONLINE_DUE, KeyConditionExpression=condition)

    def online_page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the enabled accounts' index items, soonest due first."""
        return dynamo.query_page(
            self._table.query,
            {"IndexName": BY_ONLINE_DUE, "KeyConditionExpression": Key("onlinePk").eq(ONLINE_PK)},
            limit=limit,
            cursor=cursor,
            key_attrs=ONLINE_CURSOR_KEYS,
            belongs=lambda start: start["onlinePk"] == ONLINE_PK and isinstance(start["nextDueAt"], int),
        )

    def get_many(self, account_ids: list[str], fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """Account items by id, only ``fields`` (``id`` among them), 100 keys per BatchGetItem."""
        expression = dynamo.Expression()
        projection = ", ".join(expression.name(name) for name in fields)
        keys = [account_key(a) for a in account_ids]
        items = dynamo.batch_get(self.table_name, keys, projection=projection, names=expression.names)
        return {str(item["id"]): item for item in items}

    def _put(self, item: dict[str, Any], condition: str) -> dict[str, Any]:
        return {"TableName": self.table_name, "Item": item, "ConditionExpression": condition}

    # --- stats snapshots ----------------------------------------------------------------------------------

    def put_snapshot(self, account_id: str, date: str, snapshot: dict[str, Any]) -> None:
        self._table.put_item(Item={"pk": f"ACCOUNT#{account_id}", "sk": f"STATS#{date}", **snapshot})

    def snapshots_page(
        self, account_id: str, date_from: str, date_to: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the account's snapshots between two days, oldest first, and the next page's cursor."""
        pk = f"ACCOUNT#{account_id}"
        return dynamo.query_page(
            self._table.query,
            {"KeyConditionExpression": Key("pk").eq(pk) & Key("sk").between(f"STATS#{date_from}", f"STATS#{date_to}")},
            limit=limit,
            cursor=cursor,
            key_attrs=("pk", "sk"),
            belongs=lambda start: start["pk"] == pk and str(start["sk"]).startswith("STATS#"),
        )

    def snapshots(self, account_id: str, date_from: str, date_to: str) -> list[dict[str, Any]]:
        condition = Key("pk").eq(f"ACCOUNT#{account_id}") & Key("sk").between(f"STATS#{date_from}", f"STATS#{date_to}")
        return list(dynamo.query_all(self._table.query, KeyConditionExpression=condition))


@functools.cache
def account_store() -> AccountStore:
    """The store of the configured AccountsTable (created on first use, not at import)."""
    return AccountStore(get_settings().accounts_table)


def deleted_account_ids(table: Any) -> frozenset[str]:
    """The ids of the deleted accounts whose cleanup is still pending, read from ``table`` (AccountsTable).

    Every read of stored data leaves these accounts out (``messenger.store``), so a deleted account disappears
    from every answer at once while its chats are still being removed in the background. One strongly
    consistent Query of the small ``CLEANUP`` partition, only the ids (a marker's account copy is not read)."""
    items = dynamo.query_all(
        table.query,
        KeyConditionExpression=Key("pk").eq(CLEANUP_PK),
        ProjectionExpression="accountId",
        ConsistentRead=True,
    )
    return frozenset(str(i["accountId"]) for i in items if "accountId" in i)
