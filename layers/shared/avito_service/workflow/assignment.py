"""Auto-assignment (contract, "Chat workflow"): a chat that enters the queue (``new``, and waiting for a reply) is
given to an available operator who may see its account, per the account's routing mode:

- ``round_robin``: the operators in turn (a counter on the routing item, moved on atomically), skipping those
  at ``maxOpenPerOperator``;
- ``least_busy``: the one with the fewest open chats (their ``byAssignee`` partition, counted), under the cap;
- ``off``: nobody; the chat stays ``new``, as it does when nobody is available.

Available = has a live WebSocket connection (the fan-out's connections of this batch) and has not set ``away``
(``PUT /me/presence``). The last assignee of a chat reopened by its client (the hint) is preferred when
available and under the cap. The assignment is the machine's ``AutoAssign`` under the chat's version: an
operator's claim meanwhile wins and the assignment is dropped.

Triggered by the fan-out from the MessengerTable stream (:func:`on_chat_change`), so records of one chat are seen
in order and a retried record assigns nothing twice (the chat is no longer ``new``). The cap counts the
``byAssignee`` index, which DynamoDB updates within a second of a write: two assignments to one operator in the
same second on two stream shards may pass the cap by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from avito_service.observability import logger, metrics
from avito_service.workflow import machine, store
from avito_service.workflow.machine import Person

OPERATOR = "operator"


def candidates(account_id: str, connections: Iterable[Any]) -> list[str]:
    """Operators with a live connection who may see the account and have not set ``away``, sorted."""
    online = {
        c.sub for c in connections if c.role == OPERATOR and c.sub and (c.allowed is None or account_id in c.allowed)
    }
    return sorted(online - store.away_users(sorted(online)))


def choose(account_id: str, routing: Mapping[str, Any], available: list[str], hint: str | None) -> str | None:
    mode = routing.get("mode", "off")
    if mode == "off" or not available:
        return None
    cap = int(routing["maxOpenPerOperator"]) if routing.get("maxOpenPerOperator") else None
    load: dict[str, int] = {}

    def open_of(user_id: str) -> int:
        if user_id not in load:
            load[user_id] = store.open_chats_of(user_id)
        return load[user_id]

    def under_cap(user_id: str) -> bool:
        return cap is None or open_of(user_id) < cap

    if hint in available and under_cap(hint):
        return hint
    if mode == "least_busy":
        allowed = [u for u in available if under_cap(u)]
        return min(allowed, key=lambda u: (open_of(u), u)) if allowed else None
    start = store.next_turn(account_id) % len(available)
    for user_id in available[start:] + available[:start]:
        if under_cap(user_id):
            return user_id
    return None


def on_chat_change(
    old_item: Mapping[str, Any] | None, new_item: Mapping[str, Any] | None, connections: Iterable[Any]
) -> str | None:
    """A chat's stream record: if it entered the queue with a client waiting, try to give it to someone. Returns
    the user it went to. Failures are logged and counted (``AutoAssignFailed``), never raised into the fan-out."""
    if not new_item or new_item.get("status", "new") != "new" or not new_item.get("awaitingReplySince"):
        return None
    old_item = old_item or {}
    entered = old_item.get("status", "new") != "new" or not old_item.get("awaitingReplySince")
    if not entered and old_item.get("assignee") == new_item.get("assignee"):
        return None
    account_id, chat_id = str(new_item["accountId"]), str(new_item["chatId"])
    try:
        routing = store.get_routing(account_id) or {}
        if routing.get("mode", "off") == "off":
            return None
        hint = (new_item.get("assignee") or {}).get("userId")
        chosen = choose(account_id, routing, candidates(account_id, connections), hint)
        if chosen is None:
            return None
        person = Person(chosen, None)
        store.transition(account_id, chat_id, lambda state: machine.apply(state, machine.AutoAssign(person)))
    except machine.NotAssignable:
        return None
    except Exception:
        logger.exception("Auto-assignment failed", extra={"chat_id": chat_id[:200]})
        metrics.add_metric(name="AutoAssignFailed", unit="Count", value=1)
        return None
    metrics.add_metric(name="ChatsAutoAssigned", unit="Count", value=1)
    return chosen
