"""One conditional change of a chat item: what a listing, a delivery or a send does to its chat.

``activity`` (``updatedTs``/``updatedAt``/``activitySk``) and ``lastMessage`` only move forward, and an
incoming message counts towards ``unreadCount`` only when it is newer than the chat's read marker
``readUpTo``: each of the three is set or left alone under a condition that says exactly "this choice is
right for what is stored now". ``updatedTs``, ``lastMessageSk`` and ``readUpTo`` only grow, so "stored is
newer than ours" stays true once true: a write that leaves them alone never has to be retried; one that moves
them forward fails (and is retried from what is stored) if a newer one won.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from avito_service import clock, dynamo
from avito_service.messenger.items import (
    CHAT_SK,
    account_pk,
    activity_sk,
    chat_identity,
    chat_pk,
    inbox_shard,
    sk_of,
    unread_pk,
)
from avito_service.messenger.models import Direction, LastMessage, Message
from avito_service.workflow.store import initial_fields

GUESS = object()  # "assume our write is the newest"; the actual state is looked at only when that guess is wrong
ORDER_FIELDS = ("updatedTs", "lastMessageSk", "readUpTo")


@dataclass
class ChatChange:
    """What a write does to the chat (account_id, chat_id); see the module's docstring for the conditions."""

    account_id: str
    chat_id: str
    updated_ts: int
    always: dict[str, Any] = field(default_factory=dict)
    if_missing: dict[str, Any] = field(default_factory=dict)
    last: LastMessage | None = None
    unread_sks: tuple[str, ...] = ()  # sort keys of the incoming unread messages this change stores (sorted)

    def key(self) -> dict[str, str]:
        return {"pk": chat_pk(self.account_id, self.chat_id), "sk": CHAT_SK}

    def params(self, observed: Any) -> dict[str, Any]:
        """UpdateItem parameters (Python values) for the chat as ``observed``: an item as read (or lower bounds of
        its order fields), None (no item), or GUESS. ``observed`` only picks which fields to set; the condition
        makes the write fail, never go wrong, when it does not match what is stored."""
        expression = dynamo.Expression()
        n, v = expression.name, expression.value

        last_sk = sk_of(self.last) if self.last else None
        unread = sorted(self.unread_sks)
        if observed is GUESS or observed is None:
            set_activity, set_last, already_read = True, self.last is not None, 0
        else:
            set_activity = int(observed.get("updatedTs", -1)) <= self.updated_ts
            set_last = last_sk is not None and str(observed.get("lastMessageSk", "")) <= last_sk
            already_read = bisect.bisect_right(unread, str(observed.get("readUpTo", "")))
        count_unread = len(unread) - already_read  # the messages newer than the chat's read marker

        identity = chat_identity(self.account_id, self.chat_id)
        sets = [f"{n(k)} = {v(val)}" for k, val in {**identity, **self.always}.items() if val is not None]
        created = {**self.if_missing, **initial_fields(self.account_id, self.chat_id)}  # a new chat is ``new``
        sets += [f"{n(k)} = if_not_exists({n(k)}, {v(val)})" for k, val in created.items() if val is not None]
        if set_activity:
            updated_at = clock.iso(self.updated_ts)
            sets += [
                f"{n('updatedTs')} = {v(self.updated_ts)}",
                f"{n('updatedAt')} = {v(updated_at)}",
                f"{n('activitySk')} = {v(activity_sk(updated_at, self.account_id, self.chat_id))}",
            ]
        if set_last and self.last is not None:
            sets += [
                f"{n('lastMessage')} = {v(self.last.model_dump(mode='json'))}",
                f"{n('lastMessageSk')} = {v(last_sk)}",
            ]
        adds = []
        if count_unread:
            adds.append(f"{n('unreadCount')} {v(count_unread)}")
            sets += [
                f"{n('unreadAccountPk')} = {v(account_pk(self.account_id))}",
                f"{n('unreadPk')} = {v(unread_pk(inbox_shard(self.account_id, self.chat_id)))}",
            ]
        else:
            sets.append(f"{n('unreadCount')} = if_not_exists({n('unreadCount')}, {v(0)})")

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
        # the read marker lies where ``observed`` put it among the unread keys: between the last one counted as
        # read and the first one counted as unread
        if already_read < len(unread):
            conditions.append(f"(attribute_not_exists({n('readUpTo')}) OR {n('readUpTo')} < {v(unread[already_read])})")
        if already_read > 0:
            conditions.append(f"{n('readUpTo')} >= {v(unread[already_read - 1])}")

        update = "SET " + ", ".join(sets) + (" ADD " + ", ".join(adds) if adds else "")
        return {"Key": self.key(), **expression.render(update, " AND ".join(conditions))}

    def after(self, observed: Any) -> dict[str, Any]:
        """Lower bounds of the chat's order fields after this change was applied on top of ``observed``."""
        before = observed if isinstance(observed, Mapping) else {}
        after: dict[str, Any] = {"updatedTs": max(int(before.get("updatedTs", -1)), self.updated_ts)}
        last_sk = sk_of(self.last) if self.last else None
        candidates = [str(sk) for sk in (before.get("lastMessageSk"), last_sk) if sk]
        if candidates:
            after["lastMessageSk"] = max(candidates)
        if before.get("readUpTo"):
            after["readUpTo"] = str(before["readUpTo"])
        return after


def message_change(message: Message, *, item_id: str | None = None, chat_type: str | None = None) -> ChatChange:
    """The chat update that goes with storing ``message`` (creating a minimal chat if it is unknown)."""
    return messages_change([message], item_id=item_id, chat_type=chat_type)


def messages_change(
    messages: Sequence[Message], *, item_id: str | None = None, chat_type: str | None = None
) -> ChatChange:
    """The one chat update that goes with storing ``messages`` of one chat together (a listing's new ones)."""
    ordered = sorted(messages, key=sk_of)
    first, newest = ordered[0], ordered[-1]
    client = next((m.authorId for m in ordered if m.direction is Direction.IN and m.authorId), None)
    return ChatChange(
        account_id=newest.accountId,
        chat_id=newest.chatId,
        updated_ts=int(clock.from_iso(newest.createdAt)),
        if_missing={
            "createdAt": first.createdAt,
            "itemId": item_id,
            "chatType": chat_type,
            "clientUserId": client,
        },
        last=newest.summary(),
        unread_sks=tuple(sk_of(m) for m in ordered if m.direction is Direction.IN and not m.isRead),
    )


def order_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """``updatedTs``, ``lastMessageSk`` and ``readUpTo`` of a chat item (Python values)."""
    return {name: item[name] for name in ORDER_FIELDS if name in item}
