"""Pending consent links in AccountsTable: pk ``OAUTH#<sha256 of state>``, sk ``STATE`` (ttl at expiry).

Only a digest of the state is stored, so a reader of the table cannot complete someone's link. The callback
takes the item with one conditional delete (it exists and has not expired): a state works once, whichever of
two concurrent callbacks comes first.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws, dynamo
from avito_service.config import get_settings

STATE_SK = "STATE"


def state_key(state: str) -> dict[str, str]:
    return {"pk": f"OAUTH#{hashlib.sha256(state.encode()).hexdigest()}", "sk": STATE_SK}


def put_state(state: str, fields: dict[str, Any], *, expires_at: int) -> None:
    aws.table(get_settings().accounts_table).put_item(
        Item={**state_key(state), **fields, "expiresAt": expires_at, "ttl": expires_at + 3600},
        ConditionExpression="attribute_not_exists(pk)",
    )


def take_state(state: str, *, now: int) -> dict[str, Any] | None:
    """The pending link's fields, deleted at once; None for a used, expired or unknown state."""
    try:
        answer = aws.table(get_settings().accounts_table).delete_item(
            Key=state_key(state),
            ConditionExpression="attribute_exists(pk) AND expiresAt > :now",
            ExpressionAttributeValues={":now": now},
            ReturnValues="ALL_OLD",
        )
    except ClientError as exc:
        if dynamo.condition_failed(exc):
            return None
        raise
    return answer.get("Attributes")
