"""`Schedule` / `ScheduleV2` events: fire EventBridge "Scheduled Event"s at the schedule's rate."""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local_runtime.functions import FunctionSpec
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import TemplateError
from local_runtime.workers import InvocationResult

CRON_PERIOD_SECONDS = 60.0
MANUAL = "manual"  # LOCAL_SCHEDULE_SECONDS=manual: schedules fire only when asked (LocalStack.fire_schedule)
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Schedule:
    function_id: str
    event_name: str
    expression: str
    period_seconds: float | None  # None: fired on demand only
    rule_name: str
    input: Any = None  # parsed `Input`, sent instead of the Scheduled Event when set

    @property
    def key(self) -> str:
        return f"{self.function_id}.{self.event_name}"


def period_of(expression: str) -> float:
    """Seconds between firings: parsed from rate(...); cron(...) uses a fixed CRON_PERIOD_SECONDS."""
    expression = expression.strip()
    match = _RATE.match(expression)
    if match:
        return float(int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")])
    if expression.startswith("cron(") and expression.endswith(")"):
        return CRON_PERIOD_SECONDS
    raise TemplateError(f"unsupported schedule expression {expression!r}")


def load_schedules(
    specs: dict[str, FunctionSpec], resolver: Resolver, period_override: float | str | None = None
) -> list[Schedule]:
    """Every enabled schedule; ``period_override`` replaces each period (seconds), or is ``"manual"``."""
    manual = period_override == MANUAL
    schedules = []
    for function_id, spec in specs.items():
        for event_name, event in spec.events.items():
            if event.get("Type") not in ("Schedule", "ScheduleV2"):
                continue
            props = resolver.resolve(event.get("Properties") or {}, f"{function_id}.Events.{event_name}")
            enabled = props.get("Enabled", True)
            if str(enabled).lower() == "false" or str(props.get("State", "ENABLED")).upper() == "DISABLED":
                continue
            expression = str(props.get("Schedule") or props.get("ScheduleExpression") or "")
            period = period_of(expression)
            raw_input = props.get("Input")
            schedules.append(
                Schedule(
                    function_id=function_id,
                    event_name=event_name,
                    expression=expression,
                    period_seconds=None if manual else float(period_override or period),
                    rule_name=str(props.get("Name") or f"{function_id}{event_name}"),
                    input=json.loads(raw_input) if isinstance(raw_input, str) else raw_input,
                )
            )
    return schedules


def scheduled_event(schedule: Schedule, context: StackContext) -> Any:
    if schedule.input is not None:
        return schedule.input
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": context.account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": context.region,
        "resources": [context.arn("events", f"rule/{schedule.rule_name}")],
        "detail": {},
    }


class Scheduler:
    """One timer thread per schedule; `stop()` wakes them all immediately."""

    def __init__(
        self, schedules: list[Schedule], invoke: Callable[[str, Any], InvocationResult], context: StackContext
    ) -> None:
        self.schedules = schedules
        self._invoke = invoke
        self._context = context
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for schedule in self.schedules:
            if schedule.period_seconds is None:
                continue
            thread = threading.Thread(target=self._run, args=(schedule,), name=f"schedule-{schedule.key}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def fire(self, schedule: Schedule) -> InvocationResult:
        return self._invoke(schedule.function_id, scheduled_event(schedule, self._context))

    def _run(self, schedule: Schedule) -> None:
        while not self._stopped.wait(schedule.period_seconds or 0):
            try:
                result = self.fire(schedule)
            except Exception as error:
                print(f"[local_runtime] schedule {schedule.key} failed: {error}", file=sys.stderr)
                continue
            if not result.ok:
                print(f"[local_runtime] schedule {schedule.key}: {result.error_type}", file=sys.stderr)

    def stop(self) -> None:
        """Stop firing; an invocation in flight finishes (or fails once the workers are killed)."""
        self._stopped.set()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout)
