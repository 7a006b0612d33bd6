"""The offline grace period (issue 25): a chat whose assignee went offline goes back to the queue after
``OFFLINE_GRACE_MINUTES`` (default 10), without a timer that scans anything.

- **Offline** = no open WebSocket connection (presence is the user's live connections, as auto-assignment reads
  it). ``away`` (``PUT /me/presence``) does **not** release chats: an operator who says "away" is still at work
  and keeps what they hold; away only stops new chats from being given to them (the contract says no more).
- When a user's **last** connection closes (``$disconnect``: the user closed the console, the network dropped,
  API Gateway's 10-minute idle or 2-hour limit, a revoked token), :func:`on_disconnect` stores the offline period
  (``USER#<id>`` / ``OFFLINE``, ``since``) and creates one EventBridge Scheduler one-time schedule at
  ``since + grace`` (schedules.py; name from (user, since), so a repeated ``$disconnect`` arms nothing twice).
  A user who still holds another connection (a second tab) is not offline: nothing is armed.
- When it fires (WorkflowAlertFunction, :func:`release_if_offline`), it re-checks and acts only if the user
  is still offline **and** in the same offline period: a reconnect within the grace (a reload, a network
  blip) finds a live connection and keeps everything; a reconnect and a later disconnect has moved ``since`` on,
  so the older schedule does nothing and the newer one decides. Otherwise each open chat the user holds (their
  ``byAssignee`` partition) goes back to the queue through the machine (``OfflineRelease``: ``new``, no
  assignee, under the chat's version, so a claim or transfer meanwhile wins), which the stream announces as
  ``avito-chat-assigned`` (``by: null``) and auto-assignment may give to someone available; each release is in
  the audit log (``chat.release`` by ``system``, ``reason: offline``).

A ``$disconnect`` that never runs (API Gateway does not promise it) arms nothing: such a user's chats stay theirs
until someone transfers or releases them, as before.
"""

from __future__ import annotations

import hashlib

from avito_service import clock
from avito_service.audit import service as audit
from avito_service.config import get_settings
from avito_service.live import store as connections
from avito_service.observability import logger, metrics
from avito_service.workflow import machine, schedules, store

SYSTEM = "system"  # the audit log's actor for what the service does by itself
KIND = "offline"  # the schedule's payload kind (WorkflowAlertFunction also fires waiting alerts)


def grace_seconds() -> int:
    return int(get_settings().offline_grace_minutes) * 60


def schedule_name(user_id: str, since: str) -> str:
    """Deterministic per offline period; Scheduler names: 1-64 of [0-9a-zA-Z-_.]."""
    return f"offline-{hashlib.sha256(f'{user_id}\n{since}'.encode()).hexdigest()[:40]}"


def on_disconnect(user_id: str, *, now: float | None = None) -> bool:
    """A connection of ``user_id`` closed (and is forgotten already): if it was their last, arm the grace
    schedule. True when armed."""
    current = clock.now() if now is None else now
    if not get_settings().alert_function_arn:  # template.yaml always sets it; a bare test or script may not
        logger.warning("Offline grace period not armed: ALERT_FUNCTION_ARN is not set")
        return False
    if not user_id or connections.has_live_connection(user_id, now=current):
        return False
    since = clock.iso(current)
    store.mark_offline(user_id, since)
    payload = {"kind": KIND, "userId": user_id, "since": since}
    schedules.create_once(schedule_name(user_id, since), current + grace_seconds(), payload)
    metrics.add_metric(name="OfflineGraceArmed", unit="Count", value=1)
    return True


def release_if_offline(user_id: str, since: str, *, now: float | None = None) -> int:
    """The grace schedule of the offline period that began at ``since`` fired: give the user's open chats back
    to the queue if they are still offline in that period. Answers how many chats went back."""
    if connections.has_live_connection(user_id, now=now):
        return 0  # came back within the grace
    if store.offline_since(user_id) != since:
        return 0  # reconnected and left again meanwhile: that period's own schedule decides
    released = 0
    for account_id, chat_id in store.open_chats_held_by(user_id):
        try:
            before, after, _ = store.transition(
                account_id, chat_id, lambda state: machine.apply(state, machine.OfflineRelease(user_id))
            )
        except Exception:  # one chat failing does not keep the others; the schedule is not retried for it
            logger.exception("Offline release failed", extra={"chat_id": chat_id[:200]})
            metrics.add_metric(name="OfflineReleaseFailed", unit="Count", value=1)
            continue
        if after == before:
            continue
        released += 1
        audit.record(
            SYSTEM,
            None,
            "chat.release",
            f"chat:{account_id}/{chat_id}",
            {"status": after.status.value, "assignee": None, "from": user_id, "reason": "offline", "since": since},
        )
    metrics.add_metric(name="ChatsReleasedOffline", unit="Count", value=released)
    return released
