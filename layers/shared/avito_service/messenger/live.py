"""Live Messenger: calls Avito for an account (through its proxy) and stores everything it sees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from avito_service.accounts import service as accounts
from avito_service.accounts.models import AccountContext
from avito_service.avito.client import AvitoApi
from avito_service.base import Model
from avito_service.messenger.models import Chat, Message, storable
from avito_service.messenger.store import chat_store
from avito_service.observability import logger, metrics


class ReadResult(Model):
    ok: bool
    chatId: str
    messageId: str
    unreadCount: int


def connect(account_id: str) -> tuple[AvitoApi, str]:
    """The account's client and its Avito user id (asked from Avito and stored when not known yet)."""
    context: AccountContext = accounts.load_context(account_id)
    client = AvitoApi(context)
    user_id = context.account.userId
    if not user_id:
        user_id = str(client.account_self()["id"])
        accounts.record_fields(account_id, {"userId": user_id})
    return client, user_id


def _storable_only(account_id: str, kind: str, raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Avito's objects whose times we can store; each other one is skipped with a warning (one odd object
    must not fail the whole list: the rest is stored and answered)."""
    kept = []
    for raw in raws:
        if isinstance(raw, Mapping) and raw.get("id") is not None and storable(raw):
            kept.append(raw)
            continue
        logger.warning(
            f"Skipped an Avito {kind} we cannot store",
            extra={
                "account_id": account_id,
                "avito_id": str(raw.get("id"))[:200] if isinstance(raw, Mapping) else None,
                "reason": "no id, or a time outside the years 1970-9999",
            },
        )
        metrics.add_metric(name="AvitoObjectSkipped", unit=MetricUnit.Count, value=1)
    return kept


def list_chats(account_id: str, *, limit: int, offset: int, unread_only: bool) -> list[Chat]:
    client, user_id = connect(account_id)
    chats = client.chats(user_id, limit=limit, offset=offset, unread_only=unread_only)
    return chat_store().save_chats(account_id, user_id, _storable_only(account_id, "chat", chats))


def list_messages(account_id: str, chat_id: str, *, limit: int, offset: int) -> list[Message]:
    client, user_id = connect(account_id)
    messages = client.messages(user_id, chat_id, limit=limit, offset=offset)
    return chat_store().save_messages(account_id, user_id, chat_id, _storable_only(account_id, "message", messages))


def send_text(account_id: str, chat_id: str, text: str) -> Message:
    """Send once (never retried after it may have reached Avito) and store it as outgoing."""
    client, user_id = connect(account_id)
    sent = client.send_text(user_id, chat_id, text)
    if isinstance(sent, Mapping) and not storable(sent):  # Avito took it: store it, timed when we sent it
        logger.warning("Avito answered a send with a time we cannot store; using ours", extra={"chat_id": chat_id})
        sent = {**sent, "created": None}
    message = chat_store().save_sent_message(account_id, chat_id, sent, user_id=user_id)
    logger.info("Message sent", extra={"account_id": account_id, "chat_id": chat_id, "message_id": message.id})
    return message


def mark_read(account_id: str, chat_id: str, message_id: str) -> ReadResult:
    """Avito marks the whole chat read; so does storage (the account's copy: read up to its last message)."""
    client, user_id = connect(account_id)
    client.mark_read(user_id, chat_id)
    chat = chat_store().mark_chat_read(account_id, chat_id)
    return ReadResult(ok=True, chatId=chat_id, messageId=message_id, unreadCount=chat.unreadCount if chat else 0)
