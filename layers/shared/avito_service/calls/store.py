"""Stored calls (table ``MessengerTable``, beside the chats): what the daily sync found, by time.

| access pattern               | key                                                                    |
|------------------------------|------------------------------------------------------------------------|
| an account's calls, by time  | pk ``ACCOUNT#<accountId>#CALLS``, sk ``CALL#<callTime>#<callId>``      |
| where the daily sync stopped | same pk, sk ``SYNC`` (``syncedUntil``)                                 |
| a phone's calls, newest last | pk ``PHONE#<+7XXXXXXXXXX>``, sk ``CALL#<callTime>#<accountId>#<callId>`` |

The phone item is a copy of the call under its caller's number (normalised like the client card's phones), so
the client card finds a client's calls on every account with one Query per phone, without a scan or an index.

Calls are stored once (``attribute_not_exists``) with a check that the account exists (``reviews.store.put_once``);
their recordings are never stored (``calls.service``).
"""

from __future__ import annotations

import functools

from boto3.dynamodb.conditions import Key

from avito_service import aws
from avito_service.calls.models import TrackedCall
from avito_service.config import get_settings
from avito_service.phones import normalise
from avito_service.reviews.store import put_once

CALL_PREFIX = "CALL#"
SYNC_SK = "SYNC"


def phone_pk(phone: str) -> str:
    return f"PHONE#{phone}"


def calls_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#CALLS"


class CallStore:
    def save(self, account_id: str, calls: list[TrackedCall]) -> int:
        """Store the calls not stored yet; returns how many were new."""
        new = 0
        for found in calls:
            item = {
                "pk": calls_pk(account_id),
                "sk": f"{CALL_PREFIX}{found.callTime}#{found.id}",
                "accountId": account_id,
                "callerPhone": found.callerPhone,
                "callJson": found.model_dump_json(),
            }
            stored = put_once(item, account_id)
            new += stored
            phone = normalise(found.callerPhone) if found.callerPhone else None
            if phone:  # also written when the call was stored before this copy existed (idempotent either way)
                put_once(
                    {
                        "pk": phone_pk(phone),
                        "sk": f"{CALL_PREFIX}{found.callTime}#{account_id}#{found.id}",
                        "accountId": account_id,
                        "callJson": found.model_dump_json(),
                    },
                    account_id,
                )
        return new

    def calls_of_phone(self, phone: str, limit: int) -> list[TrackedCall]:
        """The newest ``limit`` calls from ``phone`` (``+7XXXXXXXXXX``) on every account, newest first."""
        answer = aws.table(get_settings().messenger_table).query(
            KeyConditionExpression=Key("pk").eq(phone_pk(phone)) & Key("sk").begins_with(CALL_PREFIX),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [TrackedCall.model_validate_json(str(item["callJson"])) for item in answer.get("Items", [])]

    def synced_until(self, account_id: str) -> str | None:
        key = {"pk": calls_pk(account_id), "sk": SYNC_SK}
        item = aws.table(get_settings().messenger_table).get_item(Key=key).get("Item")
        return str(item["syncedUntil"]) if item else None

    def mark_synced(self, account_id: str, until: str) -> None:
        aws.table(get_settings().messenger_table).put_item(
            Item={"pk": calls_pk(account_id), "sk": SYNC_SK, "accountId": account_id, "syncedUntil": until}
        )


@functools.cache
def call_store() -> CallStore:
    return CallStore()
