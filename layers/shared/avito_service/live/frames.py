"""Which MessengerTable changes are announced, and as what (contract: "Live updates (WebSocket)").

| stream record                                      | frames                                                       |
|----------------------------------------------------|--------------------------------------------------------------|
| INSERT of a message item (``sk`` starts ``MSG#``)  | ``avito-new-message``; + ``avito-notification`` if marked   |
| INSERT or MODIFY of a chat item (``sk == "CHAT"``) | ``avito-chat-updated``, unless no field of the chat changed  |
| MODIFY of a chat whose status or assignee changed  | ``avito-chat-assigned`` too (workflow: claim, transfer...)   |
| MODIFY of a chat whose ``wfAlert`` changed          | ``avito-chat-waiting``: the assignee (or, without one, all  |
|                                                    | who see the account), and directors and admins              |
| INSERT of a review marked ``announce`` (``REVIEW#``) | ``avito-new-review`` (``reviews.store``: newer than the rest) |
| INSERT of a chat's note (``NOTE#``)                | ``avito-chat-note``: all who see the account (internal,      |
|                                                    | never sent to Avito; an addition to the contract)            |
| MODIFY of a message that gains ``sentBy``          | ``avito-new-message`` again: the same id, with its sender    |
| any other MODIFY of a message, REMOVE              | nothing                                                      |
| an item never announced (a call, a sync mark, routing, presence, an id's guard: ``QUIET_PREFIXES``) | nothing |
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

from avito_service import clock
from avito_service.calls.store import CALL_PREFIX, SYNC_SK
from avito_service.messenger.items import MESSAGE_ID_PREFIX
from avito_service.messenger.models import Direction
from avito_service.messenger.store import CHAT_SK, MESSAGE_PREFIX, chat_from_item, message_from_item
from avito_service.reviews.store import REVIEW_PREFIX, review_from_item
from avito_service.workflow.models import note_from_item
from avito_service.workflow.store import NOTE_PREFIX, PRESENCE_SK, ROUTING_SK

NEW_MESSAGE = "avito-new-message"
CHAT_UPDATED = "avito-chat-updated"
NOTIFICATION = "avito-notification"
NEW_REVIEW = "avito-new-review"
CHAT_ASSIGNED = "avito-chat-assigned"
CHAT_WAITING = "avito-chat-waiting"
CHAT_NOTE = "avito-chat-note"
SUPERVISOR_ROLES = frozenset({"admin", "director"})

# Sort keys of MessengerTable items that are stored there but never announced: skipped quietly. A new kind of
# item in the table adds its prefix here (or a frame above); anything else is an unknown item, logged as an error.
# a message id's guard (``MSGID#``) only keeps a message to one copy
QUIET_PREFIXES = (CALL_PREFIX, SYNC_SK, ROUTING_SK, PRESENCE_SK, MESSAGE_ID_PREFIX)


class UnknownItem(ValueError):
    """A stream record of an item whose ``sk`` is of no kind this module knows (not even a quiet one)."""


@dataclass(frozen=True)
class Frame:
    """One server frame ``{"event", "data"}`` about one account."""

    account_id: str
    event: str
    data: dict[str, Any]
    users: frozenset[str] | None = None  # only these users (and directors and admins); None: all who see it

    def reaches(self, sub: str, role: str) -> bool:
        return self.users is None or sub in self.users or role in SUPERVISOR_ROLES

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
        if event_name == "INSERT":
            return _new_message(new_image)
        return _sender_added(old_image, new_image)
    if sk.startswith(REVIEW_PREFIX):
        return _new_review(new_image) if event_name == "INSERT" and new_image.get("announce") is True else []
    if sk == CHAT_SK:
        return _chat_updated(old_image, new_image) if event_name in ("INSERT", "MODIFY") else []
    if sk.startswith(NOTE_PREFIX):
        return _new_note(new_image) if event_name == "INSERT" else []
    if sk.startswith(QUIET_PREFIXES):
        return []
    raise UnknownItem(f"an item of an unknown kind (sk {sk.split('#', 1)[0]!r}...)")


def _new_review(item: Mapping[str, Any]) -> list[Frame]:
    review = review_from_item(dict(item))
    return [
        Frame(review.accountId, NEW_REVIEW, {"accountId": review.accountId, "review": review.model_dump(mode="json")})
    ]


def _new_note(item: Mapping[str, Any]) -> list[Frame]:
    """A note added to a chat: to every connection that may see the account (like ``avito-chat-assigned``)."""
    if not item.get("accountId") or not item.get("chatId"):
        return []  # written before notes carried their chat's ids (store.add_note): nothing to address it to
    account_id, chat_id = str(item["accountId"]), str(item["chatId"])
    note = note_from_item(item).model_dump(mode="json")
    return [Frame(account_id, CHAT_NOTE, {"accountId": account_id, "chatId": chat_id, "note": note})]


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


def _sender_added(old_item: Mapping[str, Any] | None, new_item: Mapping[str, Any]) -> list[Frame]:
    """A message Avito's echo (or a listing) stored before the send stored it gets its sender afterwards
    (``ChatStore.save_sent_message``): the message again, so a console shows who sent it (clients key by id)."""
    if not new_item.get("sentBy") or (old_item or {}).get("sentBy"):
        return []
    return _new_message(new_item)[:1]  # the message only: never a second notification


def _chat_updated(old_item: Mapping[str, Any] | None, new_item: Mapping[str, Any]) -> list[Frame]:
    chat = chat_from_item(new_item).model_dump(mode="json")
    before = chat_from_item(old_item).model_dump(mode="json") if old_item is not None else None
    account_id, chat_id = chat["accountId"], str(new_item.get("chatId") or chat["id"])
    frames = []
    if before != chat:  # else only internal attributes changed (sort keys, index keys, ordering marks, alerts)
        frames.append(Frame(account_id, CHAT_UPDATED, {"accountId": account_id, "chatId": chat_id, "chat": chat}))
    if before is not None and (before["status"], before["assignee"]) != (chat["status"], chat["assignee"]):
        data = {
            "accountId": account_id,
            "chatId": chat_id,
            "status": chat["status"],
            "assignee": chat["assignee"],
            "by": new_item.get("wfBy"),  # null: the service (a client's message to a closed chat)
        }
        frames.append(Frame(account_id, CHAT_ASSIGNED, data))
    alert = new_item.get("wfAlert")
    if alert and (old_item is None or old_item.get("wfAlert") != alert) and chat["awaitingReplySince"]:
        frames.append(_waiting(account_id, chat_id, chat, alert))
    return frames


def _waiting(account_id: str, chat_id: str, chat: Mapping[str, Any], alert: Mapping[str, Any]) -> Frame:
    waited = clock.from_iso(str(alert["at"])) - clock.from_iso(str(chat["awaitingReplySince"]))
    assignee = chat["assignee"]
    data = {
        "accountId": account_id,
        "chatId": chat_id,
        "waitingSeconds": int(waited),
        "threshold": int(alert["threshold"]),
        "assignee": assignee,
    }
    return Frame(account_id, CHAT_WAITING, data, users=frozenset({assignee["userId"]}) if assignee else None)
