"""Stored chats and messages (table ``MessengerTable``, keys ``pk``/``sk``).

| access pattern                            | key / index                                                   |
|-------------------------------------------|---------------------------------------------------------------|
| chat by id                                | pk ``CHAT#<chatId>``, sk ``CHAT``                             |
| a chat's messages, oldest first, by page  | pk ``CHAT#<chatId>``, sk ``MSG#<created:012d>#<messageId>``   |
| a message stored at most once             | put with ``attribute_not_exists(pk)`` on the message key      |
| an account's chats, newest activity first | GSI ``byAccount``: ``accountPk`` = ``ACCOUNT#<accountId>``    |
| all chats, newest activity first          | GSI ``byActivity``: ``allPk`` = ``CHATS``                     |
| an account's unread chats                 | sparse GSI ``unreadByAccount``: ``unreadAccountPk``           |
| all unread chats                          | sparse GSI ``unreadAll``: ``unreadPk`` = ``UNREAD``           |
| delete an account's data                  | GSI ``byAccount``, then Query each chat's partition           |

The GSIs sort by ``activitySk`` (read descending); the unread ones hold a chat only while ``unreadCount`` > 0.

``activitySk`` is ``<updatedAt ISO>#<chatId>``: ISO times of one width sort like the times themselves, and
the id keeps keys unique. A chat also carries ``updatedTs`` (unix s) and ``lastMessageSk`` (the sort key
of its last message) so writes can say "only if newer" in a condition: activity and the last message never
go backwards, whatever order Avito's listings and webhook deliveries arrive in.

A message is written together with its chat's update in one transaction (put the message if absent,
update the chat), so a message counts towards ``unreadCount`` exactly once, however often and however
concurrently it is delivered. ``content`` is kept as a JSON string (``contentJson``): Avito's objects
hold floats (locations) that DynamoDB's number type would not round-trip.
"""

from __future__ import annotations

import functools
import json
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from avito_service import aws, clock
from avito_service.accounts import service as accounts_service
from avito_service.accounts.models import Account
from avito_service.accounts.repository import account_key
from avito_service.config import get_settings
from avito_service.cursors import decode_cursor, encode_cursor
from avito_service.errors import NotFound, ValidationFailed
from avito_service.messenger.models import (
    Chat,
    Direction,
    LastMessage,
    Message,
    chat_from_avito,
    message_from_avito,
)
from avito_service.observability import logger

CHAT_SK = "CHAT"
MESSAGE_PREFIX = "MSG#"
ALL_PK = "CHATS"
UNREAD_PK = "UNREAD"
BY_ACCOUNT = "byAccount"
BY_ACTIVITY = "byActivity"
UNREAD_BY_ACCOUNT = "unreadByAccount"
UNREAD_ALL = "unreadAll"
WRITE_ATTEMPTS = 8


def chat_pk(chat_id: str) -> str:
    return f"CHAT#{chat_id}"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def message_sk(created: int, message_id: str) -> str:
    return f"{MESSAGE_PREFIX}{created:012d}#{message_id}"


def activity_sk(updated_at: str, chat_id: str) -> str:
    return f"{updated_at}#{chat_id}"


def _sk_of(message: Message | LastMessage) -> str:
    return message_sk(int(clock.from_iso(message.createdAt)), message.id)


class StoreContention(Exception):
    """A chat kept changing under a write for WRITE_ATTEMPTS attempts (answered as an unexpected error)."""


# --- items <-> models --------------------------------------------------------------------------------------


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def message_item(message: Message) -> dict[str, Any]:
    fields = message.model_dump(mode="json", exclude={"content"})
    return _without_none(
        {
            "pk": chat_pk(message.chatId),
            "sk": _sk_of(message),
            **fields,
            "contentJson": json.dumps(message.content, ensure_ascii=False, separators=(",", ":")),
        },
    )


def message_from_item(item: Mapping[str, Any]) -> Message:
    fields = {name: item.get(name) for name in Message.model_fields if item.get(name) is not None}
    fields["content"] = json.loads(item["contentJson"]) if item.get("contentJson") else None
    return Message.model_validate(fields)


def chat_from_item(item: Mapping[str, Any]) -> Chat:
    fields = {name: item.get(name) for name in Chat.model_fields if item.get(name) is not None}
    fields["unreadCount"] = int(item.get("unreadCount", 0))
    return Chat.model_validate(fields)


# --- one conditional change of a chat ----------------------------------------------------------------------

_GUESS = object()  # "assume our write is the newest"; the actual state is looked at only when that guess is wrong
_DESERIALIZER = TypeDeserializer()
_SERIALIZER = TypeSerializer()
SEEN_CHATS_MAX = 10_000  # chats whose newest known activity a warm container remembers
STORED_MESSAGES_MAX = 20_000  # message keys a warm container remembers as stored


@dataclass
class _ChatChange:
    """What a write does to a chat item; ``activity`` and ``last`` apply only if newer than what is stored."""

    chat_id: str
    updated_ts: int
    always: dict[str, Any] = field(default_factory=dict)
    if_missing: dict[str, Any] = field(default_factory=dict)
    last: LastMessage | None = None
    unread_increment: int = 0

    def params(self, observed: Any) -> dict[str, Any]:
        """UpdateItem parameters (Python values) for the chat as ``observed``: an item as read (or lower bounds of
        its ``updatedTs``/``lastMessageSk``), None (no item), or _GUESS. ``observed`` only picks which fields to
        set; the condition makes the write fail, never go wrong, when it does not match what is stored."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}

        def n(attr: str) -> str:
            alias = f"#{attr}"
            names[alias] = attr
            return alias

        def v(value: Any) -> str:
            alias = f":v{len(values)}"
            values[alias] = value
            return alias

        last_sk = _sk_of(self.last) if self.last else None
        if observed is _GUESS or observed is None:
            set_activity, set_last = True, self.last is not None
        else:
            set_activity = int(observed.get("updatedTs", -1)) <= self.updated_ts
            set_last = last_sk is not None and str(observed.get("lastMessageSk", "")) <= last_sk

        sets = [f"{n(k)} = {v(val)}" for k, val in self.always.items() if val is not None]
        sets += [f"{n(k)} = if_not_exists({n(k)}, {v(val)})" for k, val in self.if_missing.items() if val is not None]
        if set_activity:
            updated_at = clock.iso(self.updated_ts)
            sets += [
                f"{n('updatedTs')} = {v(self.updated_ts)}",
                f"{n('updatedAt')} = {v(updated_at)}",
                f"{n('activitySk')} = {v(activity_sk(updated_at, self.chat_id))}",
            ]
        if set_last and self.last is not None:
            sets += [
                f"{n('lastMessage')} = {v(self.last.model_dump(mode='json'))}",
                f"{n('lastMessageSk')} = {v(last_sk)}",
            ]
        adds = []
        if self.unread_increment:
            account_id = self.always.get("accountId") or self.if_missing["accountId"]
            adds.append(f"{n('unreadCount')} {v(self.unread_increment)}")
            sets += [f"{n('unreadAccountPk')} = {v(account_pk(account_id))}", f"{n('unreadPk')} = {v(UNREAD_PK)}"]
        else:
            sets.append(f"{n('unreadCount')} = if_not_exists({n('unreadCount')}, {v(0)})")

        # The condition is exactly "the choice above is right for what is stored now", so a write is correct
        # whatever ``observed`` was (a guess, a stale read, a lower bound). updatedTs and lastMessageSk only
        # grow, so "stored is newer than ours" stays true once true: a write that leaves them alone because
        # they are newer never has to be retried; one that moves them forward fails if a newer one won.
        if set_activity:
            conditions = [f"(attribute_not_exists({n('updatedTs')}) OR {n('updatedTs')} <= {v(self.updated_ts)})"]
        else:
            conditions = [f"{n('updatedTs')} > {v(self.updated_ts)}"]
        if last_sk is not None:
            if set_last:
                conditions.append(
                    f"(attribute_not_exists({n('lastMessageSk')}) OR {n('lastMessageSk')} <= {v(last_sk)})"
                )
            else:
                conditions.append(f"{n('lastMessageSk')} > {v(last_sk)}")
        condition = " AND ".join(conditions)

        update = "SET " + ", ".join(sets) + (" ADD " + ", ".join(adds) if adds else "")
        return {
            "Key": {"pk": chat_pk(self.chat_id), "sk": CHAT_SK},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }


def _message_change(message: Message, *, item_id: str | None = None, chat_type: str | None = None) -> _ChatChange:
    """The chat update that goes with storing ``message`` (creating a minimal chat if it is unknown)."""
    incoming = message.direction is Direction.IN
    return _ChatChange(
        chat_id=message.chatId,
        updated_ts=int(clock.from_iso(message.createdAt)),
        if_missing={
            "id": message.chatId,
            "accountId": message.accountId,
            "accountPk": account_pk(message.accountId),
            "allPk": ALL_PK,
            "createdAt": message.createdAt,
            "itemId": item_id,
            "chatType": chat_type,
            "clientUserId": message.authorId if incoming else None,
        },
        last=message.summary(),
        unread_increment=1 if incoming and not message.isRead else 0,
    )


def _cancellation_codes(exc: ClientError) -> list[str]:
    return [str(reason.get("Code", "None")) for reason in exc.response.get("CancellationReasons", [])]


_ORDER_FIELDS = ("updatedTs", "lastMessageSk")


def _wire(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values -> DynamoDB AttributeValues (what the resource's client would send for them)."""
    return {name: _SERIALIZER.serialize(value) for name, value in values.items()}


def _order_fields(item: Mapping[str, Any], *, wire: bool = False) -> dict[str, Any]:
    """``updatedTs`` and ``lastMessageSk`` of a chat item; ``wire``: the item is in DynamoDB's wire format
    (a cancellation's ALL_OLD item: the resource's client does not convert error responses)."""
    if wire:
        return {name: _DESERIALIZER.deserialize(item[name]) for name in _ORDER_FIELDS if name in item}
    return {name: item[name] for name in _ORDER_FIELDS if name in item}


def _remember(cache: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Insert into a bounded dict, dropping the oldest entry when full (callers hold the store's lock)."""
    cache.pop(key, None)
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not cryptography


# --- the store ---------------------------------------------------------------------------------------------


class ChatStore:
    """Chats and messages of every account. Clients come from ``aws`` (cached there), never at construction.

    A store (one per warm container, see ``chat_store``) remembers two things that only save round trips and
    never decide an outcome: lower bounds of each chat's ``updatedTs``/``lastMessageSk`` it has seen (which
    chat update an out-of-order message needs; the write's condition still checks it), and the keys of
    messages it has seen stored (messages are only ever deleted with their account's data)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self._lock = threading.Lock()
        self._seen_chats: dict[str, dict[str, Any]] = {}  # chat id -> lower bounds of updatedTs / lastMessageSk
        self._stored: dict[tuple[str, str, str], None] = {}  # (accountId, chatId, message sk), oldest first

    def _table(self) -> Any:
        return aws.table(self.table_name)

    # --- writes ---------------------------------------------------------------------------------------

    def save_chats(self, account_id: str, user_id: str | None, avito_chats: Iterable[Mapping[str, Any]]) -> list[Chat]:
        """Upsert chats from an Avito listing (idempotent). Item and client details follow Avito; ``updatedAt``
        and ``lastMessage`` only move forward; ``unreadCount`` is ours (Avito does not give it per chat)."""
        saved = []
        for raw in avito_chats:
            chat = chat_from_avito(account_id, user_id, raw)
            change = _ChatChange(
                chat_id=chat.id,
                updated_ts=int(clock.from_iso(chat.updatedAt or chat.createdAt or clock.iso())),
                always={
                    "id": chat.id,
                    "accountId": account_id,
                    "accountPk": account_pk(account_id),
                    "allPk": ALL_PK,
                    "itemId": chat.itemId,
                    "itemTitle": chat.itemTitle,
                    "itemUrl": chat.itemUrl,
                    "clientName": chat.clientName,
                    "clientUserId": chat.clientUserId,
                    "createdAt": chat.createdAt,
                },
                last=chat.lastMessage,
            )
            saved.append(chat_from_item(self._write(change)))
        return saved

    def save_messages(
        self, account_id: str, user_id: str | None, chat_id: str, avito_messages: Iterable[Mapping[str, Any]]
    ) -> list[Message]:
        """Store messages from an Avito listing; each at most once (one Query finds those already stored)."""
        messages = [message_from_avito(account_id, user_id, chat_id, raw) for raw in avito_messages]
        if not messages:
            return []
        keys = sorted(_sk_of(m) for m in messages)
        stored = {
            item["sk"]
            for item in self._query_all(
                KeyConditionExpression=Key("pk").eq(chat_pk(chat_id)) & Key("sk").between(keys[0], keys[-1]),
                ProjectionExpression="sk",
            )
        }
        new = [m for m in messages if _sk_of(m) not in stored]
        for message in sorted(new, key=_sk_of):
            self._store_message(message, _message_change(message))
        if new:
            logger.info("Messages stored", extra={"account_id": account_id, "chat_id": chat_id, "count": len(new)})
        return messages

    def save_sent_message(
        self, account_id: str, chat_id: str, message: Mapping[str, Any], *, user_id: str | None = None
    ) -> Message:
        """Store the answer of Avito's send call as an outgoing message and make it the chat's last message."""
        raw = {**message, "direction": Direction.OUT.value}
        if user_id is not None and raw.get("author_id") is None:
            raw["author_id"] = user_id
        sent = message_from_avito(account_id, user_id, chat_id, raw)
        self._store_message(sent, _message_change(sent))
        return sent

    def record_delivery(self, account_id: str, user_id: str, delivery_value: Mapping[str, Any]) -> bool:
        """Store a webhook delivery's message and update its chat in one transaction.

        Returns False when the message was stored before (a duplicate delivery changes nothing)."""
        message = message_from_avito(account_id, user_id, str(delivery_value["chat_id"]), delivery_value)
        item_id = delivery_value.get("item_id")
        change = _message_change(
            message,
            item_id=str(item_id) if item_id not in (None, "", 0) else None,
            chat_type=delivery_value.get("chat_type"),
        )
        return self._store_message(message, change, account_must_exist=True)

    def mark_chat_read(self, chat_id: str) -> Chat | None:
        """Incoming messages read, ``unreadCount`` 0, off the unread indexes; None if the chat is not stored.

        The reset is conditional on the count we read, so a message delivered meanwhile is not lost."""
        for attempt in range(WRITE_ATTEMPTS):
            chat = self._get_chat_item(chat_id)
            if chat is None:
                return None
            unread = self._query_all(
                KeyConditionExpression=Key("pk").eq(chat_pk(chat_id)) & Key("sk").begins_with(MESSAGE_PREFIX),
                FilterExpression=Attr("isRead").eq(False) & Attr("direction").eq(Direction.IN.value),
                ProjectionExpression="pk, sk",
            )
            for key in unread:
                self._table().update_item(
                    Key={"pk": key["pk"], "sk": key["sk"]},
                    UpdateExpression="SET isRead = :true",
                    ExpressionAttributeValues={":true": True},
                )
            try:
                answer = self._table().update_item(
                    Key={"pk": chat_pk(chat_id), "sk": CHAT_SK},
                    UpdateExpression="SET unreadCount = :zero REMOVE unreadAccountPk, unreadPk",
                    ConditionExpression="unreadCount = :seen",
                    ExpressionAttributeValues={":zero": 0, ":seen": chat.get("unreadCount", 0)},
                    ReturnValues="ALL_NEW",
                )
                return chat_from_item(answer["Attributes"])
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                _backoff(attempt)
        raise StoreContention(f"chat {chat_id} kept changing while it was marked read")

    def delete_account_data(self, account_id: str) -> int:
        """Delete every chat of the account with its messages; returns the number of chats."""
        chats = 0
        with self._table().batch_writer() as batch:
            for chat in self._query_all(
                IndexName=BY_ACCOUNT,
                KeyConditionExpression=Key("accountPk").eq(account_pk(account_id)),
                ProjectionExpression="pk",
            ):
                chats += 1
                for key in self._query_all(
                    KeyConditionExpression=Key("pk").eq(chat["pk"]), ProjectionExpression="pk, sk"
                ):
                    batch.delete_item(Key={"pk": key["pk"], "sk": key["sk"]})
        self._forget_seen()  # the only deletion of messages: what this container saw stored is gone
        logger.info("Stored chats deleted", extra={"account_id": account_id, "chats": chats})
        return chats

    # --- reads ----------------------------------------------------------------------------------------

    def get_chat(self, chat_id: str) -> Chat:
        item = self._get_chat_item(chat_id)
        if item is None:
            raise NotFound(f"No stored chat with id '{chat_id[:200]}'.", code="chat_not_found")
        return chat_from_item(item)

    def list_chats(
        self, account_id: str | None, unread_only: bool, limit: int, cursor: str | None
    ) -> tuple[list[Chat], str | None]:
        """Chats, newest activity first, optionally of one account and/or only unread ones."""
        if account_id is not None:
            index, pk_attr, pk_value = (
                (UNREAD_BY_ACCOUNT, "unreadAccountPk", account_pk(account_id))
                if unread_only
                else (BY_ACCOUNT, "accountPk", account_pk(account_id))
            )
        else:
            index, pk_attr, pk_value = (
                (UNREAD_ALL, "unreadPk", UNREAD_PK) if unread_only else (BY_ACTIVITY, "allPk", ALL_PK)
            )
        items, next_cursor = self._page(
            {"IndexName": index, "KeyConditionExpression": Key(pk_attr).eq(pk_value), "ScanIndexForward": False},
            key_attrs=("pk", "sk", pk_attr, "activitySk"),
            partition=(pk_attr, pk_value),
            limit=limit,
            cursor=cursor,
        )
        return [chat_from_item(i) for i in items], next_cursor

    def list_messages(self, chat_id: str, limit: int, cursor: str | None) -> tuple[list[Message], str | None]:
        """A stored chat's messages, oldest first; 404 ``chat_not_found`` for a chat we do not have."""
        items, next_cursor = self._page(
            {
                "KeyConditionExpression": Key("pk").eq(chat_pk(chat_id)) & Key("sk").begins_with(MESSAGE_PREFIX),
                "ScanIndexForward": True,
            },
            key_attrs=("pk", "sk"),
            partition=("pk", chat_pk(chat_id)),
            limit=limit,
            cursor=cursor,
        )
        if not items and not cursor:
            self.get_chat(chat_id)  # an empty chat is an empty list; an unknown one is a 404
        return [message_from_item(i) for i in items], next_cursor

    # --- internals ------------------------------------------------------------------------------------

    def _get_chat_item(self, chat_id: str) -> dict[str, Any] | None:
        return self._table().get_item(Key={"pk": chat_pk(chat_id), "sk": CHAT_SK}, ConsistentRead=True).get("Item")

    def _query_all(self, **query: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._table().query(**query)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _page(
        self,
        query: dict[str, Any],
        *,
        key_attrs: tuple[str, ...],
        partition: tuple[str, str],
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page; asks for one item more than ``limit`` so the last page has no cursor."""
        start = decode_cursor(cursor, required_keys=key_attrs)
        if start:
            if start[partition[0]] != partition[1] or not all(isinstance(v, str) for v in start.values()):
                raise ValidationFailed.on("cursor", "Not a cursor of this list.")
            query["ExclusiveStartKey"] = start
        items: list[dict[str, Any]] = []
        query["Limit"] = limit + 1
        while len(items) <= limit:
            page = self._table().query(**query)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if len(items) <= limit:
            return items, None
        items = items[:limit]
        return items, encode_cursor({attr: items[-1][attr] for attr in key_attrs})

    def _write(self, change: _ChatChange) -> dict[str, Any]:
        """Apply a chat change without a message (UpdateItem); returns the chat item."""
        observed: Any = _GUESS
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return self._table().update_item(ReturnValues="ALL_NEW", **change.params(observed))["Attributes"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                if observed is not _GUESS:
                    _backoff(attempt)
                observed = self._get_chat_item(change.chat_id)
        raise StoreContention(f"chat {change.chat_id} kept changing while it was saved")

    def _store_message(self, message: Message, change: _ChatChange, *, account_must_exist: bool = False) -> bool:
        """Put the message if absent and update its chat, in one transaction; False if it was stored before.

        Usually one TransactWriteItems: a message this store has seen stored is answered without a call, and
        the chat update is picked from what the store last saw of the chat (an older message leaves activity
        and ``lastMessage`` alone under a condition that stays true). If the chat's condition fails anyway
        (another container moved it forward), the cancellation carries the chat as stored (ALL_OLD), so the
        retry needs no read.

        ``account_must_exist`` adds a ConditionCheck on the account's record to the transaction: a webhook
        delivery that reaches a container which verified the account's token shortly before the account was
        deleted elsewhere stores nothing (NotFound), instead of recreating chats of a deleted account."""
        key = (message.accountId, message.chatId, _sk_of(message))
        if key in self._stored:
            return False  # stored before, by this container
        client = aws.dynamodb_low_level_client()  # AttributeValues, serialised here once per value
        put = {
            "TableName": self.table_name,
            "Item": _wire(message_item(message)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        account_check = []
        if account_must_exist:
            account_check.append(
                {
                    "ConditionCheck": {
                        "TableName": get_settings().accounts_table,
                        "Key": _wire(account_key(message.accountId)),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            )
        observed: Any = self._seen_chats.get(change.chat_id, _GUESS)
        exact = False  # whether ``observed`` is the chat as read (a failure then means a concurrent change)
        for attempt in range(WRITE_ATTEMPTS):
            params = change.params(observed)
            update = {
                "TableName": self.table_name,
                **params,
                "Key": _wire(params["Key"]),
                "ExpressionAttributeValues": _wire(params["ExpressionAttributeValues"]),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            try:
                client.transact_write_items(TransactItems=[{"Put": put}, {"Update": update}, *account_check])
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = _cancellation_codes(exc)
                if account_check and len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
                    raise NotFound("No account with this id.", code="account_not_found") from None
                chat_failed = len(codes) > 1 and codes[1] == "ConditionalCheckFailed"
                stored_chat = exc.response["CancellationReasons"][1].get("Item") if chat_failed else None
                if stored_chat:
                    self._remember_chat(change.chat_id, _order_fields(stored_chat, wire=True))
                if codes and codes[0] == "ConditionalCheckFailed":
                    self._remember_stored(key)
                    return False  # the message is stored already: a duplicate
                if chat_failed:  # older than what is stored, or a newer write won meanwhile
                    if exact:
                        _backoff(attempt)
                    if stored_chat:
                        observed = _order_fields(stored_chat, wire=True)
                    else:  # no ALL_OLD item: the chat is gone (its account's data deleted), or read it
                        observed = self._get_chat_item(change.chat_id)
                        self._remember_chat(change.chat_id, observed or {})
                    exact = True
                elif "TransactionConflict" in codes:
                    _backoff(attempt)  # a concurrent write of the same items: try again
                else:
                    raise
                continue
            self._remember_stored(key)
            self._remember_chat(change.chat_id, self._after(change, observed))
            return True
        raise StoreContention(f"chat {change.chat_id} kept changing while message {message.id} was stored")

    # --- what this container has seen (saves round trips, never decides an outcome) -------------------------

    def _remember_stored(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            _remember(self._stored, key, None, STORED_MESSAGES_MAX)

    def _remember_chat(self, chat_id: str, order_fields: Mapping[str, Any]) -> None:
        with self._lock:
            _remember(self._seen_chats, chat_id, _order_fields(order_fields), SEEN_CHATS_MAX)

    @staticmethod
    def _after(change: _ChatChange, observed: Any) -> dict[str, Any]:
        """Lower bounds of the chat's order fields after ``change`` was applied on top of ``observed``."""
        before = observed if isinstance(observed, Mapping) else {}
        after = {"updatedTs": max(int(before.get("updatedTs", -1)), change.updated_ts)}
        last_sk = _sk_of(change.last) if change.last else None
        known_sk = before.get("lastMessageSk")
        candidates = [str(sk) for sk in (known_sk, last_sk) if sk]
        if candidates:
            after["lastMessageSk"] = max(candidates)
        return after

    def _forget_seen(self) -> None:
        with self._lock:
            self._seen_chats.clear()
            self._stored.clear()

    # --- deleted messages (Messenger, issue 15): a separate method, kept apart from the store's core ---------

    def get_message(self, account_id: str, chat_id: str, message_id: str) -> Message | None:
        """The account's stored message by id, or None (a Query of the chat's messages, filtered by id)."""
        for item in self._query_all(
            KeyConditionExpression=Key("pk").eq(chat_pk(chat_id)) & Key("sk").begins_with(MESSAGE_PREFIX),
            FilterExpression=Attr("id").eq(message_id) & Attr("accountId").eq(account_id),
        ):
            return message_from_item(item)
        return None

    def mark_message_deleted(self, account_id: str, chat_id: str, message_id: str) -> Message | None:
        """Store the message as Avito keeps a deleted one (``type: deleted``, empty content, no text); when it is
        the chat's last message, the chat's ``lastMessage`` says so too. None if the message is not stored."""
        stored = self.get_message(account_id, chat_id, message_id)
        if stored is None:
            return None
        deleted = stored.model_copy(update={"type": "deleted", "text": None, "content": {}})
        sk = _sk_of(deleted)
        try:
            self._table().update_item(
                Key={"pk": chat_pk(chat_id), "sk": sk},
                UpdateExpression="SET #type = :deleted, contentJson = :empty REMOVE #text",
                ConditionExpression="attribute_exists(pk) AND accountId = :account",
                ExpressionAttributeNames={"#type": "type", "#text": "text"},
                ExpressionAttributeValues={":deleted": "deleted", ":empty": "{}", ":account": account_id},
            )
            self._table().update_item(
                Key={"pk": chat_pk(chat_id), "sk": CHAT_SK},
                UpdateExpression="SET lastMessage = :summary",
                ConditionExpression="lastMessageSk = :sk AND accountId = :account",
                ExpressionAttributeValues={
                    ":summary": deleted.summary().model_dump(mode="json"),
                    ":sk": sk,
                    ":account": account_id,
                },
            )
        except ClientError as exc:  # the message is gone, or it is not the chat's last message: nothing more to do
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        return deleted


@functools.cache
def chat_store() -> ChatStore:
    """The store of the configured MessengerTable (created on first use, not at import)."""
    return ChatStore(get_settings().messenger_table)


def _delete_account_chats(account: Account) -> None:
    chat_store().delete_account_data(account.id)


@functools.cache
def register_account_cleanup() -> None:
    """Make deleting an account delete its stored chats and messages (idempotent; call from the delete handler)."""
    accounts_service.on_delete(_delete_account_chats)
