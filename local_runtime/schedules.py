"""`Schedule` / `ScheduleV2` events: fire EventBridge "Scheduled Event"s at the schedule's rate."""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from local_runtime.functions import FunctionSpec
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.template import TemplateError
from local_runtime.workers import InvocationResult

CRON_PERIOD_SECONDS = 60.0
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Schedule:
    function_id: str
    event_name: str
    expression: str
    period_seconds: float
    rule_name: str
    input: Any = None  # parsed `Input`, sent instead of the Scheduled Event when set
    timezone: str = "UTC"  # ScheduleV2's ScheduleExpressionTimezone
    overridden: bool = False  # LOCAL_SCHEDULE_SECONDS: fire every period_seconds whatever the expression

    @property
    def key(self) -> str:
        return f"{self.function_id}.{self.event_name}"

    def seconds_until_next(self, now: datetime | None = None) -> float:
        """rate(...) and overridden schedules: their period; cron(...): until its next time in its time zone."""
        if self.overridden or not self.expression.strip().startswith("cron("):
            return self.period_seconds
        try:
            return (next_cron_time(self.expression, self.timezone, now) - (now or datetime.now(UTC))).total_seconds()
        except TemplateError:
            return self.period_seconds  # a cron feature evaluated here (L, W, #) falls back to the fixed period


def period_of(expression: str) -> float:
    """Seconds between firings: parsed from rate(...); for cron(...) CRON_PERIOD_SECONDS (the Scheduler fires
    cron schedules at their real next times, see Schedule.seconds_until_next)."""
    expression = expression.strip()
    match = _RATE.match(expression)
    if match:
        return float(int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")])
    if expression.startswith("cron(") and expression.endswith(")"):
        return CRON_PERIOD_SECONDS
    raise TemplateError(f"unsupported schedule expression {expression!r}")


_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {
    m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)
}


def _cron_field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """One field of an EventBridge cron expression -> the values it allows (None for ``*``/``?``)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        plain = base.upper()
        for name in names or {}:
            plain = plain.replace(name, "")
        if any(mark in plain for mark in ("L", "W", "#")):
            raise TemplateError(f"cron field {text!r}: L, W and # are not evaluated by the local runtime")

        def number(token: str) -> int:
            return (names or {}).get(token.upper()) or int(token)

        if base == "*":
            first, last = low, high
        elif "-" in base:
            first, last = (number(t) for t in base.split("-", 1))
        else:
            first = last = number(base)
            if step:
                last = high
        values.update(range(first, last + 1, int(step) if step else 1))
    return values


def next_cron_time(expression: str, timezone: str = "UTC", now: datetime | None = None) -> datetime:
    """The next time after ``now`` that an EventBridge ``cron(min hour day month weekday year)`` fires, in UTC.

    Written here rather than taken from a library: croniter and cronsim read Unix cron (5 fields, Sunday = 0),
    not EventBridge's 6 fields with ``?`` and Sunday = 1; this covers lists, ranges, steps and names."""
    fields = expression.strip().removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6:
        raise TemplateError(f"unsupported schedule expression {expression!r}")
    minutes = _cron_field(fields[0], 0, 59)
    hours = _cron_field(fields[1], 0, 23)
    days = _cron_field(fields[2], 1, 31)
    months = _cron_field(fields[3], 1, 12, _MONTHS)
    weekdays = _cron_field(fields[4], 1, 7, _DAYS)
    years = _cron_field(fields[5], 1970, 2199)
    zone = ZoneInfo(timezone)
    moment = (now or datetime.now(UTC)).astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60 * 5):  # minute by minute, skipping whole days and hours that cannot match
        day_ok = (
            (days is None or moment.day in days)
            and (weekdays is None or moment.isoweekday() % 7 + 1 in weekdays)
            and (months is None or moment.month in months)
            and (years is None or moment.year in years)
        )
        if not day_ok:
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
        elif hours is not None and moment.hour not in hours:
            moment = (moment + timedelta(hours=1)).replace(minute=0)
        elif minutes is not None and moment.minute not in minutes:
            moment += timedelta(minutes=1)
        else:
            return moment.astimezone(UTC)
    raise TemplateError(f"schedule expression {expression!r} never fires")


def load_schedules(
    specs: dict[str, FunctionSpec], resolver: Resolver, period_override: float | None = None
) -> list[Schedule]:
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
                    period_seconds=period_override if period_override else period,
                    rule_name=str(props.get("Name") or f"{function_id}{event_name}"),
                    input=json.loads(raw_input) if isinstance(raw_input, str) else raw_input,
                    timezone=str(props.get("ScheduleExpressionTimezone") or "UTC"),
                    overridden=bool(period_override),
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
            thread = threading.Thread(target=self._run, args=(schedule,), name=f"schedule-{schedule.key}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def fire(self, schedule: Schedule) -> InvocationResult:
        return self._invoke(schedule.function_id, scheduled_event(schedule, self._context))

    def _run(self, schedule: Schedule) -> None:
        while not self._stopped.wait(max(0.0, schedule.seconds_until_next())):
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
