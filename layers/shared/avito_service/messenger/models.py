"""Chats and messages as the contract returns them, and their conversion from Avito's objects.

Avito gives ids as numbers and times as unix seconds; the contract gives ids as strings and times as
ISO 8601 UTC. ``direction`` is ``out`` for the account's own messages: Avito's ``direction`` when it sends
one, otherwise ``author_id == the account's user id`` (webhook deliveries carry no ``direction``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from avito_service import clock
from avito_service.base import Model


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class LastMessage(Model):
    id: str
    text: str | None = None
    type: str
    direction: Direction
    createdAt: str


class Assignee(Model):
    userId: str
    name: str | None = None


class Chat(Model):
    """A stored chat of one account, with its workflow state (contract, "Chat workflow")."""

    id: str
    accountId: str
    itemId: str | None = Field(default=None, description="the Avito item the chat is about")
    itemTitle: str | None = None
    itemUrl: str | None = None
    itemPrice: str | None = Field(default=None, description="the item's price as Avito shows it (e.g. '300 000 ₽')")
    clientName: str | None = None
    clientUserId: str | None = Field(default=None, description="Avito user id of the other party")
    lastMessage: LastMessage | None = None
    unreadCount: int = Field(default=0, description="incoming messages not read yet")
    createdAt: str | None = None
    updatedAt: str | None = None
    status: Literal["new", "open", "closed"] = Field(
        default="new", description="new: nobody has taken it; open: an operator has it; closed"
    )
    assignee: Assignee | None = None
    awaitingReplySince: str | None = Field(
        default=None, description="the oldest incoming message no reply has answered yet (the chat needs a reply)"
    )
    firstResponseAt: str | None = Field(default=None, description="the first reply after the client's first message")
    tags: list[str] = Field(default_factory=list)


class SentBy(Model):
    """The service's user who sent a message (contract, "People and sign-in")."""

    userId: str = Field(description="the user's id (Cognito sub, or an HS256 token's sub)")
    name: str | None = Field(default=None, description="the user's name; null for a token of no known user")


class Message(Model):
    """A stored message of a chat."""

    id: str
    chatId: str
    accountId: str
    authorId: str | None = None
    direction: Direction
    type: str = Field(description="Avito's message type (text, image, link, item, location, call, voice, ...)")
    text: str | None = Field(default=None, description="the text, for messages that have one")
    content: Any = Field(default=None, description="Avito's content object, as Avito sent it")
    isRead: bool = False
    createdAt: str
    sentBy: SentBy | None = Field(
        default=None,
        description="who sent it through the service; null for messages from Avito or its app and for "
        "automatic replies",
    )
    automatic: bool = Field(
        default=False, description="true for an automatic reply (greeting, out of hours): never counted as a reply"
    )

    def summary(self) -> LastMessage:
        return LastMessage(
            id=self.id, text=self.text, type=self.type, direction=self.direction, createdAt=self.createdAt
        )


# --- conversion from Avito's objects ---------------------------------------------------------------------


def seconds(value: Any, default: float | None = None) -> int:
    """Avito's unix seconds (int, float or numeric string) -> int; ``default`` (now) when missing."""
    if isinstance(value, bool) or value is None or value == "":
        return int(clock.now() if default is None else default)
    return int(float(value))


def storable_time(value: Any) -> bool:
    """Whether an Avito time (unix seconds, possibly missing) has an ISO 8601 form we can store and answer."""
    if isinstance(value, bool) or value is None or value == "":
        return True
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and clock.representable(number)


def storable(raw: Mapping[str, Any]) -> bool:
    """Whether an Avito message or chat has only times we can store (``created``, ``updated``, last message's)."""
    last = raw.get("last_message")
    times = [raw.get("created"), raw.get("updated")]
    if isinstance(last, Mapping):
        times.append(last.get("created"))
    return all(storable_time(t) for t in times)


def _id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _text(message_type: str, content: Any) -> str | None:
    """The human text of a message: ``content.text``, or a link's text/url; None for media."""
    if not isinstance(content, Mapping):
        return None
    if isinstance(content.get("text"), str):
        return content["text"]
    link = content.get("link")
    if message_type == "link" and isinstance(link, Mapping):
        return link.get("text") or link.get("url")
    return None


def direction_of(raw: Mapping[str, Any], user_id: str | None) -> Direction:
    given = raw.get("direction")
    if given in (Direction.IN.value, Direction.OUT.value):
        return Direction(given)
    author = _id(raw.get("author_id"))
    return Direction.OUT if user_id is not None and author == str(user_id) else Direction.IN


def message_from_avito(account_id: str, user_id: str | None, chat_id: str, raw: Mapping[str, Any]) -> Message:
    """An Avito Message (or a webhook delivery's ``payload.value``) -> :class:`Message`."""
    message_type = str(raw.get("type") or "unknown")
    content = raw.get("content")
    is_read = raw.get("is_read")
    return Message(
        id=str(raw["id"]),
        chatId=chat_id,
        accountId=account_id,
        authorId=_id(raw.get("author_id")),
        direction=direction_of(raw, user_id),
        type=message_type,
        text=_text(message_type, content),
        content=content,
        isRead=bool(is_read) if is_read is not None else raw.get("read") not in (None, 0, False),
        createdAt=clock.iso(seconds(raw.get("created"))),
    )


def chat_from_avito(account_id: str, user_id: str | None, raw: Mapping[str, Any]) -> Chat:
    """An Avito Chat -> :class:`Chat` (``unreadCount`` 0: Avito does not give it per chat)."""
    context = raw.get("context") if isinstance(raw.get("context"), Mapping) else {}
    item = context.get("value") if isinstance(context.get("value"), Mapping) else {}
    users = [u for u in raw.get("users") or [] if isinstance(u, Mapping)]
    client = next((u for u in users if _id(u.get("id")) != str(user_id)), None)
    created = seconds(raw.get("created"))
    last = raw.get("last_message")
    last_message = (
        message_from_avito(account_id, user_id, str(raw["id"]), last).summary()
        if isinstance(last, Mapping) and last.get("id") is not None
        else None
    )
    return Chat(
        id=str(raw["id"]),
        accountId=account_id,
        itemId=_id(item.get("id")),
        itemTitle=item.get("title"),
        itemUrl=item.get("url"),
        itemPrice=item.get("price_string") if isinstance(item.get("price_string"), str) else None,
        clientName=client.get("name") if client else None,
        clientUserId=_id(client.get("id")) if client else None,
        lastMessage=last_message,
        createdAt=clock.iso(created),
        updatedAt=clock.iso(seconds(raw.get("updated"), default=created)),
    )


# --- richer messenger (issue 15) ---------------------------------------------------------------------------

CHAT_TYPES = ("u2i", "u2u", "a2u")  # Avito's chat kinds: about an item, user to user, Avito to user
DEFAULT_CHAT_TYPES = "u2i,u2u"  # Avito alone gives only u2i unless asked
CHAT_TYPES_PATTERN = r"^(u2i|u2u|a2u)(,(u2i|u2u|a2u))*$"


def chat_types_param(value: str) -> str:
    """A validated ``chatTypes`` comma list (by the query's pattern) without repeats, for Avito's ``chat_types``."""
    return ",".join(dict.fromkeys(part for part in value.split(",") if part in CHAT_TYPES))


class BlacklistReason(StrEnum):
    SPAM = "spam"
    FRAUD = "fraud"
    INSULTS = "insults"
    OTHER = "other"


# Avito's ``reason_id`` (addBlacklistRequestBody): 1 spam, 2 fraud, 3 insults and rudeness, 4 another reason.
BLACKLIST_REASON_IDS = {
    BlacklistReason.SPAM: 1,
    BlacklistReason.FRAUD: 2,
    BlacklistReason.INSULTS: 3,
    BlacklistReason.OTHER: 4,
}


class BlacklistResult(Model):
    ok: bool
    userId: str
    itemId: str | None = None
    reason: BlacklistReason
