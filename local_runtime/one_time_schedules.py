"""EventBridge Scheduler one-time schedules (``at(...)``) that the functions create at run time, fired locally.

moto keeps the schedules the code creates (``scheduler:CreateSchedule``) but never fires them. This poller does,
for any schedule of any group, with no per-function code: every ``POLL_SECONDS`` it lists the schedules, reads a
new or changed one once (``get_schedule``: the expression, its time zone, the target), and when an enabled
``at(...)`` schedule is due it hands the target's ``Input`` to the target (a function of the template by its ARN,
or an SQS queue), then deletes the schedule (``ActionAfterCompletion: DELETE``) or disables it, as Scheduler
does. Recurring ``rate``/``cron`` schedules created at run time are left alone (the template's own are
local_runtime/schedules.py's).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

POLL_SECONDS = 0.5
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_KEEP_ON_UPDATE = (
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
    "Description",
    "StartDate",
    "EndDate",
    "KmsKeyArn",
    "ActionAfterCompletion",
)


def due_time(schedule: dict[str, Any]) -> datetime | None:
    """When a one-time schedule fires (None for any other expression)."""
    match = _AT.match(str(schedule.get("ScheduleExpression", "")).strip())
    if not match:
        return None
    zone = ZoneInfo(str(schedule.get("ScheduleExpressionTimezone") or "UTC"))
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone)


class OneTimeSchedules:
    def __init__(
        self,
        client: Callable[[], Any],
        invoke: Callable[[str, Any], Any],
        send: Callable[[str, str], None],
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._client = client
        self._invoke = invoke  # (function ARN, event)
        self._send = send  # (queue ARN, message body)
        self._poll = poll_seconds
        self._stopped = threading.Event()
        self._known: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}  # (group, name) -> (modified, schedule)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="one-time-schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def join(self, timeout: float) -> None:
        if self._thread:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stopped.wait(self._poll):
            try:
                self.tick()
            except Exception as error:  # moto stopping, a network hiccup: try again next time
                print(f"[local_runtime] one-time schedules: {error}", file=sys.stderr)

    def _listed(self, client: Any) -> list[dict[str, Any]]:
        found, token = [], None
        while True:
            page = client.list_schedules(**({"NextToken": token} if token else {}))
            found.extend(page.get("Schedules") or [])
            token = page.get("NextToken")
            if not token:
                return found

    def tick(self, now: datetime | None = None) -> int:
        """Fire every due one-time schedule once; returns how many fired."""
        client = self._client()
        current = now or datetime.now(UTC)
        fired = 0
        listed = self._listed(client)
        present = set()
        for summary in listed:
            key = (str(summary.get("GroupName") or "default"), str(summary["Name"]))
            present.add(key)
            if summary.get("State", "ENABLED") != "ENABLED":
                continue
            modified = summary.get("LastModificationDate") or summary.get("CreationDate")
            known = self._known.get(key)
            if known is None or known[0] != modified:
                known = (modified, client.get_schedule(GroupName=key[0], Name=key[1]))
                self._known[key] = known
            schedule = known[1]
            due = due_time(schedule)
            if due is None or due > current:
                continue
            self._fire(client, key, schedule)
            fired += 1
        for gone in set(self._known) - present:
            del self._known[gone]
        return fired

    def _fire(self, client: Any, key: tuple[str, str], schedule: dict[str, Any]) -> None:
        target = schedule["Target"]
        body = target.get("Input") or "{}"
        arn = str(target["Arn"])
        try:
            if ":sqs:" in arn:
                self._send(arn, body)
            else:
                self._invoke(arn, json.loads(body))
        except Exception as error:
            print(f"[local_runtime] one-time schedule {key[1]} failed: {error}", file=sys.stderr)
        if schedule.get("ActionAfterCompletion") == "DELETE":
            client.delete_schedule(GroupName=key[0], Name=key[1])
        else:
            kept = {name: schedule[name] for name in _KEEP_ON_UPDATE if schedule.get(name) is not None}
            client.update_schedule(GroupName=key[0], Name=key[1], State="DISABLED", **kept)
        self._known.pop(key, None)
