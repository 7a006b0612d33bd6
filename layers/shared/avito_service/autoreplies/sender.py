"""Which incoming message an automatic reply answers, and sending it at most once per trigger.

Fed by MessengerTable's stream (``functions/autoreplies_consumer.py``): every stored message passes here once
(or more: a stream record is retried, a listing sees a message again, two containers race), wherever it came
from (a webhook delivery, a listing, a keep-alive, the backfill). The rules, for an incoming message that is
not older than ``FRESH_SECONDS`` (history stored late is never answered) from a user the account did not
blacklist:

- **out of hours** (enabled, the message written outside the account's working hours): the out-of-hours text,
  once per chat per non-working period; the period is named by the working start that ends it
  (``Calendar.next_working_start``), so two messages of one night share a trigger and the next night's does not.
  It answers instead of the greeting (one automatic message, not two, to a client who writes at night);
- **greeting** (enabled, the chat's first incoming message: none stored before it, and the chat is not an old one
  seen for the first time): the greeting text, once per chat.

"At most once" is the idempotency module's (``idempotency.once``): the trigger is the key, a conditional write
claims it before Avito is called, Avito's answer is recorded at once, and a second delivery, a listing that
sees the message again or a second container replays the record instead of sending (one still running:
``idempotency_in_progress``, dropped here; an outcome nobody knows: never sent again). The send is the
Messenger send (the account's proxy and Avito's limits), stored with ``automatic: true`` and no ``sentBy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Key

from avito_service import aws, clock, dynamo
from avito_service.autoreplies.models import AutoReplies
from avito_service.autoreplies.service import settings_of
from avito_service.autoreplies.store import auto_reply_store
from avito_service.avito.errors import ProxyFailure
from avito_service.config import get_settings
from avito_service.errors import ServiceError
from avito_service.idempotency import once
from avito_service.messenger import service as messenger
from avito_service.messenger.items import CHAT_SK, MESSAGE_PREFIX, chat_pk
from avito_service.observability import logger, metrics
from avito_service.working_hours import Calendar

OPERATION = "autoreply.send"
CALLER = "automatic-replies"  # the idempotency records' caller: no user sends these
FRESH_SECONDS = 15 * 60  # an incoming message older than this when it is seen is history, never answered
OLD_CHAT_SECONDS = 24 * 3600  # a chat created this long before its "first" incoming message was stored is old
TRIGGER_TTL_MIN = 2 * 24 * 3600  # a trigger's record outlives its non-working period (weekends, holidays)
RETRIED_STATUSES = (429, 504)  # our budget for Avito, a timeout before the request was written: retried


@dataclass(frozen=True)
class Incoming:
    account_id: str
    chat_id: str
    message_id: str
    sk: str
    author_id: str | None
    created: float


def incoming_of(image: Mapping[str, Any] | None) -> Incoming | None:
    """The stored message an automatic reply may answer (a MessengerTable item's new image), else None."""
    if not image or not str(image.get("sk", "")).startswith(MESSAGE_PREFIX):
        return None
    if image.get("direction") != "in" or image.get("automatic") or image.get("type") == "deleted":
        return None
    try:
        created = clock.from_iso(str(image["createdAt"]))
        return Incoming(
            account_id=str(image["accountId"]),
            chat_id=str(image["chatId"]),
            message_id=str(image["id"]),
            sk=str(image["sk"]),
            author_id=str(image["authorId"]) if image.get("authorId") not in (None, "") else None,
            created=created,
        )
    except (KeyError, ValueError):
        return None


def plan(message: Incoming, settings: AutoReplies, *, now: float) -> tuple[str, str, float] | None:
    """(trigger key, text, seconds the trigger is remembered) of the reply due for ``message``, or None."""
    if now - message.created > FRESH_SECONDS:
        return None
    calendar = Calendar.from_spec(settings.workingHours)
    written = datetime.fromtimestamp(message.created, UTC)
    if settings.outOfHours.enabled and not calendar.is_working(written):
        period_end = calendar.next_working_start(written)
        name = clock.iso(period_end.timestamp()) if period_end else "never"
        keep = max(TRIGGER_TTL_MIN, (period_end.timestamp() - now + TRIGGER_TTL_MIN) if period_end else 0)
        return f"out-of-hours#{message.account_id}#{message.chat_id}#{name}", settings.outOfHours.text, keep
    if settings.greeting.enabled and _first_incoming(message):
        return f"greeting#{message.account_id}#{message.chat_id}", settings.greeting.text, 365 * 24 * 3600
    return None


def _first_incoming(message: Incoming) -> bool:
    """Whether no incoming message of the chat is stored before this one, and the chat is not an old chat whose
    history was not stored (its Avito creation time long before this message)."""
    table = aws.table(get_settings().messenger_table)
    pk = chat_pk(message.account_id, message.chat_id)
    chat = table.get_item(Key={"pk": pk, "sk": CHAT_SK}, ProjectionExpression="createdAt").get("Item") or {}
    if chat.get("createdAt") and message.created - clock.from_iso(str(chat["createdAt"])) > OLD_CHAT_SECONDS:
        return False
    for item in dynamo.query_all(
        table.query,
        KeyConditionExpression=Key("pk").eq(pk) & Key("sk").between(MESSAGE_PREFIX, message.sk),
        ProjectionExpression="sk, direction",
    ):
        if item.get("direction") == "in" and item.get("sk") != message.sk:
            return False
    return True


def answer(image: Mapping[str, Any] | None, *, now: float | None = None) -> str | None:
    """Send the automatic reply ``image`` (a stored message) is due, at most once; returns what happened
    (``sent``, ``duplicate``, ``blacklisted``, ``skipped``...) or None when no reply applies."""
    message = incoming_of(image)
    if message is None:
        return None
    settings = settings_of(message.account_id)
    if not (settings.greeting.enabled or settings.outOfHours.enabled):
        return None
    planned = plan(message, settings, now=clock.now() if now is None else now)
    if planned is None:
        return None
    trigger, text, keep = planned
    if message.author_id and auto_reply_store().is_blocked(message.account_id, message.author_id):
        logger.info("No automatic reply to a blacklisted user", extra=_log(message, trigger))
        return "blacklisted"
    return _send_once(message, trigger, text.strip(), keep)


def _send_once(message: Incoming, trigger: str, text: str, keep: float) -> str:
    sent: list[bool] = []

    def send() -> dict:
        sent.append(True)
        return messenger.post_text(message.account_id, message.chat_id, text)

    def store(posted: dict) -> dict:
        return messenger.store_sent(message.account_id, message.chat_id, posted, automatic=True).model_dump(mode="json")

    try:
        once(OPERATION, trigger, {"trigger": trigger}, send, store, caller=CALLER, ttl_seconds=int(keep))
    except ServiceError as exc:
        if exc.code == "idempotency_in_progress":  # another container holds the trigger and is sending
            logger.info("Automatic reply being sent elsewhere", extra=_log(message, trigger))
            return "duplicate"
        if sent and not exc.outcome_unknown and _worth_retrying(exc):
            raise  # nothing reached Avito and the key is free again: the stream record is retried
        logger.warning(
            "Automatic reply not sent",
            extra={**_log(message, trigger), "error_code": exc.code, "outcome_unknown": exc.outcome_unknown},
        )
        metrics.add_metric(name="AutoReplyFailed", unit=MetricUnit.Count, value=1)
        return "failed"
    if not sent:
        return "duplicate"
    logger.info("Automatic reply sent", extra=_log(message, trigger))
    metrics.add_metric(name="AutoReplySent", unit=MetricUnit.Count, value=1)
    return "sent"


def _worth_retrying(exc: ServiceError) -> bool:
    """Nothing reached Avito, and a later try may work: Avito's limits (its 429, or the account's budget here),
    a timeout before the request was written, the account's proxy failing."""
    return exc.status in RETRIED_STATUSES or exc.code == "avito_rate_limited" or isinstance(exc, ProxyFailure)


def _log(message: Incoming, trigger: str) -> dict[str, Any]:
    return {
        "account_id": message.account_id,
        "chat_id": message.chat_id,
        "message_id": message.message_id,
        "trigger": trigger.split("#", 1)[0],
    }
