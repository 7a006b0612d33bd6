"""Avito's Messenger webhook deliveries, as Avito POSTs them (``avito-api.md``: ``{id, version, timestamp,
payload: {type: "message", value}}``): the one builder the simulator, the benchmarks and the tests use."""

from __future__ import annotations

import json
import uuid
from typing import Any

ITEM_ID = 4012345678  # the item a sample u2i chat is about


def message_value(
    message_id: str,
    chat_id: str,
    *,
    user_id: int | str,
    author_id: int,
    created: int,
    text: str,
    chat_type: str = "u2i",
    item_id: int = ITEM_ID,
    **extra: Any,
) -> dict[str, Any]:
    """A text message's ``payload.value``; ``extra`` adds or replaces fields (``published_at``, ``read``...)."""
    return {
        "id": message_id,
        "chat_id": chat_id,
        "chat_type": chat_type,
        "user_id": user_id,
        "author_id": author_id,
        "created": created,
        "type": "text",
        "content": {"text": text},
        "item_id": item_id,
        "read": None,
        **extra,
    }


def delivery(
    value: dict[str, Any], *, delivery_id: str | None = None, timestamp: int, version: str = "v3.0.0"
) -> dict[str, Any]:
    """One delivery of a message ``value`` (a fresh delivery id unless given)."""
    return {
        "id": delivery_id or str(uuid.uuid4()),
        "version": version,
        "timestamp": timestamp,
        "payload": {"type": "message", "value": value},
    }


def delivery_body(value: dict[str, Any], **kwargs: Any) -> str:
    """:func:`delivery` as the JSON text of the request body."""
    return json.dumps(delivery(value, **kwargs), ensure_ascii=False)
