"""Stored messages drive the workflow: the one hook ``ChatStore`` calls with the messages a write stored.

Every path that stores messages goes through ``ChatStore`` (webhook deliveries, live listings, the keep-alive's
listings, sends and images), and ``ChatStore`` calls :func:`on_stored` with exactly the messages that write
stored for the first time: a repeated delivery, or a message a listing sees again, stores nothing and so changes
no workflow state (idempotent by construction). The events are applied oldest first (machine.py).

The transition is a second write after the message's own transaction. If it fails (DynamoDB down between the two
writes), the message stays stored and the failure is logged and counted (``WorkflowTransitionsFailed``); the
chat's next message, or an operator's action, sets the state again.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

from avito_service.messenger.items import sk_of
from avito_service.messenger.models import Direction, Message
from avito_service.observability import logger, metrics
from avito_service.workflow import store
from avito_service.workflow.machine import Event, Incoming, Outgoing, apply

NOT_A_TURN = frozenset({"system", "deleted"})  # Avito's notices and deleted messages neither ask nor answer


def events_of(messages: Sequence[Message]) -> list[Event]:
    """The machine's events of newly stored messages, oldest first. ``automatic`` (answering's automatic
    replies) is read defensively: a message model without it is a person's reply."""
    events: list[Event] = []
    for message in sorted(messages, key=sk_of):
        if message.type in NOT_A_TURN:
            continue
        if message.direction is Direction.IN:
            events.append(Incoming(message.createdAt))
        else:
            events.append(Outgoing(message.createdAt, automatic=bool(getattr(message, "automatic", False))))
    return events


def on_stored(account_id: str, chat_id: str, messages: Sequence[Message]) -> None:
    events = events_of(messages)
    if not events:
        return
    try:
        store.transition(account_id, chat_id, lambda state: reduce(apply, events, state))
    except Exception:  # the messages are stored either way; see the module's docstring
        logger.exception("Workflow transition failed", extra={"chat_id": chat_id, "events": len(events)})
        metrics.add_metric(name="WorkflowTransitionsFailed", unit="Count", value=1)
