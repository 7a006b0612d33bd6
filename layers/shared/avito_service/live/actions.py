"""Client frames on the ``$default`` route and their answers (contract: "Live updates (WebSocket)").

| client frame                                     | answer                                                    |
|--------------------------------------------------|-----------------------------------------------------------|
| ``{"action": "ping"}``                           | ``{"event": "pong", "data": {}}``                         |
| ``{"action": "subscribe", "accountIds": [...]}`` | ``{"event": "subscribed", "data": {"accountIds": [...]}}`` |
| anything else                                    | ``{"event": "error", "data": {"code", "message"}}``       |

``"accountIds": null`` subscribes the connection to every account again (the default).

Error codes: ``invalid_json`` (not a JSON object), ``unknown_action``, ``invalid_subscription`` (the
message names the field), ``not_connected`` (the connection is not stored, e.g. expired),
``account_not_found`` (an account the caller may not see, or that does not exist for them).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from avito_service.base import Model
from avito_service.errors import human_message
from avito_service.live import store as connections

MAX_SUBSCRIBED_ACCOUNTS = 100
AccountId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S+$")]


class Subscribe(Model):
    action: Literal["subscribe"]
    accountIds: Annotated[list[AccountId], Field(min_length=1, max_length=MAX_SUBSCRIBED_ACCOUNTS)] | None


_SUBSCRIBE = TypeAdapter(Subscribe)


def frame(event: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, "data": data}


def error(code: str, message: str) -> dict[str, Any]:
    return frame("error", {"code": code, "message": message})


def handle(connection_id: str, body: str | None) -> dict[str, Any]:
    """The answer to one client frame."""
    try:
        message = json.loads(body or "")
    except (json.JSONDecodeError, UnicodeDecodeError):
        message = None
    if not isinstance(message, dict):
        return error("invalid_json", 'Send a JSON object such as {"action": "ping"}.')
    action = message.get("action")
    if action == "ping":
        return frame("pong", {})
    if action == "subscribe":
        return _subscribe(connection_id, message)
    shown = json.dumps(action, ensure_ascii=False)[:60] if action is not None else "none"
    return error("unknown_action", f"Unknown action {shown}; the actions are 'ping' and 'subscribe'.")


def _subscribe(connection_id: str, message: dict[str, Any]) -> dict[str, Any]:
    if "accountIds" not in message:
        return error("invalid_subscription", "accountIds: give a list of account ids, or null for every account.")
    try:
        request = _SUBSCRIBE.validate_python(message)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        return error("invalid_subscription", f"{where}: {human_message(first)}")
    ids = sorted(set(request.accountIds)) if request.accountIds is not None else None
    stored, allowed = connections.allowed_accounts(connection_id)
    if not stored:
        return error("not_connected", "This connection is not known any more; reconnect.")
    hidden = [i for i in ids or () if allowed is not None and i not in allowed]
    if hidden:  # as for an account that does not exist (users.scope)
        return error("account_not_found", f"No account with id '{hidden[0][:64]}'.")
    if not connections.set_account_filter(connection_id, ids):
        return error("not_connected", "This connection is not known any more; reconnect.")
    return frame("subscribed", {"accountIds": ids})
