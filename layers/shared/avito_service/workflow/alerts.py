"""Waiting alerts without a timer that scans the chats: EventBridge Scheduler one-time schedules.

When a chat starts waiting (``awaitingReplySince`` set or moved: the MessengerTable stream's chat record, read by
the fan-out, :func:`on_chat_change`), one schedule is created for the account's first threshold
(``at(awaitingReplySince + minutes)``). When it fires (WorkflowAlertFunction, :func:`fire`), the chat is marked
alerted for that threshold, conditional on the same waiting period still going and the threshold not marked yet
(``store.mark_alerted``): that write's stream record is what the fan-out announces as ``avito-chat-waiting``, and
it arms the next threshold the same way. An answered chat's schedule finds nothing to mark and the chain stops.
Only the fan-out creates schedules (one IAM grant; the alert function does not need its own ARN).

Once per threshold per waiting period, whatever repeats: a schedule's name is derived from (account, chat, period,
threshold), so arming twice (a stream record retried, a repeated delivery) finds the schedule already there
(ConflictException), and a schedule that fires twice finds the threshold marked. Schedules delete themselves after
firing (``ActionAfterCompletion: DELETE``; schedules.py). A threshold already past when the wait is seen (history
found late) is alerted at once, in the same way.

The thresholds are read when a schedule fires, not only when it is armed: an admin may change the account's
``waitAlertMinutes`` in between (``PUT .../routing``). A threshold no longer in the list alerts nobody; it is
marked handled without a frame (``store.mark_skipped``, same conditions), and that write's stream record arms the
next current threshold above it, as an alert's would (nothing else would arm it). A list that now only has smaller
thresholds arms nothing more for this waiting period (their time has passed; a new period uses them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from avito_service import clock
from avito_service.observability import logger, metrics
from avito_service.workflow import schedules, store

DEFAULT_THRESHOLDS = (5, 15, 30)  # minutes (contract: waitAlertMinutes)


def thresholds(account_id: str) -> list[int]:
    routing = store.get_routing(account_id) or {}
    found = [int(m) for m in routing.get("waitAlertMinutes") or ()]
    return sorted(found) or list(DEFAULT_THRESHOLDS)


def schedule_name(account_id: str, chat_id: str, since: str, threshold: int) -> str:
    """Deterministic (one schedule per threshold and waiting period); Scheduler names: 1-64 of [0-9a-zA-Z-_.]."""
    digest = hashlib.sha256(f"{account_id}\n{chat_id}\n{since}".encode()).hexdigest()[:40]
    return f"wait-{digest}-{threshold}"


def arm(account_id: str, chat_id: str, since: str, after: int = 0, *, now: float | None = None) -> int | None:
    """Arm the first threshold above ``after`` (minutes) of the waiting period that began at ``since``; returns it
    (None when there is none left). A threshold already due is alerted now."""
    upcoming = [t for t in thresholds(account_id) if t > after]
    if not upcoming:
        return None
    threshold = upcoming[0]
    due = clock.from_iso(since) + threshold * 60
    current = clock.now() if now is None else now
    payload = {"accountId": account_id, "chatId": chat_id, "since": since, "threshold": threshold}
    if due <= current:
        fire(payload, now=current)
        return threshold
    schedules.create_once(schedule_name(account_id, chat_id, since, threshold), due, payload)
    metrics.add_metric(name="WaitingAlertsArmed", unit="Count", value=1)
    return threshold


def fire(payload: Mapping[str, Any], *, now: float | None = None) -> bool:
    """A threshold's time came: mark it (once) and arm the next one. False when the chat was answered meanwhile,
    is in another waiting period, had this threshold alerted already, or the threshold is no longer one of the
    account's (then the next current one above it is armed through the stream, without a frame)."""
    account_id, chat_id = str(payload["accountId"]), str(payload["chatId"])
    since, threshold = str(payload["since"]), int(payload["threshold"])
    current = clock.now() if now is None else now
    if threshold not in thresholds(account_id):
        if store.mark_skipped(account_id, chat_id, since, threshold, clock.iso(current)) is not None:
            metrics.add_metric(name="WaitingAlertsSkipped", unit="Count", value=1)
        return False  # its stream record (if any) arms the next current threshold (on_chat_change)
    marked = store.mark_alerted(account_id, chat_id, since, threshold, clock.iso(current))
    if marked is None:
        return False
    lateness = current - (clock.from_iso(since) + threshold * 60)
    metrics.add_metric(name="WaitingAlertLateness", unit="Seconds", value=max(0.0, lateness))
    return True  # its stream record arms the next threshold (on_chat_change)


def on_chat_change(old_item: Mapping[str, Any] | None, new_item: Mapping[str, Any] | None) -> None:
    """A chat's stream record: a new waiting period arms its first alert, an alert marked (or a threshold skipped
    because the routing changed, ``wfAlertSkipped``) arms the next one. Failures are logged and counted
    (``WaitingAlertsNotArmed``), never retried through the stream, which would announce its frames again."""
    if not new_item:
        return
    old_item = old_item or {}
    since = new_item.get("awaitingReplySince")
    alert = new_item.get("wfAlert")
    skipped = new_item.get("wfAlertSkipped")
    if not since:
        return
    if old_item.get("awaitingReplySince") != since:
        after = 0
    elif alert and old_item.get("wfAlert") != alert:
        after = int(alert["threshold"])
    elif skipped and old_item.get("wfAlertSkipped") != skipped:
        after = int(skipped["threshold"])
    else:
        return
    try:
        arm(str(new_item["accountId"]), str(new_item["chatId"]), str(since), after)
    except Exception:
        logger.exception("Waiting alert not armed", extra={"chat_id": str(new_item.get("chatId"))[:200]})
        metrics.add_metric(name="WaitingAlertsNotArmed", unit="Count", value=1)
