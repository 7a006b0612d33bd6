"""Stored calls (table ``MessengerTable``, beside the chats): what the daily sync found, by time.

| access pattern               | key                                                                    |
|------------------------------|------------------------------------------------------------------------|
| an account's calls, by time  | pk ``ACCOUNT#<accountId>#CALLS``, sk ``CALL#<callTime>#<callId>``      |
| where the daily sync stopped | same pk, sk ``SYNC`` (``syncedUntil``)                                 |

Calls are stored once (``attribute_not_exists``) with a check that the account exists (``reviews.store.put_once``);
their recordings are never stored (``calls.service``).
"""

from __future__ import annotations

import functools

from avito_service import aws
from avito_service.calls.models import TrackedCall
from avito_service.config import get_settings
from avito_service.reviews.store import put_once

CALL_PREFIX = "CALL#"
SYNC_SK = "SYNC"


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
            new += put_once(item, account_id)
        return new

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
