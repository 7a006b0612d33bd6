"""MessengerTable keys and items, and their conversion to the API's models (no I/O here).

A chat belongs to an account (the contract's "Chats belong to an account"): every key holds the account id
and the chat id, so two managed accounts in one Avito chat keep separate chats, messages, unread counts and
deliveries. Every chat and message item carries the plain attributes ``accountId`` and ``chatId``; a chat
item has ``sk == "CHAT"``, a message item an ``sk`` starting with ``MSG#`` (the WebSocket fan-out reads the
table's stream by these).

The all-accounts inbox indexes (``byActivity``, ``unreadAll``) are write-sharded: a chat's index key is one
of ``INBOX_SHARDS`` values picked by a hash of (account, chat), so deliveries spread over that many index
partitions; readers merge the shards by ``activitySk`` (see ``messenger.inbox``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

from avito_service import clock
from avito_service.messenger.models import Chat, Direction, LastMessage, Message

CHAT_SK = "CHAT"
MESSAGE_PREFIX = "MSG#"
# A message's identity is its id: one guard item per id (``MSGID#<id>``, never announced, not a ``MSG#`` key) is
# put with the message in the same transaction, so a second copy under another ``created`` cannot be stored.
MESSAGE_ID_PREFIX = "MSGID#"
NO_MESSAGE_SK = MESSAGE_PREFIX  # sorts before every message key: "nothing read yet"
BY_ACCOUNT = "byAccount"
BY_ACTIVITY = "byActivity"
BY_CHAT_ID = "byChatId"
UNREAD_BY_ACCOUNT = "unreadByAccount"
UNREAD_ALL = "unreadAll"
# 1,000 deliveries/s each move a chat in byActivity (and unreadAll): a delete and a put of a ~1 KB item in
# the index, ~2,000-4,000 WCU/s in all. One index partition key takes 1,000 WCU/s; 16 shards take ~250 each.
INBOX_SHARDS = 16


def chat_pk(account_id: str, chat_id: str) -> str:
    return f"ACCOUNT#{account_id}#CHAT#{chat_id}"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def message_sk(created: int, message_id: str) -> str:
    return f"{MESSAGE_PREFIX}{created:012d}#{message_id}"


def activity_sk(updated_at: str, account_id: str, chat_id: str) -> str:
    """``<updatedAt ISO>#<accountId>#<chatId>``: sorts by time (ISO times of one width sort like the times),
    unique per chat, and names the chat's key (account ids hold no ``#``), so a cursor needs only this."""
    return f"{updated_at}#{account_id}#{chat_id}"


def chat_key_of_activity(value: str) -> dict[str, str]:
    """The table key of the chat whose ``activitySk`` is ``value`` (ValueError when it is not one)."""
    _, account_id, chat_id = value.split("#", 2)
    return {"pk": chat_pk(account_id, chat_id), "sk": CHAT_SK}


def inbox_shard(account_id: str, chat_id: str) -> int:
    return zlib.crc32(f"{account_id}#{chat_id}".encode()) % INBOX_SHARDS


def all_pk(shard: int) -> str:
    return f"CHATS#{shard:02d}"


def unread_pk(shard: int) -> str:
    return f"UNREAD#{shard:02d}"


def sk_of(message: Message | LastMessage) -> str:
    return message_sk(int(clock.from_iso(message.createdAt)), message.id)


def message_id_sk(message_id: str) -> str:
    """The sort key of a message id's guard item (in the chat's partition: deleted with the chat's data)."""
    return f"{MESSAGE_ID_PREFIX}{message_id}"


def message_id_item(message: Message) -> dict[str, Any]:
    """The guard item of ``message``'s id: which sort key holds the message (``messageSk``)."""
    return {
        "pk": chat_pk(message.accountId, message.chatId),
        "sk": message_id_sk(message.id),
        "accountId": message.accountId,  # like every item of the account's chats (cleanup and its tests read it)
        "messageSk": sk_of(message),
    }


def chat_identity(account_id: str, chat_id: str) -> dict[str, Any]:
    """The attributes that place a chat item in the key design (written with every chat change)."""
    return {
        "id": chat_id,
        "chatId": chat_id,
        "accountId": account_id,
        "accountPk": account_pk(account_id),
        "allPk": all_pk(inbox_shard(account_id, chat_id)),
        "chatLookup": chat_id,  # sparse GSI byChatId: which accounts hold a chat id (chat items only)
    }


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def message_item(message: Message) -> dict[str, Any]:
    fields = message.model_dump(mode="json", exclude={"content"} | ({"automatic"} if not message.automatic else set()))
    return _without_none(
        {
            "pk": chat_pk(message.accountId, message.chatId),
            "sk": sk_of(message),
            **fields,
            "contentJson": json.dumps(message.content, ensure_ascii=False, separators=(",", ":")),
        },
    )


def message_from_item(item: Mapping[str, Any], *, read_up_to: str | None = None) -> Message:
    """The stored message; ``read_up_to`` is its chat's ``readUpTo``: an incoming message at or before it
    is read (marking a chat read moves that marker instead of writing every message)."""
    fields = {name: item.get(name) for name in Message.model_fields if item.get(name) is not None}
    fields["content"] = json.loads(item["contentJson"]) if item.get("contentJson") else None
    if read_up_to and item.get("direction") == Direction.IN.value and str(item.get("sk", "")) <= read_up_to:
        fields["isRead"] = True
    return Message.model_validate(fields)


def chat_from_item(item: Mapping[str, Any]) -> Chat:
    fields = {name: item.get(name) for name in Chat.model_fields if item.get(name) is not None}
    fields["unreadCount"] = int(item.get("unreadCount", 0))
    return Chat.model_validate(fields)
