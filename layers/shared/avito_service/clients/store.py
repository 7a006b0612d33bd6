"""What the client card reads from MessengerTable: a chat's incoming texts, and a client's chats on every account.

| access pattern                       | key / index                                                               |
|--------------------------------------|---------------------------------------------------------------------------|
| the client's messages in a chat      | pk ``ACCOUNT#<a>#CHAT#<c>``, sk begins_with ``MSG#`` (text, direction)    |
| an Avito user's chats, every account | sparse GSI ``byClient``: ``clientUserId`` (chats only), ``accountId``     |

``byClient`` is KEYS_ONLY: a chat's ``clientUserId`` and ``accountId`` never change, so the index is written once
per chat, not on every message (which moves ``updatedAt``); the few chats found are read with BatchGetItem.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Key

from avito_service import aws, dynamo
from avito_service.config import get_settings
from avito_service.messenger.items import CHAT_SK, MESSAGE_PREFIX, chat_pk

BY_CLIENT = "byClient"
MAX_MESSAGES = 2000  # newest messages of a chat read for phone numbers
MAX_OTHER_CHATS = 100


def _table() -> Any:
    return aws.table(get_settings().messenger_table)


def incoming_messages(account_id: str, chat_id: str) -> Iterator[tuple[int, str | None]]:
    """``(unix second, text)`` of the chat's incoming messages, newest first (at most MAX_MESSAGES messages read);
    the second comes from the message's key (``MSG#<created>#<id>``), the text is None for a message without one."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(chat_pk(account_id, chat_id)) & Key("sk").begins_with(MESSAGE_PREFIX),
        "ScanIndexForward": False,
        "ProjectionExpression": "sk, #text, direction",
        "ExpressionAttributeNames": {"#text": "text"},
    }
    read = 0
    while read < MAX_MESSAGES:
        page = _table().query(**query, Limit=min(500, MAX_MESSAGES - read))
        read += len(page["Items"])
        for item in page["Items"]:
            if item.get("direction") == "in":
                second = str(item["sk"])[len(MESSAGE_PREFIX) :].split("#", 1)[0]
                text = item.get("text")
                yield int(second), text if isinstance(text, str) else None
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def chats_of_client(client_user_id: str) -> list[dict[str, Any]]:
    """Every stored chat (any account) whose other party is Avito user ``client_user_id``."""
    keys: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "IndexName": BY_CLIENT,
        "KeyConditionExpression": Key("clientUserId").eq(client_user_id),
    }
    while len(keys) < MAX_OTHER_CHATS:
        page = _table().query(**query)
        keys.extend({"pk": item["pk"], "sk": CHAT_SK} for item in page["Items"] if item.get("sk") == CHAT_SK)
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return dynamo.batch_get(
        get_settings().messenger_table,
        keys[:MAX_OTHER_CHATS],
        projection="accountId, chatId, itemTitle, updatedAt, lastMessage",
    )
