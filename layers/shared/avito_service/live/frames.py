"""Which MessengerTable changes are announced, and as what (contract: "Live updates (WebSocket)").

| stream record                                      | frames                                                       |
|----------------------------------------------------|--------------------------------------------------------------|
| INSERT of a message item (``sk`` starts ``MSG#``)  | ``avito-new-message``; + ``avito-notification`` if marked   |
| INSERT or MODIFY of a chat item (``sk == "CHAT"``) | ``avito-chat-updated``, unless no field of the chat changed  |
| INSERT of a review marked ``announce`` (``REVIEW#``) | ``avito-new-review`` (``reviews.store``: newer than the rest) |
| MODIFY of a message, REMOVE                         | nothing                                                      |
| an item of a kind that is never announced (a call, a sync mark: ``QUIET_PREFIXES``) | nothing |
| any other ``sk``                                   | nothing, and :class:`UnknownItem` (the fan-out logs an ERROR) |

"Field of the chat" means a field of the API's ``Chat``: index keys and ordering marks are not news.

``avito-notification`` is only for a message stored marked ``notify``: a new incoming unread message (a delivery,
or one a listing found newer than the chat's last known message), never history a listing discovers
(``ChatStore.save_messages``). A message is inserted once (its put is conditional), so a repeated delivery or
listing announces nothing.
The data are the API's own models (``chat_from_item`` / ``message_from_item``), so a frame holds what
``GET /api/v1/chats/...`` would show, and nothing else: no token, no secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from avito_service.calls.store import CALL_PREFIX, SYNC_SK
from avito_service.messenger.models import Direction
from avito_service.messenger.store import CHAT_SK, MESSAGE_PREFIX, chat_from_item, message_from_item
from avito_service.reviews.store import REVIEW_PREFIX, review_from_item

NEW_MESSAGE = "avito-new-message"
CHAT_UPDATED = "avito-chat-updated"
NOTIFICATION = "avito-notification"
NEW_REVIEW = "avito-new-review"

# Sort keys of MessengerTable items that are stored there but never announced: skipped quietly. A new kind of
# item in the table adds its prefix here (or a frame above); anything else is an unknown item, logged as an error.
QUIET_PREFIXES = (CALL_PREFIX, SYNC_SK)


class UnknownItem(ValueError):
    """A stream record of an item whose ``sk`` is of no kind this module knows (not even a quiet one)."""


@dataclass(frozen=True)
class Frame:
    """One server frame ``{"event", "data"}`` about one account."""

    account_id: str
    event: str
    data: dict[str, Any]

    def encode(self) -> bytes:
        return json.dumps({"event": self.event, "data": self.data}, ensure_ascii=False, separators=(",", ":")).encode()


def frames_for(
    event_name: str, old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
) -> list[Frame]:
    """The frames one stream record announces (images as Python values, e.g. Powertools' ``new_image``)."""
    sk = str((new_image or old_image or {}).get("sk", ""))
    if new_image is None or event_name == "REMOVE":
        return []
    if sk.startswith(MESSAGE_PREFIX):
        return _new_message(new_image) if event_name == "INSERT" else []
    if sk.startswith(REVIEW_PREFIX):
        return _new_review(new_image) if event_name == "INSERT" and new_image.get("announce") is True else []
    if sk == CHAT_SK:
        return _chat_updated(old_image, new_image) if event_name in ("INSERT", "MODIFY") else []
    if sk.startswith(QUIET_PREFIXES):
        return []
    raise UnknownItem(f"an item of an unknown kind (sk {sk.split('#', 1)[0]!r}...)")


def _new_review(item: Mapping[str, Any]) -> list[Frame]:
    review = review_from_item(dict(item))
    return [
        Frame(review.accountId, NEW_REVIEW, {"accountId": review.accountId, "review": review.model_dump(mode="json")})
    ]


def _new_message(item: Mapping[str, Any]) -> list[Frame]:
    message = message_from_item(item)
    account_id, chat_id = message.accountId, message.chatId
    frames = [
        Frame(
            account_id,
            NEW_MESSAGE,
            {"accountId": account_id, "chatId": chat_id, "message": message.model_dump(mode="json")},
        )
    ]
    if message.direction == Direction.IN and item.get("notify"):  # new and unread, not history a listing found
        data = {
            "type": "new_message",
            "accountId": account_id,
            "chatId": chat_id,
            "messageId": message.id,
            "text": message.text,
            "createdAt": message.createdAt,
        }
        frames.append(Frame(account_id, NOTIFICATION, data))
    return frames


def _chat_updated(old_item: Mapping[str, Any] | None, new_item: Mapping[str, Any]) -> list[Frame]:
    chat = chat_from_item(new_item).model_dump(mode="json")
    if old_item is not None and chat_from_item(old_item).model_dump(mode="json") == chat:
        return []  # only internal attributes changed (sort keys, index keys, ordering marks)
    account_id, chat_id = chat["accountId"], str(new_item.get("chatId") or chat["id"])
    return [Frame(account_id, CHAT_UPDATED, {"accountId": account_id, "chatId": chat_id, "chat": chat})]
