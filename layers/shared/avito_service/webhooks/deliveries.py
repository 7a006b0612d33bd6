"""Webhook deliveries: what Avito POSTs to ``/<accountId>/<token>``, and accepting one.

Accepting is the whole synchronous path, kept within Avito's 2 s: the account's token hash (one GetItem per
account per ``tokens.VERIFIED_SECONDS`` in a warm container), then one transaction that stores the message at
most once and updates its chat (see ``ChatStore._store_message``: none for a repeat this container stored,
a second one only when another container moved the chat past what this one had seen). Nothing calls Avito.

| request                                              | answer                                   |
|------------------------------------------------------|------------------------------------------|
| body over 1 MiB (checked by the handler, unparsed)   | 413 ``payload_too_large``                |
| a token that is not 43 URL-safe characters (no read) | 401 ``invalid_webhook_token``            |
| unknown account (answered like a wrong token)        | 401 ``invalid_webhook_token``            |
| missing or wrong token                               | 401 ``invalid_webhook_token``            |
| body not JSON                                        | 400 ``malformed_json``                   |
| ``{}`` (a reachability probe)                        | 200 ``{"ok": true, "duplicate": false}``, nothing stored |
| JSON that is not a delivery                          | 400 ``invalid_delivery``                 |
| ``payload.value.user_id`` is not the account's user  | 403 ``user_mismatch``                    |
| a payload type other than ``message``                | 200, ignored                             |
| a message delivery                                   | 200 ``{"ok": true, "duplicate": <bool>}`` |

Rejections (4xx) count as ``WebhookRejected``, stored messages as ``WebhookNew``, repeats as
``WebhookDuplicate``. Logs carry ``account_id``, never the token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from avito_service import aws, clock, dynamo
from avito_service.base import Model
from avito_service.config import get_settings
from avito_service.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    ServiceError,
    Unauthorized,
    field_name,
    human_message,
)
from avito_service.messenger.store import chat_store
from avito_service.observability import logger, metrics
from avito_service.webhooks.tokens import verified_account

MESSAGE_PAYLOAD = "message"
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def _number_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


AvitoId = Annotated[str, BeforeValidator(_number_to_str), StringConstraints(min_length=1, max_length=200)]
AvitoUserId = Annotated[str, BeforeValidator(_number_to_str), StringConstraints(pattern=r"^[0-9]{1,20}$")]


class DeliveryValue(Model):
    """``payload.value`` of a message delivery: an Avito message plus its chat; unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    id: AvitoId
    chat_id: AvitoId
    chat_type: str | None = None
    user_id: AvitoUserId = Field(description="the account the subscription belongs to")
    author_id: AvitoId | None = None
    created: int = Field(ge=0, le=clock.MAX_TIMESTAMP, description="unix seconds (up to the year 9999)")
    published_at: str | None = None
    type: str = Field(min_length=1, description="message type; types Avito adds later are stored as they come")
    content: Any = None
    item_id: AvitoId | None = None
    read: int | None = None


class DeliveryPayload(Model):
    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1)
    value: dict[str, Any]


class Delivery(Model):
    """The whole body; ``id``, ``version`` and ``timestamp`` are informative (deduplication is by message id)."""

    model_config = ConfigDict(extra="allow")

    id: AvitoId | None = None
    version: str | None = None
    timestamp: int | None = None
    payload: DeliveryPayload


@dataclass(frozen=True)
class Accepted:
    """What happened to an authenticated delivery."""

    stored: bool = False
    duplicate: bool = False

    def body(self) -> dict[str, Any]:
        return {"ok": True, "duplicate": self.duplicate}


def _invalid(exc: ValidationError, prefix: str = "") -> BadRequest:
    details = [FieldError(prefix + field_name(e["loc"]), human_message(dict(e))) for e in exc.errors()]
    summary = "; ".join(f"{d.field}: {d.message}" for d in details[:3])
    return BadRequest(f"The body is not an Avito webhook delivery: {summary}", details=details, code="invalid_delivery")


def parse_delivery(body: str | None) -> Delivery | None:
    """The delivery in ``body``; None for the ``{}`` probe; BadRequest for anything else."""
    try:
        document = json.loads(body or "")
    except ValueError:
        raise BadRequest("The request body is not valid JSON.", code="malformed_json") from None
    if document == {}:
        return None
    try:
        return Delivery.model_validate(document)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _authenticate(account_id: str, token: str) -> Mapping[str, Any]:
    """The account, if ``token`` is its webhook secret. An unknown account is answered exactly like a wrong
    secret (401 ``invalid_webhook_token``), so the URL tells nobody which account ids exist."""
    account = None
    if _ACCOUNT_ID.match(account_id):
        try:
            account = verified_account(account_id, token)  # reads the account at most once per window (see tokens)
        except NotFound:
            account = None
    if account is None:
        raise Unauthorized("This webhook URL is not valid for the account.", code="invalid_webhook_token")
    return account


def _accept(account_id: str, token: str, body: str | None) -> Accepted:
    account = _authenticate(account_id, token)
    delivery = parse_delivery(body)
    if delivery is None:
        logger.info("Webhook probe answered")
        return Accepted()
    if delivery.payload.type != MESSAGE_PAYLOAD:
        logger.info("Webhook delivery ignored", extra={"payload_type": delivery.payload.type[:50]})
        return Accepted()
    try:
        value = DeliveryValue.model_validate(delivery.payload.value)
    except ValidationError as exc:
        raise _invalid(exc, prefix="payload.value.") from None
    if not account.get("userId") or value.user_id != str(account["userId"]):
        raise Forbidden("The delivery is for another Avito user than this account's.", code="user_mismatch")
    stored = chat_store().record_delivery(account_id, value.user_id, value.model_dump())
    logger.info(
        "Webhook delivery stored" if stored else "Webhook delivery was a duplicate",
        extra={"chat_id": value.chat_id, "message_id": value.id, "message_type": value.type[:50]},
    )
    return Accepted(stored=stored, duplicate=not stored)


def receive(account_id: str, token: str, body: str | None) -> Accepted:
    """Authenticate and store one delivery; 4xx outcomes are raised as ServiceErrors and counted."""
    logger.append_keys(account_id=account_id[:64])
    try:
        accepted = _accept(account_id, token, body)
    except ServiceError as exc:
        metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)
        logger.warning("Webhook delivery rejected", extra={"status": exc.status, "error_code": exc.code})
        raise
    if accepted.stored:
        metrics.add_metric(name="WebhookNew", unit=MetricUnit.Count, value=1)
    elif accepted.duplicate:
        metrics.add_metric(name="WebhookDuplicate", unit=MetricUnit.Count, value=1)
    if accepted.stored or accepted.duplicate:
        note_delivery(account_id)
    return accepted


LAST_WEBHOOK_SECONDS = 60.0  # lastWebhookAt is written at most this often per account and container
_last_noted: dict[str, float] = {}


def note_delivery(account_id: str, *, now: float | None = None) -> None:
    """The account's ``lastWebhookAt`` (its health, issue 28), to the minute: one small write per account per
    container per minute, not one per delivery (a flood of deliveries to one account stays one write a minute)."""
    at = clock.now() if now is None else now
    if at - _last_noted.get(account_id, float("-inf")) < LAST_WEBHOOK_SECONDS:
        return
    _last_noted[account_id] = at
    try:
        aws.table(get_settings().accounts_table).update_item(
            Key={"pk": f"ACCOUNT#{account_id}", "sk": "PROFILE"},
            UpdateExpression="SET lastWebhookAt = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": clock.iso(at)},
        )
    except ClientError as exc:  # the account went meanwhile, or DynamoDB failed: the delivery is stored anyway
        if not dynamo.condition_failed(exc):
            logger.warning("Could not record lastWebhookAt", extra={"reason": str(exc)[:200]})
