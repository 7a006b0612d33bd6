"""The tick: plan the next window's keep-alives of every due account as delayed SQS messages.

See the package docstring for the design. In short: read only the due accounts from the sparse GSI
``byOnlineDue`` (``nextDueAt < now + window``), claim each account's window with a conditional update
(``nextDueAt = :seen``), then send its keep-alives with ``DelaySeconds = planned - (moment of sending)``.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from avito_service import aws, clock
from avito_service.accounts.models import DEFAULT_INTERVAL, MIN_INTERVAL
from avito_service.accounts.store import Change, ConditionFailed, account_store
from avito_service.config import get_settings
from avito_service.observability import logger, metrics

SQS_BATCH = 10  # SendMessageBatch limit
MAX_DELAY = 900  # SQS DelaySeconds limit


@dataclass(frozen=True)
class PlannedKeepAlive:
    account_id: str
    planned_at: int  # unix seconds
    generation: int

    def body(self) -> str:
        return json.dumps({"accountId": self.account_id, "plannedAt": self.planned_at, "generation": self.generation})


@dataclass
class TickResult:
    accounts_read: int = 0  # items the due query returned (only due accounts)
    accounts_planned: int = 0  # accounts whose window this tick claimed
    accounts_taken: int = 0  # claimed by an overlapping tick (or changed) in between; left alone
    keep_alives: list[PlannedKeepAlive] = field(default_factory=list)
    enqueue_failures: int = 0


def plan_window(
    next_due_at: int, interval: int, now: int, horizon: int, *, restart_offset: int = 0
) -> tuple[list[int], int]:
    """Keep-alive moments of one account in ``[now, horizon)`` and the first moment left unplanned.

    A past-due account does not catch up with a burst. Late by less than its interval (a tick that ran a
    little late) it starts now. Late by a whole interval or more (missed ticks, an outage) it restarts at
    ``now + restart_offset`` (modulo the shorter of its interval and the window): the tick passes a stable hash
    of the account id, so accounts that were all due during an outage do not come back in one phase and stay
    there (benchmarks/eternal_online.py measured p99 lag 45 s for 10,000 accounts in one phase). Then one every
    ``interval`` seconds.
    """
    interval = max(int(interval), MIN_INTERVAL)
    moment = int(next_due_at)
    if moment <= now - interval:
        moment = now + restart_offset % max(min(interval, horizon - now), 1)
    moment = max(moment, now)
    moments = []
    while moment < horizon:
        moments.append(moment)
        moment += interval
    return moments, moment


def tick(*, now: float | None = None) -> TickResult:
    """Plan the keep-alives of every account due before ``now + window`` and enqueue them."""
    settings = get_settings()
    current = int(clock.now() if now is None else now)
    horizon = current + settings.schedule_window_seconds
    started = time.monotonic()
    result = TickResult()
    unsent: list[PlannedKeepAlive] = []
    for due in _due_accounts(horizon, result):
        planned = _claim(due, current, horizon)
        if planned is None:
            result.accounts_taken += 1
            continue
        result.accounts_planned += 1
        result.keep_alives.extend(planned)
        unsent.extend(planned)
        if len(unsent) >= SQS_BATCH:
            # Send as we go (soonest due first) and count delays from the moment of sending: a tick over
            # thousands of accounts runs for a minute or more, and keep-alives sent at its end with delays
            # counted from its start would all run that much late.
            full = len(unsent) - len(unsent) % SQS_BATCH
            sent_at = current + round(time.monotonic() - started)
            result.enqueue_failures += _enqueue(unsent[:full], sent_at, settings.keepalive_queue_url)
            del unsent[:full]
    sent_at = current + round(time.monotonic() - started)
    result.enqueue_failures += _enqueue(unsent, sent_at, settings.keepalive_queue_url)
    metrics.add_metric(name="KeepAlivesPlanned", unit="Count", value=len(result.keep_alives))
    metrics.add_metric(name="OnlineAccountsDue", unit="Count", value=result.accounts_read)
    logger.info(
        "Keep-alives planned",
        extra={
            "accounts_due": result.accounts_read,
            "accounts_planned": result.accounts_planned,
            "accounts_taken": result.accounts_taken,
            "keep_alives": len(result.keep_alives),
            "enqueue_failures": result.enqueue_failures,
        },
    )
    return result


def plan_account(account_id: str, *, now: float | None = None) -> list[PlannedKeepAlive]:
    """Plan one account's keep-alives of the window starting now, at once (not at the next tick).

    Called when its online settings change (enabled, interval changed): those changes bump ``onlineGeneration``
    (what was planned before is skipped by the worker) and set ``nextDueAt``; without this the new interval
    would wait for the next tick, up to ``schedule_window_seconds`` later, and an account whose old interval
    was 3600 s would have had no keep-alive planned at all until its old ``nextDueAt``. The same claim as the
    tick's (``nextDueAt`` and the generation unchanged), so a tick running at the same moment plans nothing
    twice. An SQS failure is logged and counted, never raised: the settings are stored, and the next tick plans
    from ``nextDueAt`` on."""
    settings = get_settings()
    current = int(clock.now() if now is None else now)
    item = account_store().get(account_id)
    if not item or not item.get("eternalOnlineEnabled") or item.get("nextDueAt") is None:
        return []
    due = {
        "id": account_id,
        "nextDueAt": item["nextDueAt"],
        "onlineKeepAliveInterval": item.get("onlineKeepAliveInterval"),
        "onlineGeneration": item.get("onlineGeneration"),
    }
    horizon = current + settings.schedule_window_seconds
    if int(item["nextDueAt"]) >= horizon:
        return []  # nothing due in this window (enable just ran one, and the interval is long): the tick's job
    planned = _claim(due, current, horizon)
    if not planned:
        return []
    try:
        _enqueue(planned, current, settings.keepalive_queue_url)
    except (ClientError, BotoCoreError) as exc:
        logger.error("Keep-alives could not be enqueued", extra={"account_id": account_id, "reason": str(exc)[:200]})
        metrics.add_metric(name="KeepAliveEnqueueFailed", unit="Count", value=len(planned))
    logger.info("Keep-alives planned at once", extra={"account_id": account_id, "keep_alives": len(planned)})
    return planned


def _due_accounts(horizon: int, result: TickResult) -> Iterator[dict[str, Any]]:
    """The accounts due before ``horizon``, soonest first (index items: id, nextDueAt, interval, generation)."""
    for item in account_store().online_due(horizon):
        result.accounts_read += 1
        yield item


def _claim(due: dict[str, Any], now: int, horizon: int) -> list[PlannedKeepAlive] | None:
    """Advance the account's ``nextDueAt`` past this window, only if nobody did since we read it."""
    seen = int(due["nextDueAt"])
    generation = due.get("onlineGeneration")
    interval = int(due.get("onlineKeepAliveInterval") or DEFAULT_INTERVAL)
    spread = zlib.crc32(str(due["id"]).encode())
    moments, next_due = plan_window(seen, interval, now, horizon, restart_offset=spread)
    change = Change(
        set_values={"nextDueAt": next_due},
        expected_values={"nextDueAt": seen, "onlineGeneration": generation},  # None: must still be absent
        bump_version=False,
    )
    try:
        account_store().update(str(due["id"]), change)
    except ConditionFailed:
        return None
    return [PlannedKeepAlive(str(due["id"]), moment, int(generation or 0)) for moment in moments]


def _enqueue(keep_alives: list[PlannedKeepAlive], now: int, queue_url: str) -> int:
    """Send in batches of 10, each delayed until its planned moment; returns how many could not be sent."""
    failures = 0
    for start in range(0, len(keep_alives), SQS_BATCH):
        batch = keep_alives[start : start + SQS_BATCH]
        entries = [
            {
                "Id": str(n),
                "MessageBody": planned.body(),
                "DelaySeconds": min(max(planned.planned_at - now, 0), MAX_DELAY),
            }
            for n, planned in enumerate(batch)
        ]
        answer = aws.sqs_client().send_message_batch(QueueUrl=queue_url, Entries=entries)
        retry = [entries[int(f["Id"])] for f in answer.get("Failed", []) if not f.get("SenderFault")]
        if retry:
            answer_retry = aws.sqs_client().send_message_batch(QueueUrl=queue_url, Entries=retry)
            failures += len(answer_retry.get("Failed", []))
        failures += sum(1 for f in answer.get("Failed", []) if f.get("SenderFault"))
    if failures:
        # Already claimed: these keep-alives are missed (the account's next ones are planned as usual).
        logger.error("Some keep-alives could not be enqueued", extra={"count": failures})
        metrics.add_metric(name="KeepAliveEnqueueFailed", unit="Count", value=failures)
    return failures
