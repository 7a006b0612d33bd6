"""Stored chats and messages of every account (table ``MessengerTable``, keys ``pk``/``sk``).

| access pattern                            | key / index                                                    |
|-------------------------------------------|----------------------------------------------------------------|
| a chat of an account                      | pk ``ACCOUNT#<accountId>#CHAT#<chatId>``, sk ``CHAT``          |
| its messages, oldest first, by page       | same pk, sk ``MSG#<created:012d>#<messageId>``                 |
| a message stored at most once, by its id  | guard item, sk ``MSGID#<messageId>`` (``messageSk``): put with |
|                                           | the message, both ``attribute_not_exists(pk)``, one transaction |
| which accounts hold a chat id             | sparse GSI ``byChatId``: ``chatLookup``, ``accountId`` (chats) |
| an account's chats, newest activity first | GSI ``byAccount``: ``accountPk`` = ``ACCOUNT#<accountId>``     |
| an account's unread chats                 | sparse GSI ``unreadByAccount``: ``unreadAccountPk``            |
| all chats, newest activity first          | GSI ``byActivity``: ``allPk`` = ``CHATS#<00-15>``, merged      |
| all unread chats                          | sparse GSI ``unreadAll``: ``unreadPk`` = ``UNREAD#<00-15>``    |
| delete an account's data                  | GSI ``byAccount``, then Query each chat's partition            |

The GSIs sort by ``activitySk`` = ``<updatedAt ISO>#<accountId>#<chatId>`` (read descending); the unread ones
hold a chat only while ``unreadCount`` > 0. The shard of a chat is a hash of (account, chat): 1,000
deliveries/s spread over 16 partitions of ``byActivity``/``unreadAll`` (~250 WCU/s each, a partition takes
1,000); ``messenger.inbox`` merges the shards. ``byAccount``/``unreadByAccount`` stay one partition per
account: one account alone can take ~250-500 deliveries/s.

Unread state lives on the chat: ``unreadCount`` and the read marker ``readUpTo`` (the sort key of the newest
message read). Marking a chat read is one UpdateItem however long the chat is, conditional on the chat
existing; a message is read when Avito said so or when it is incoming and not after ``readUpTo``. An incoming
message counts towards ``unreadCount`` once (it is stored at most once, in the same transaction) and only
when it is newer than ``readUpTo`` (``messenger.changes``).

A message's identity is its id alone: the sort key holds ``created`` (for paging in time order), and two sources
may disagree on it (a webhook delivery, a listing, a keep-alive's backfill, a send's answer stored at our clock's
time). The id's guard item is written in the same transaction as the message, conditional on being absent, so
whichever source comes second stores nothing and announces nothing, concurrent arrivals included.

Every write names the account in a ConditionCheck of the same transaction: once an account is deleted, no
listing, delivery, send or keep-alive writes anything for it (``accounts.service.delete_account``).
``content`` is kept as a JSON string (``contentJson``): Avito's objects hold floats (locations) that
DynamoDB's number type would not round-trip.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from avito_service import aws, clock, dynamo
from avito_service.accounts.store import account_key, deleted_account_ids
from avito_service.config import get_settings
from avito_service.dynamo import from_wire, to_wire
from avito_service.errors import NotFound, ValidationFailed
from avito_service.messenger import inbox
from avito_service.messenger.changes import GUESS, ChatChange, message_change, messages_change, order_fields
from avito_service.messenger.items import (
    BY_ACCOUNT,
    BY_ACTIVITY,
    BY_CHAT_ID,
    CHAT_SK,
    MESSAGE_PREFIX,
    NO_MESSAGE_SK,
    UNREAD_ALL,
    UNREAD_BY_ACCOUNT,
    account_pk,
    all_pk,
    chat_from_item,
    chat_pk,
    message_from_item,
    message_id_item,
    message_id_sk,
    message_item,
    message_sk,
    sk_of,
    unread_pk,
)
from avito_service.messenger.models import Chat, Direction, Message, SentBy, chat_from_avito, message_from_avito
from avito_service.observability import logger
from avito_service.workflow import messages as workflow

__all__ = ["ChatStore", "StoreContention", "chat_from_item", "chat_store", "message_from_item"]

WRITE_ATTEMPTS = 8
SEEN_CHATS_MAX = 10_000  # chats whose newest known order fields a warm container remembers
STORED_MESSAGES_MAX = 20_000  # message keys a warm container remembers as stored
# TransactWriteItems takes 100 items: each message and its id's guard, their chat and the account (2 x 49 + 2)
MESSAGES_PER_TRANSACTION = 49
# A listed message is joined to its stored sender by id within this many seconds of its time: a send Avito answered
# without a time was stored at our clock's time (``messenger.service.store_sent``), a little off Avito's.
SENT_TIME_SLACK = 120
ALL_CHATS = inbox.ShardedIndex(BY_ACTIVITY, "allPk", all_pk, "all")
ALL_UNREAD = inbox.ShardedIndex(UNREAD_ALL, "unreadPk", unread_pk, "unread")


class StoreContention(Exception):
    """A chat kept changing under a write for WRITE_ATTEMPTS attempts (answered as an unexpected error)."""


def _account_gone() -> NotFound:
    return NotFound("No account with this id.", code="account_not_found")


def _remember(cache: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Insert into a bounded dict, dropping the oldest entry when full (callers hold the store's lock)."""
    cache.pop(key, None)
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _message_key(message: Message) -> tuple[str, str, str]:
    return (message.accountId, message.chatId, message.id)  # a message's identity is its id, not its time


def _account_check(account_id: str) -> dict[str, Any]:
    """The ConditionCheck every write carries: the account still exists."""
    return {
        "ConditionCheck": {
            "TableName": get_settings().accounts_table,
            "Key": to_wire(account_key(account_id)),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


def _with_senders(messages: list[Message], stored_items: Iterable[Mapping[str, Any]]) -> list[Message]:
    """``messages`` of an Avito listing with the ``sentBy`` stored for the same message id (a message sent through
    the service was stored with its sender when it was sent; Avito's listing does not know the sender)."""
    senders = {str(item.get("id")): item["sentBy"] for item in stored_items if item.get("sentBy")}
    if not senders:
        return messages
    return [
        m.model_copy(update={"sentBy": SentBy.model_validate(senders[m.id])}) if m.id in senders else m
        for m in messages
    ]


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not cryptography


class ChatStore:
    """Chats and messages of every account. Clients come from ``aws`` (cached there), never at construction.

    A store (one per warm container, see ``chat_store``) remembers two things that only save round trips and
    never decide an outcome: lower bounds of each chat's order fields it has seen (which chat update an
    out-of-order message needs; the write's condition still checks it), and the keys of messages it has seen
    stored (messages are only ever deleted with their account's data, which also clears this memory)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self._lock = threading.Lock()
        self._seen_chats: dict[tuple[str, str], dict[str, Any]] = {}  # (account, chat) -> order field bounds
        self._stored: dict[tuple[str, str, str], None] = {}  # (accountId, chatId, message id), oldest first

    def _table(self) -> Any:
        return aws.table(self.table_name)

    # --- writes ---------------------------------------------------------------------------------------

    def save_chats(self, account_id: str, user_id: str | None, avito_chats: Iterable[Mapping[str, Any]]) -> list[Chat]:
        """Upsert chats from an Avito listing (idempotent). Item and client details follow Avito; ``updatedAt``
        and ``lastMessage`` only move forward; ``unreadCount`` is ours (Avito does not give it per chat).
        404 ``account_not_found`` (nothing written) once the account is deleted."""
        ids = []
        for raw in avito_chats:
            chat = chat_from_avito(account_id, user_id, raw)
            change = ChatChange(
                account_id=account_id,
                chat_id=chat.id,
                updated_ts=int(clock.from_iso(chat.updatedAt or chat.createdAt or clock.iso())),
                always={
                    "itemId": chat.itemId,
                    "itemTitle": chat.itemTitle,
                    "itemUrl": chat.itemUrl,
                    "itemPrice": chat.itemPrice,
                    "clientName": chat.clientName,
                    "clientUserId": chat.clientUserId,
                    "createdAt": chat.createdAt,
                },
                last=chat.lastMessage,
            )
            self._transact(change)
            ids.append(chat.id)
        return self._get_chats(account_id, ids)

    def save_messages(
        self,
        account_id: str,
        user_id: str | None,
        chat_id: str,
        avito_messages: Iterable[Mapping[str, Any]],
        *,
        announce_new_chat: bool = False,
    ) -> list[Message]:
        """Store messages from an Avito listing; each at most once (one Query finds those already stored), the new
        ones together with one chat update (``MESSAGES_PER_TRANSACTION`` a transaction).

        Only a new incoming unread message newer than the chat's stored last message is announced
        (``notify``): opening an old chat stores its history without a chime for each message.
        ``announce_new_chat``: a chat not stored yet announces its new incoming unread messages too (the
        reconciliation found a new chat whose first delivery was lost, ``online.reconcile``)."""
        messages = [message_from_avito(account_id, user_id, chat_id, raw) for raw in avito_messages]
        if not messages:
            return []
        times = sorted(int(clock.from_iso(m.createdAt)) for m in messages)
        stored_items = list(
            self._query_all(
                KeyConditionExpression=Key("pk").eq(chat_pk(account_id, chat_id))
                & Key("sk").between(
                    message_sk(max(0, times[0] - SENT_TIME_SLACK), ""), message_sk(times[-1] + SENT_TIME_SLACK, "~")
                ),
                ProjectionExpression="sk, #id, sentBy",
                ExpressionAttributeNames={"#id": "id"},
            )
        )
        stored = {str(item.get("id")) for item in stored_items}  # near in time; any other copy: its id's guard
        messages = _with_senders(messages, stored_items)
        new = sorted({m.id: m for m in messages if m.id not in stored}.values(), key=sk_of)
        if not new:
            return messages
        chat = self._get_chat_item(account_id, chat_id)  # one read: how far the chat was known
        if chat is not None:
            self._remember_chat((account_id, chat_id), order_fields(chat))
        known_last = str((chat or {}).get("lastMessageSk") or "")
        announce_all = announce_new_chat and chat is None
        notify = {
            sk_of(m)
            for m in new
            if (announce_all or (known_last and sk_of(m) > known_last)) and m.direction is Direction.IN and not m.isRead
        }
        for start in range(0, len(new), MESSAGES_PER_TRANSACTION):
            chunk = new[start : start + MESSAGES_PER_TRANSACTION]
            stored_now = self._transact(messages_change(chunk), chunk, notify=notify, rebuild=messages_change)
            workflow.on_stored(account_id, chat_id, stored_now)
        logger.info("Messages stored", extra={"chat_id": chat_id, "new": len(new), "seen": len(messages)})
        return messages

    def save_sent_message(
        self,
        account_id: str,
        chat_id: str,
        message: Mapping[str, Any],
        *,
        user_id: str | None = None,
        sent_by: SentBy | None = None,
        automatic: bool = False,
    ) -> Message:
        """Store the answer of Avito's send call as an outgoing message and make it the chat's last message,
        with the user who sent it (``sentBy``). When the message is stored already (Avito's webhook echo or a
        listing got there first) without a sender, the sender is added to it.

        ``automatic`` (an automatic reply): stored with ``automatic: true``; when Avito's webhook delivered the
        message first (stored without the flag), the flag is set on the stored message."""
        raw = {**message, "direction": Direction.OUT.value}
        if user_id is not None and raw.get("author_id") is None:
            raw["author_id"] = user_id
        sent = message_from_avito(account_id, user_id, chat_id, raw).model_copy(update={"sentBy": sent_by})
        if automatic:
            sent = sent.model_copy(update={"automatic": True})
        stored = self._transact(message_change(sent), [sent])
        workflow.on_stored(account_id, chat_id, stored)
        if not stored and (sent_by is not None or automatic):
            stored_sk = self._stored_sk(sent)  # the copy stored first may carry another time than this answer
            if sent_by is not None:
                self._add_sender(sent, sent_by, stored_sk)
            if automatic:
                self._mark_automatic(sent, stored_sk)
        return sent

    def _stored_sk(self, message: Message) -> str:
        """The sort key ``message``'s id is stored under (its guard's ``messageSk``; a message stored before the
        guards existed is found under its own time)."""
        key = {"pk": chat_pk(message.accountId, message.chatId), "sk": message_id_sk(message.id)}
        guard = self._table().get_item(Key=key, ConsistentRead=True).get("Item") or {}
        return str(guard.get("messageSk") or sk_of(message))

    def _mark_automatic(self, message: Message, stored_sk: str) -> None:
        try:
            self._table().update_item(
                Key={"pk": chat_pk(message.accountId, message.chatId), "sk": stored_sk},
                UpdateExpression="SET automatic = :yes",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(automatic) OR automatic <> :yes)",
                ExpressionAttributeValues={":yes": True},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise

    def _add_sender(self, message: Message, sent_by: SentBy, stored_sk: str) -> None:
        """``sentBy`` on a message stored before without one (a MODIFY: the live updates announce nothing)."""
        try:
            self._table().update_item(
                Key={"pk": chat_pk(message.accountId, message.chatId), "sk": stored_sk},
                UpdateExpression="SET sentBy = :by",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(sentBy)",
                ExpressionAttributeValues={":by": sent_by.model_dump(mode="json")},
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise

    def record_delivery(self, account_id: str, user_id: str, delivery_value: Mapping[str, Any]) -> bool:
        """Store a webhook delivery's message and update its chat in one transaction; an incoming unread one is
        announced (``notify``). Returns False when the message was stored before (a duplicate changes nothing)."""
        message = message_from_avito(account_id, user_id, str(delivery_value["chat_id"]), delivery_value)
        item_id = delivery_value.get("item_id")
        change = message_change(
            message,
            item_id=str(item_id) if item_id not in (None, "", 0) else None,
            chat_type=delivery_value.get("chat_type"),
        )
        notify = {sk_of(message)} if message.direction is Direction.IN and not message.isRead else set()
        stored = self._transact(change, [message], notify=notify)
        workflow.on_stored(account_id, message.chatId, stored)
        return bool(stored)

    def mark_chat_read(self, account_id: str, chat_id: str) -> Chat | None:
        """Every message up to the chat's last one read, ``unreadCount`` 0, off the unread indexes: one
        UpdateItem, whatever the chat's length. None (nothing written) if the chat is not stored.

        A message delivered meanwhile is ordered by DynamoDB before or after this write: before, it is read;
        after, it is newer than ``readUpTo`` and counts as unread (``messenger.changes``)."""
        try:
            answer = self._table().update_item(
                Key={"pk": chat_pk(account_id, chat_id), "sk": CHAT_SK},
                UpdateExpression="SET unreadCount = :zero, readUpTo = if_not_exists(lastMessageSk, :none) "
                "REMOVE unreadAccountPk, unreadPk",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":zero": 0, ":none": NO_MESSAGE_SK},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not dynamo.condition_failed(exc):
                raise
            return None
        item = answer["Attributes"]
        self._remember_chat((account_id, chat_id), order_fields(item))
        return chat_from_item(item)

    def delete_account_data(self, account_id: str) -> int:
        """Delete every chat of the account with its messages (each chat's messages first, its chat item last,
        so an interrupted run is found again); returns the number of items deleted. Idempotent."""
        deleted = 0
        chats = list(
            self._query_all(
                IndexName=BY_ACCOUNT,
                KeyConditionExpression=Key("accountPk").eq(account_pk(account_id)),
                ProjectionExpression="pk",
            )
        )
        for chat in chats:
            with self._table().batch_writer() as batch:
                for key in self._query_all(
                    KeyConditionExpression=Key("pk").eq(chat["pk"]),  # messages and the workflow's notes
                    ProjectionExpression="pk, sk",
                ):
                    if key["sk"] == CHAT_SK:
                        continue
                    batch.delete_item(Key={"pk": key["pk"], "sk": key["sk"]})
                    deleted += 1
            self._table().delete_item(Key={"pk": chat["pk"], "sk": CHAT_SK})
            deleted += 1
        self._forget_seen()  # the only deletion of messages: what this container saw stored is gone
        logger.info("Stored chats deleted", extra={"account_id": account_id, "chats": len(chats), "items": deleted})
        return deleted

    # --- reads ----------------------------------------------------------------------------------------

    def hidden_accounts(self) -> frozenset[str]:
        """Deleted accounts whose chats the background cleanup has not removed yet: every read leaves them out,
        so a deleted account disappears at once (``accounts.store.deleted_account_ids``)."""
        return deleted_account_ids(aws.table(get_settings().accounts_table))

    def owner_of(
        self,
        chat_id: str,
        account_id: str | None,
        hidden: frozenset[str] | None = None,
        only: frozenset[str] | None = None,
    ) -> str:
        """The account whose copy of ``chat_id`` is meant: ``account_id`` when given, else the only account
        holding the chat; 422 on ``accountId`` when several do, 404 ``chat_not_found`` when none does. A deleted
        account (cleanup pending) holds nothing, nor does an account outside ``only`` (a limited operator's)."""
        hidden = self.hidden_accounts() if hidden is None else hidden
        if account_id is not None:
            if account_id in hidden or (only is not None and account_id not in only):
                raise self._not_found(chat_id)
            return account_id
        holders = [
            str(item["accountId"])
            for item in self._query_all(
                IndexName=BY_CHAT_ID,
                KeyConditionExpression=Key("chatLookup").eq(chat_id),
                ProjectionExpression="accountId",
            )
            if str(item["accountId"]) not in hidden and (only is None or str(item["accountId"]) in only)
        ]
        if not holders:
            raise self._not_found(chat_id)
        if len(holders) > 1:
            raise ValidationFailed.on(
                "accountId", "Several accounts hold this chat: say which one with ?accountId=<account id>."
            )
        return holders[0]

    def get_chat(self, chat_id: str, account_id: str | None = None, only: frozenset[str] | None = None) -> Chat:
        owner = self.owner_of(chat_id, account_id, only=only)
        item = self._get_chat_item(owner, chat_id)
        if item is None:
            raise self._not_found(chat_id)
        return chat_from_item(item)

    def list_chats(
        self,
        account_id: str | None,
        unread_only: bool,
        limit: int,
        cursor: str | None,
        only: frozenset[str] | None = None,
    ) -> tuple[list[Chat], str | None]:
        """Chats, newest activity first, optionally of one account and/or only unread ones (never a deleted
        account's, nor, with ``only``, any account outside a limited operator's)."""
        if only is not None and (not only or (account_id is not None and account_id not in only)):
            return [], None
        hidden = self.hidden_accounts()
        if account_id is None:
            index = ALL_UNREAD if unread_only else ALL_CHATS
            items, next_cursor = inbox.page(self.table_name, index, limit, cursor, hidden=hidden, only=only)
            return [chat_from_item(i) for i in items], next_cursor
        if account_id in hidden:
            return [], None
        index, pk_attr = (UNREAD_BY_ACCOUNT, "unreadAccountPk") if unread_only else (BY_ACCOUNT, "accountPk")
        pk_value = account_pk(account_id)
        items, next_cursor = self._page(
            {"IndexName": index, "KeyConditionExpression": Key(pk_attr).eq(pk_value), "ScanIndexForward": False},
            key_attrs=("pk", "sk", pk_attr, "activitySk"),
            partition=(pk_attr, pk_value),
            limit=limit,
            cursor=cursor,
        )
        return [chat_from_item(i) for i in items], next_cursor

    def list_messages(
        self,
        chat_id: str,
        limit: int,
        cursor: str | None,
        account_id: str | None = None,
        only: frozenset[str] | None = None,
    ) -> tuple[list[Message], str | None]:
        """A stored chat's messages, oldest first; 404 ``chat_not_found`` for a chat we do not have."""
        owner = self.owner_of(chat_id, account_id, only=only)
        chat = self._get_chat_item(owner, chat_id)
        if chat is None:
            raise self._not_found(chat_id)
        pk = chat_pk(owner, chat_id)
        items, next_cursor = self._page(
            {
                "KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with(MESSAGE_PREFIX),
                "ScanIndexForward": True,
            },
            key_attrs=("pk", "sk"),
            partition=("pk", pk),
            limit=limit,
            cursor=cursor,
        )
        read_up_to = chat.get("readUpTo")
        return [message_from_item(i, read_up_to=read_up_to) for i in items], next_cursor

    # --- internals ------------------------------------------------------------------------------------

    @staticmethod
    def _not_found(chat_id: str) -> NotFound:
        return NotFound(f"No stored chat with id '{chat_id[:200]}'.", code="chat_not_found")

    def _get_chat_item(self, account_id: str, chat_id: str) -> dict[str, Any] | None:
        key = {"pk": chat_pk(account_id, chat_id), "sk": CHAT_SK}
        return self._table().get_item(Key=key, ConsistentRead=True).get("Item")

    def stored_chats(self, account_id: str, chat_ids: list[str]) -> list[Chat]:
        """The account's chats among ``chat_ids`` that are stored (the reconciliation's one read a page)."""
        return self._get_chats(account_id, chat_ids)

    def _get_chats(self, account_id: str, chat_ids: list[str]) -> list[Chat]:
        """The chats as stored now, in ``chat_ids``' order (BatchGetItem, 100 keys a call)."""
        keys = [{"pk": chat_pk(account_id, c), "sk": CHAT_SK} for c in chat_ids]
        found = {str(i["chatId"]): i for i in dynamo.batch_get(self.table_name, keys, consistent=True)}
        return [chat_from_item(found[c]) for c in chat_ids if c in found]

    def _query_all(self, **query: Any) -> Iterator[dict[str, Any]]:
        return dynamo.query_all(self._table().query, **query)

    def _page(
        self,
        query: dict[str, Any],
        *,
        key_attrs: tuple[str, ...],
        partition: tuple[str, str],
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of one partition (limit+1: the last page has no cursor)."""
        return dynamo.query_page(
            self._table().query,
            query,
            limit=limit,
            cursor=cursor,
            key_attrs=key_attrs,
            belongs=lambda start: (
                start[partition[0]] == partition[1] and all(isinstance(v, str) for v in start.values())
            ),
        )

    def _transact(
        self,
        change: ChatChange,
        messages: Sequence[Message] = (),
        *,
        notify: Collection[str] = (),
        rebuild: Callable[[list[Message]], ChatChange] | None = None,
    ) -> list[Message]:
        """One transaction: put each of ``messages`` (one chat's) if absent, update their chat once, and check the
        account exists. Returns the messages stored by this call (a message stored before is left out); NotFound
        when the account is gone (nothing written). A message whose sort key is in ``notify`` is stored marked
        ``notify`` (the live updates announce it as an ``avito-notification``).

        Usually one TransactWriteItems: a message this store has seen stored is answered without a call, and
        the chat update is picked from what the store last saw of the chat (an older message leaves activity
        and ``lastMessage`` alone under a condition that stays true). If the chat's condition fails anyway
        (another container moved it forward), the cancellation carries the chat as stored (ALL_OLD), so the
        retry needs no read. If some messages were stored meanwhile (a delivery racing a listing), the rest are
        written again with the chat change ``rebuild`` makes for them."""
        chat_key = (change.account_id, change.chat_id)
        pending = [m for m in messages if _message_key(m) not in self._stored]
        if messages and not pending:
            return []  # stored before, by this container
        if len(pending) != len(messages):
            if rebuild is None:
                return []
            change = rebuild(pending)
        client = aws.dynamodb_low_level_client()  # AttributeValues, serialised here once per value
        account_check = _account_check(change.account_id)
        observed: Any = self._seen_chats.get(chat_key, GUESS)
        exact = False  # whether ``observed`` is the chat as read (a failure then means a concurrent change)
        for attempt in range(WRITE_ATTEMPTS):
            head = self._puts(pending, notify)  # two per message: the message, then its id's guard
            chat_at, account_at = len(head), len(head) + 1
            try:
                client.transact_write_items(
                    TransactItems=[*head, {"Update": self._chat_update(change, observed)}, account_check]
                )
            except ClientError as exc:
                if dynamo.error_code(exc) != dynamo.TRANSACTION_CANCELED:
                    raise
                codes = dynamo.cancellation_codes(exc)
                if len(codes) > account_at and codes[account_at] == dynamo.ITEM_CONDITION_FAILED:
                    raise _account_gone() from None
                chat_failed = len(codes) > chat_at and codes[chat_at] == dynamo.ITEM_CONDITION_FAILED
                stored_chat = exc.response["CancellationReasons"][chat_at].get("Item") if chat_failed else None
                if stored_chat:
                    self._remember_chat(chat_key, order_fields(from_wire(stored_chat)))
                duplicates = [
                    m
                    for i, m in enumerate(pending)
                    if dynamo.ITEM_CONDITION_FAILED in codes[2 * i : 2 * i + 2]  # its key or its id stored already
                ]
                if duplicates:  # stored already (a repeated delivery, one that raced this listing, another time)
                    self._remember_stored(*map(_message_key, duplicates))
                    pending = [m for m in pending if m not in duplicates]
                    if not pending or rebuild is None:
                        return []
                    change = rebuild(pending)
                    continue
                if chat_failed:  # older than what is stored, or a newer write won meanwhile
                    if exact:
                        _backoff(attempt)
                    if stored_chat:
                        observed = order_fields(from_wire(stored_chat))
                    else:  # no ALL_OLD item: the chat is gone (its account's data deleted), or read it
                        observed = self._get_chat_item(*chat_key)
                        self._remember_chat(chat_key, order_fields(observed or {}))
                    exact = True
                elif "TransactionConflict" in codes:
                    _backoff(attempt)  # a concurrent write of the same items: try again
                else:
                    raise
                continue
            self._remember_stored(*map(_message_key, pending))
            self._remember_chat(chat_key, change.after(observed))
            return pending
        raise StoreContention(f"chat {change.chat_id} kept changing while it was written")

    def _chat_update(self, change: ChatChange, observed: Any) -> dict[str, Any]:
        """The chat's conditional Update (AttributeValues) for the chat as ``observed``."""
        params = change.params(observed)
        return {
            "TableName": self.table_name,
            **params,
            "Key": to_wire(params["Key"]),
            "ExpressionAttributeValues": to_wire(params["ExpressionAttributeValues"]),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _puts(self, messages: Sequence[Message], notify: Collection[str]) -> list[dict[str, Any]]:
        """Conditional puts of ``messages`` and of their ids' guards (each message stored at most once, whatever
        its ``created``), ``notify`` marking those to announce."""
        return [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_wire(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for m in messages
            for item in (message_item(m) | ({"notify": True} if sk_of(m) in notify else {}), message_id_item(m))
        ]

    # --- what this container has seen (saves round trips, never decides an outcome) -------------------------

    def _remember_stored(self, *keys: tuple[str, str, str]) -> None:
        with self._lock:
            for key in keys:
                _remember(self._stored, key, None, STORED_MESSAGES_MAX)

    def _remember_chat(self, key: tuple[str, str], fields: Mapping[str, Any]) -> None:
        with self._lock:
            _remember(self._seen_chats, key, order_fields(fields), SEEN_CHATS_MAX)

    def _forget_seen(self) -> None:
        with self._lock:
            self._seen_chats.clear()
            self._stored.clear()

    # --- deleted messages (Messenger, issue 15): a separate method, kept apart from the store's core ---------

    def get_message(
        self, account_id: str, chat_id: str, message_id: str, *, since: float | None = None
    ) -> Message | None:
        """The account's stored message by id, or None (a Query of the chat's messages, filtered by id: the id
        is the tail of the sort key, after the send time the caller does not know). ``since`` (unix seconds)
        reads only the messages sent from then on, not the chat's whole history."""
        pk = Key("pk").eq(chat_pk(account_id, chat_id))
        if since is None:
            condition = pk & Key("sk").begins_with(MESSAGE_PREFIX)
        else:
            condition = pk & Key("sk").between(message_sk(max(0, int(since)), ""), MESSAGE_PREFIX + "~")
        for item in self._query_all(
            KeyConditionExpression=condition,
            FilterExpression=Attr("id").eq(message_id),
            ConsistentRead=True,
        ):
            return message_from_item(item)
        return None

    def mark_message_deleted(
        self, account_id: str, chat_id: str, message_id: str, *, since: float | None = None
    ) -> Message | None:
        """Store the message as Avito keeps a deleted one (``type: deleted``, empty content, no text); when it is
        the chat's last message, the chat's ``lastMessage`` says so in the same transaction. None if the message
        is not stored (an item removed meanwhile is never recreated); NotFound when the account is gone."""
        stored = self.get_message(account_id, chat_id, message_id, since=since)
        if stored is None:
            return None
        deleted = stored.model_copy(update={"type": "deleted", "text": None, "content": {}})
        sk = sk_of(deleted)
        pk = chat_pk(account_id, chat_id)
        message_update = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_wire({"pk": pk, "sk": sk}),
                "UpdateExpression": "SET #type = :deleted, contentJson = :empty REMOVE #text",
                "ConditionExpression": "attribute_exists(pk) AND id = :id",
                "ExpressionAttributeNames": {"#type": "type", "#text": "text"},
                "ExpressionAttributeValues": to_wire({":deleted": "deleted", ":empty": "{}", ":id": message_id}),
            }
        }
        chat_update = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_wire({"pk": pk, "sk": CHAT_SK}),
                "UpdateExpression": "SET lastMessage = :summary",
                "ConditionExpression": "attribute_exists(pk) AND lastMessageSk = :sk",
                "ExpressionAttributeValues": to_wire(
                    {":summary": deleted.summary().model_dump(mode="json"), ":sk": sk}
                ),
            }
        }
        account_check = {
            "ConditionCheck": {
                "TableName": get_settings().accounts_table,
                "Key": to_wire(account_key(account_id)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
        chat = self._get_chat_item(account_id, chat_id) or {}
        is_last = chat.get("lastMessageSk") == sk  # lastMessageSk only grows: once not last, never last again
        for attempt in range(WRITE_ATTEMPTS):
            items = [message_update, chat_update, account_check] if is_last else [message_update, account_check]
            try:
                aws.dynamodb_low_level_client().transact_write_items(TransactItems=items)
            except ClientError as exc:
                if dynamo.error_code(exc) != dynamo.TRANSACTION_CANCELED:
                    raise
                codes = dynamo.cancellation_codes(exc)
                if codes and codes[-1] == dynamo.ITEM_CONDITION_FAILED:
                    raise _account_gone() from None
                if codes and codes[0] == dynamo.ITEM_CONDITION_FAILED:
                    return None  # the message is gone (its account's data deleted meanwhile)
                if is_last and len(codes) > 1 and codes[1] == dynamo.ITEM_CONDITION_FAILED:
                    is_last = False  # a newer message became the chat's last meanwhile: only the message changes
                    continue
                if "TransactionConflict" in codes:
                    _backoff(attempt)
                    continue
                raise
            return deleted
        raise StoreContention(f"message {message_id} kept changing while it was marked deleted")


@functools.cache
def chat_store() -> ChatStore:
    """The store of the configured MessengerTable (created on first use, not at import)."""
    return ChatStore(get_settings().messenger_table)
