"""Quick replies in ``TemplatesTable`` (keys ``pk``/``sk``).

| access pattern                         | key                                                        |
|----------------------------------------|------------------------------------------------------------|
| shared templates                       | pk ``SHARED``, sk ``TEMPLATE#<id>``                        |
| a user's personal templates            | pk ``USER#<sub>``, sk ``TEMPLATE#<id>``                    |
| how many a scope holds (the limit)     | same pk, sk ``COUNT`` (``n``), changed in the create/delete transaction |

A table of its own rather than typed keys in AccountsTable: templates belong to people, not to accounts, are
read by every operator many times a day (one Query per scope), and their lifetime (deleting an account must not
touch them) and backups differ from the accounts'. Both scopes are small (at most 500 and 200 items), so a list
is one Query each, never a scan.
"""

from __future__ import annotations

import functools
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.config import get_settings

SHARED_PK = "SHARED"
COUNT_SK = "COUNT"
PREFIX = "TEMPLATE#"


class LimitReached(Exception):
    """The scope holds its maximum number of templates already."""


class Missing(Exception):
    """The template is not (or no longer) in the scope."""


def scope_pk(owner_id: str | None) -> str:
    return SHARED_PK if owner_id is None else f"USER#{owner_id}"


def template_key(owner_id: str | None, template_id: str) -> dict[str, str]:
    return {"pk": scope_pk(owner_id), "sk": f"{PREFIX}{template_id}"}


class TemplateStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def _table(self) -> Any:
        return aws.table(self.table_name)

    def list_scope(self, owner_id: str | None) -> list[dict[str, Any]]:
        condition = Key("pk").eq(scope_pk(owner_id)) & Key("sk").begins_with(PREFIX)
        return list(dynamo.query_all(self._table().query, KeyConditionExpression=condition))

    def get(self, owner_id: str | None, template_id: str) -> dict[str, Any] | None:
        return self._table().get_item(Key=template_key(owner_id, template_id), ConsistentRead=True).get("Item")

    def create(self, item: dict[str, Any], owner_id: str | None, limit: int) -> None:
        """Put a new template and count it, in one transaction; LimitReached when the scope is full."""
        pk = scope_pk(owner_id)
        try:
            aws.dynamodb_client().transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {**item, **template_key(owner_id, item["id"])},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": {"pk": pk, "sk": COUNT_SK},
                            "UpdateExpression": "ADD n :one",
                            "ConditionExpression": "attribute_not_exists(n) OR n < :max",
                            "ExpressionAttributeValues": {":one": 1, ":max": limit},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc, any_cancellation=True):
                raise LimitReached from None
            raise

    def update(self, owner_id: str | None, template_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        names = {f"#f{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": value for i, value in enumerate(changes.values())}
        try:
            answer = self._table().update_item(
                Key=template_key(owner_id, template_id),
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc):
                raise Missing from None
            raise
        return answer["Attributes"]

    def delete(self, owner_id: str | None, template_id: str) -> None:
        """Delete and uncount in one transaction; Missing when it is not there (deleted twice)."""
        try:
            aws.dynamodb_client().transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table_name,
                            "Key": template_key(owner_id, template_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": {"pk": scope_pk(owner_id), "sk": COUNT_SK},
                            "UpdateExpression": "ADD n :minus",
                            "ExpressionAttributeValues": {":minus": -1},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if dynamo.condition_failed(exc, any_cancellation=True):
                raise Missing from None
            raise


@functools.cache
def template_store() -> TemplateStore:
    """The store of the configured TemplatesTable (created on first use, not at import)."""
    return TemplateStore(get_settings().templates_table)
