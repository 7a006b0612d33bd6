"""The per-chat tally and what one stored message adds to the day figures (pure: no I/O, a controlled clock is
just the messages' times).

A chat's tally: the client's first message, ``firstResponseAt``, messages in and out, the start of the current wait
(``awaitingSince``: the oldest incoming message no outgoing one has answered) and the last message's time.

- An incoming message counts ``messagesIn``; the chat's first one counts ``chatsStarted`` (on its Moscow day); when
  nothing was waiting, a wait starts at it (+1 ``waitingNow``).
- An outgoing message counts ``messagesOut``. Unless it is automatic (``automatic: true``: the greeting and
  out-of-hours replies), it ends the wait: a **reply time** (wait start -> this message) goes into the ``rt``
  histograms, and the chat's first such reply after the client's first message is its **first response**
  (``fr`` histograms, ``chatsAnswered``). Both also in working time of the account's calendar (``rtw``/``frw``).
  A reply slower than the account's first alert threshold counts ``slowReplies``.
- The operator credited is the message's ``sentBy.userId`` (absent or null: a reply from Avito's own app, counted
  for the account only).
- Times are attributed to the Moscow day of the message that produced them (a first response to the day it was
  given, ``chatsStarted`` to the day of the client's first message).

The same rules as the workflow's ``awaitingReplySince``/``firstResponseAt`` on the chat item (branch ``workflow``);
the tally is kept apart in ReportsTable so the two writers never touch one item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from avito_service import clock
from avito_service.reports import histogram
from avito_service.working_hours import Calendar

REPORT_ZONE = ZoneInfo("Europe/Moscow")
KINDS = ("fr", "frw", "rt", "rtw")  # first response, its working time; reply time, its working time


def report_day(timestamp: float) -> str:
    """The Europe/Moscow date (YYYY-MM-DD) of a unix time: the days of the reports."""
    return datetime.fromtimestamp(timestamp, tz=UTC).astimezone(REPORT_ZONE).date().isoformat()


def bucket_attr(kind: str, index: int) -> str:
    return f"{kind}_{index}"


@dataclass(frozen=True)
class Sender:
    user_id: str
    name: str | None


@dataclass(frozen=True)
class MessageFacts:
    """What the figures read of a stored message."""

    message_id: str
    account_id: str
    chat_id: str
    incoming: bool
    created: float
    automatic: bool = False
    sender: Sender | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> MessageFacts:
        """From a MessengerTable message item (plain Python values); ``automatic`` and ``sentBy`` are read
        defensively (older items and other branches' writers may not have them)."""
        sent_by = item.get("sentBy")
        sender = None
        if isinstance(sent_by, Mapping) and sent_by.get("userId"):
            name = sent_by.get("name")
            sender = Sender(str(sent_by["userId"]), str(name) if name else None)
        return cls(
            message_id=str(item["id"]),
            account_id=str(item["accountId"]),
            chat_id=str(item["chatId"]),
            incoming=item.get("direction") == "in",
            created=clock.from_iso(str(item["createdAt"])),
            automatic=item.get("automatic") is True,
            sender=sender,
        )


@dataclass(frozen=True)
class Tally:
    first_in_at: float | None = None
    first_response_at: float | None = None
    awaiting_since: float | None = None
    messages_in: int = 0
    messages_out: int = 0
    last_message_at: float | None = None
    first_message_at: float | None = None
    version: int = 0


@dataclass
class Effect:
    """What one message changes: the chat's new tally and the counters to add per day item."""

    tally: Tally
    account_adds: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> attribute -> amount
    operator_adds: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> attribute -> amount
    operator: Sender | None = None
    waiting_delta: int = 0
    reply_seconds: float | None = None
    first_response_seconds: float | None = None

    def _add(self, target: dict[str, dict[str, int]], day: str, attr: str, amount: int = 1) -> None:
        counters = target.setdefault(day, {})
        counters[attr] = counters.get(attr, 0) + amount

    def add(self, day: str, attr: str, *, operator: bool, amount: int = 1) -> None:
        self._add(self.account_adds, day, attr, amount)
        if operator and self.operator is not None:
            self._add(self.operator_adds, day, attr, amount)

    def duration(self, day: str, kind: str, seconds: float, working: float | None, *, operator: bool) -> None:
        """One duration into the ``kind`` histogram and, when the account has a calendar, its working time into
        ``<kind>w`` (without a calendar working time is wall time: the reader takes ``kind`` for both, and the
        day items stay half as large)."""
        self.add(day, bucket_attr(kind, histogram.bucket_of(seconds)), operator=operator)
        if working is not None:
            self.add(day, bucket_attr(f"{kind}w", histogram.bucket_of(working)), operator=operator)


def apply(tally: Tally, message: MessageFacts, *, calendar: Calendar | None, slow_after_seconds: float) -> Effect:
    """The effect of ``message`` on a chat whose tally is ``tally`` (``calendar`` None: always working)."""
    at = message.created
    day = report_day(at)
    last = at if tally.last_message_at is None else max(tally.last_message_at, at)
    first = at if tally.first_message_at is None else min(tally.first_message_at, at)
    tally = replace(tally, first_message_at=first)
    if message.incoming:
        effect = Effect(replace(tally, messages_in=tally.messages_in + 1, last_message_at=last))
        effect.add(day, "messagesIn", operator=False)
        if tally.first_in_at is None or at < tally.first_in_at:
            if tally.first_in_at is None:
                effect.add(day, "chatsStarted", operator=False)
            effect.tally = replace(effect.tally, first_in_at=at)
        if tally.awaiting_since is None:
            effect.tally = replace(effect.tally, awaiting_since=at)
            effect.waiting_delta = 1
        elif at < tally.awaiting_since:
            effect.tally = replace(effect.tally, awaiting_since=at)
        return effect

    operator = None if message.automatic else message.sender
    effect = Effect(replace(tally, messages_out=tally.messages_out + 1, last_message_at=last), operator=operator)
    effect.add(day, "messagesOut", operator=True)
    if message.automatic or tally.awaiting_since is None or at < tally.awaiting_since:
        return effect
    waited = at - tally.awaiting_since
    working = _working(calendar, tally.awaiting_since, at)
    effect.reply_seconds = waited
    effect.duration(day, "rt", waited, working, operator=True)
    effect.add(day, "replies", operator=True)
    if waited > slow_after_seconds:
        effect.add(day, "slowReplies", operator=True)
    effect.tally = replace(effect.tally, awaiting_since=None)
    effect.waiting_delta = -1
    if tally.first_response_at is None and tally.first_in_at is not None and at >= tally.first_in_at:
        first = at - tally.first_in_at
        effect.first_response_seconds = first
        effect.duration(day, "fr", first, _working(calendar, tally.first_in_at, at), operator=True)
        effect.add(day, "chatsAnswered", operator=True)
        effect.tally = replace(effect.tally, first_response_at=at)
    return effect


def _working(calendar: Calendar | None, start: float, end: float) -> float | None:
    if calendar is None:
        return None  # always working: the wall time
    return calendar.working_seconds(datetime.fromtimestamp(start, tz=UTC), datetime.fromtimestamp(end, tz=UTC))
