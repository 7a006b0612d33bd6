"""Automatic-reply settings and the users an account blacklisted (table ``AutoRepliesTable``, keys ``pk``/``sk``).

| access pattern                          | key                                                   |
|-----------------------------------------|-------------------------------------------------------|
| an account's settings                   | pk ``ACCOUNT#<accountId>``, sk ``SETTINGS``           |
| whether the account blacklisted a user  | pk ``ACCOUNT#<accountId>``, sk ``BLOCKED#<userId>``   |

A table of its own: the settings are read for every incoming message by the auto-reply consumer (one GetItem,
plus one for the blacklist), and neither belongs in MessengerTable, whose stream every consumer reads. Which
trigger was answered is not kept here: the send's idempotency record is the claim (``autoreplies.sender``).
Avito's Messenger API can add a user to the blacklist but not list it, so the service remembers the users
blacklisted through it (``POST .../blacklist``).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from avito_service import aws, clock
from avito_service.config import get_settings

SETTINGS_SK = "SETTINGS"
BLOCKED_PREFIX = "BLOCKED#"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


class AutoReplyStore:
    def _table(self) -> Any:
        return aws.table(get_settings().auto_replies_table)

    def settings(self, account_id: str) -> dict[str, Any] | None:
        """The stored settings document (``greeting``, ``outOfHours``, ``workingHours``, ``updatedAt``,
        ``updatedBy``), or None when the account never set them."""
        item = self._table().get_item(Key={"pk": account_pk(account_id), "sk": SETTINGS_SK}).get("Item")
        if item is None:
            return None
        return {
            **json.loads(str(item["settingsJson"])),
            "updatedAt": item.get("updatedAt"),
            "updatedBy": item.get("updatedBy"),
        }

    def put_settings(self, account_id: str, settings: dict[str, Any], *, by: str) -> str:
        # JSON, not a map: the calendar's hours and dates are strings either way, and one attribute is one read
        now = clock.iso()
        self._table().put_item(
            Item={
                "pk": account_pk(account_id),
                "sk": SETTINGS_SK,
                "accountId": account_id,
                "settingsJson": json.dumps(settings, ensure_ascii=False, separators=(",", ":")),
                "updatedAt": now,
                "updatedBy": by,
            }
        )
        return now

    def block(self, account_id: str, user_id: str, *, reason: str) -> None:
        self._table().put_item(
            Item={
                "pk": account_pk(account_id),
                "sk": f"{BLOCKED_PREFIX}{user_id}",
                "accountId": account_id,
                "userId": user_id,
                "reason": reason,
                "blockedAt": clock.iso(),
            }
        )

    def is_blocked(self, account_id: str, user_id: str) -> bool:
        key = {"pk": account_pk(account_id), "sk": f"{BLOCKED_PREFIX}{user_id}"}
        return "Item" in self._table().get_item(Key=key, ProjectionExpression="pk")


@functools.cache
def auto_reply_store() -> AutoReplyStore:
    return AutoReplyStore()
