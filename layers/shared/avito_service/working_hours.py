"""An account's working-hours calendar: is an instant working time, when does work start next, and how many
working seconds lie between two instants (the reports measure reply times in working hours with it: a message
at 23:50 answered at 09:05 the next morning, with work from 09:00, waited 5 working minutes).

The calendar is ``{timezone, days: {"mon": ["09:00", "21:00"], ...}, holidays: ["YYYY-MM-DD", ...]}``: the
hours are local times of the account's IANA time zone (``zoneinfo``, so daylight-saving changes are the time
zone database's, not ours); a day missing from ``days`` is a day off; a holiday is a day off whatever its
weekday. A day whose end is not after its start (``["20:00", "02:00"]``) runs past midnight into the next day;
``"24:00"`` is the end of the day. A holiday cancels the working period that *starts* on it.

Hand-written rather than a library: the well-kept ones (``workalendar``, ``businesstimedelta``) bring national
holiday tables and their own models of rules; a call centre gives its days and holidays itself, and the whole
arithmetic is one loop over local days.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field

from avito_service.base import Model

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_HOLIDAYS = 400
SEARCH_DAYS = 400  # next_working_start looks this far ahead (a year of holidays and days off)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name[:64]}' is not an IANA time zone (e.g. Europe/Moscow)") from None
    return name


def _hours(value: list[str]) -> list[str]:
    if len(value) != 2 or not all(isinstance(v, str) and _HHMM.match(v) for v in value):
        raise ValueError('give ["HH:MM", "HH:MM"] (00:00-24:00)')
    if value[0] == value[1]:
        raise ValueError("start and end are the same time")
    if value[0] == "24:00":
        raise ValueError("a day cannot start at 24:00")
    return value


def _days(value: dict[str, list[str]]) -> dict[str, list[str]]:
    unknown = sorted(set(value) - set(DAYS))
    if unknown:
        raise ValueError(f"unknown day '{unknown[0][:10]}': use {', '.join(DAYS)}")
    return {day: _hours(hours) for day, hours in value.items()}


class WorkingHoursSpec(Model):
    """The calendar as the API reads and writes it."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    timezone: Annotated[str, Field(max_length=64), AfterValidator(_zone)] = "Europe/Moscow"
    days: Annotated[dict[str, list[str]], AfterValidator(_days)] = Field(
        default_factory=lambda: {day: ["09:00", "21:00"] for day in DAYS[:5]},
        description='working hours per weekday, e.g. {"mon": ["09:00", "21:00"]}; a missing day is a day off',
        json_schema_extra={"propertyNames": {"enum": list(DAYS)}},
    )
    holidays: Annotated[list[date], Field(max_length=MAX_HOLIDAYS)] = Field(
        default_factory=list, description="days off whatever their weekday (YYYY-MM-DD, the account's time zone)"
    )


def _parse_time(value: str) -> tuple[time, bool]:
    """``HH:MM`` -> (time, is_24:00)."""
    if value == "24:00":
        return time(0, 0), True
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes)), False


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    days: Mapping[int, tuple[time, time, int]]  # weekday -> (start, end, days the end is after the start's day)
    holidays: frozenset[date]

    @classmethod
    def from_spec(cls, spec: WorkingHoursSpec | Mapping[str, Any]) -> Calendar:
        spec = spec if isinstance(spec, WorkingHoursSpec) else WorkingHoursSpec.model_validate(spec)
        days: dict[int, tuple[time, time, int]] = {}
        for name, (start_text, end_text) in spec.days.items():
            start, _ = _parse_time(start_text)
            end, midnight = _parse_time(end_text)
            crosses = 1 if midnight or end <= start else 0
            days[DAYS.index(name)] = (start, end, crosses)
        return cls(ZoneInfo(spec.timezone), days, frozenset(spec.holidays))

    # --- the working periods -------------------------------------------------------------------------------

    def _period(self, day: date) -> tuple[datetime, datetime] | None:
        """The working period that starts on local ``day``, in UTC (None on a day off or a holiday)."""
        if day in self.holidays or day.weekday() not in self.days:
            return None
        start, end, crosses = self.days[day.weekday()]
        begin = datetime.combine(day, start, tzinfo=self.zone).astimezone(UTC)
        finish = datetime.combine(day + timedelta(days=crosses), end, tzinfo=self.zone).astimezone(UTC)
        return (begin, finish) if finish > begin else None

    def _periods(self, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
        day = first
        while day <= last:
            period = self._period(day)
            if period is not None:
                yield period
            day += timedelta(days=1)

    def _local_day(self, instant: datetime) -> date:
        return _utc(instant).astimezone(self.zone).date()

    # --- the questions -------------------------------------------------------------------------------------

    def is_working(self, instant: datetime) -> bool:
        """Whether ``instant`` is inside a working period (start included, end excluded)."""
        moment = _utc(instant)
        day = self._local_day(moment)
        return any(begin <= moment < end for begin, end in self._periods(day - timedelta(days=1), day))

    def next_working_start(self, instant: datetime) -> datetime | None:
        """The first working instant at or after ``instant``: ``instant`` itself during working time, else the
        start of the next working period (UTC). None when no working period starts within SEARCH_DAYS days."""
        moment = _utc(instant)
        day = self._local_day(moment)
        for begin, end in self._periods(day - timedelta(days=1), day + timedelta(days=SEARCH_DAYS)):
            if end > moment:
                return max(begin, moment)
        return None

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of working time between ``start`` and ``end`` (0 when ``end`` is not after ``start``)."""
        begin_at, end_at = _utc(start), _utc(end)
        if end_at <= begin_at:
            return 0.0
        total = 0.0
        first, last = self._local_day(begin_at) - timedelta(days=1), self._local_day(end_at)
        for begin, finish in self._periods(first, last):
            overlap = (min(finish, end_at) - max(begin, begin_at)).total_seconds()
            if overlap > 0:
                total += overlap
        return total


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a calendar answers for aware datetimes only (UTC or with an offset)")
    return instant.astimezone(UTC)
