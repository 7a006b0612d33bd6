"""Lambda Function URL (payload 2.0) events for webhook deliveries, shaped like events/webhook_delivery.json."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from avito_sim import deliveries
from avito_sim.deliveries import message_value

_SAMPLE = json.loads((Path(__file__).resolve().parent.parent / "events" / "webhook_delivery.json").read_text())


def delivery_body(message_id: str, chat_id: str, *, user_id: int, author_id: int, created: int, text: str) -> str:
    value = message_value(message_id, chat_id, user_id=user_id, author_id=author_id, created=created, text=text)
    return deliveries.delivery_body(value, timestamp=created)


def function_url_event(account_id: str, token: str, body: str) -> dict[str, Any]:
    event = copy.deepcopy(_SAMPLE)
    path = f"/{account_id}/{token}"
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["headers"]["content-length"] = str(len(body.encode()))
    event["body"] = body
    return event
