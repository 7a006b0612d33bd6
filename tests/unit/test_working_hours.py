"""The working-hours calendar at its edges: midnight, days off, holidays, overnight hours, time zones with and
without daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from avito_service.working_hours import Calendar, WorkingHoursSpec
from pydantic import ValidationError

MSK = ZoneInfo("Europe/Moscow")  # UTC+3 all year (no daylight saving since 2014)
WEEKDAYS = {day: ["09:00", "21:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def moscow(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


def calendar(**spec: object) -> Calendar:
    return Calendar.from_spec({"timezone": "Europe/Moscow", "days": WEEKDAYS, **spec})


# 2026-12-07 is a Monday.


def test_a_message_at_23_50_answered_at_09_05_waited_five_working_minutes() -> None:
    cal = calendar()
    assert cal.working_seconds(moscow(2026, 12, 7, 23, 50), moscow(2026, 12, 8, 9, 5)) == 5 * 60


def test_is_working_includes_the_start_and_excludes_the_end() -> None:
    cal = calendar()
    assert not cal.is_working(moscow(2026, 12, 7, 8, 59, 59))
    assert cal.is_working(moscow(2026, 12, 7, 9, 0))
    assert cal.is_working(moscow(2026, 12, 7, 20, 59, 59))
    assert not cal.is_working(moscow(2026, 12, 7, 21, 0))
    assert not cal.is_working(moscow(2026, 12, 7, 0, 0))  # midnight


def test_the_answer_does_not_depend_on_the_offset_the_instant_is_given_in() -> None:
    cal = calendar()
    instant = moscow(2026, 12, 7, 9, 30)
    assert cal.is_working(instant.astimezone(UTC))
    assert cal.is_working(instant.astimezone(ZoneInfo("America/New_York")))
    with pytest.raises(ValueError, match="aware"):
        cal.is_working(datetime(2026, 12, 7, 9, 30))  # noqa: DTZ001 - the point of the test


def test_days_off_are_skipped() -> None:
    cal = calendar()
    friday_evening, monday_morning = moscow(2026, 12, 11, 20, 0), moscow(2026, 12, 14, 10, 0)
    assert not cal.is_working(moscow(2026, 12, 12, 12, 0))  # Saturday
    assert cal.next_working_start(moscow(2026, 12, 11, 22, 0)) == moscow(2026, 12, 14, 9, 0)
    assert cal.working_seconds(friday_evening, monday_morning) == 2 * 3600  # 20-21 Friday, 9-10 Monday


def test_holidays_are_days_off_whatever_their_weekday() -> None:
    cal = calendar(holidays=["2026-12-31", "2027-01-01"])
    assert not cal.is_working(moscow(2026, 12, 31, 12, 0))  # a Thursday
    assert cal.next_working_start(moscow(2026, 12, 30, 21, 30)) == moscow(2027, 1, 4, 9, 0)
    assert cal.working_seconds(moscow(2026, 12, 30, 20, 0), moscow(2027, 1, 4, 9, 30)) == 90 * 60


def test_next_working_start_during_work_is_now() -> None:
    cal = calendar()
    now = moscow(2026, 12, 7, 12, 34, 56)
    assert cal.next_working_start(now) == now.astimezone(UTC)
    assert cal.next_working_start(moscow(2026, 12, 7, 21, 0)) == moscow(2026, 12, 8, 9, 0)


def test_overnight_hours_run_past_midnight() -> None:
    cal = Calendar.from_spec({"timezone": "Europe/Moscow", "days": {"fri": ["20:00", "02:00"]}})
    assert cal.is_working(moscow(2026, 12, 11, 23, 59))
    assert cal.is_working(moscow(2026, 12, 12, 0, 0))  # Saturday 00:00: still Friday's shift
    assert cal.is_working(moscow(2026, 12, 12, 1, 59))
    assert not cal.is_working(moscow(2026, 12, 12, 2, 0))
    assert not cal.is_working(moscow(2026, 12, 12, 20, 0))  # Saturday has no shift of its own
    assert cal.working_seconds(moscow(2026, 12, 11, 0, 0), moscow(2026, 12, 13, 0, 0)) == 6 * 3600


def test_a_whole_day_and_24_00() -> None:
    cal = Calendar.from_spec({"timezone": "Europe/Moscow", "days": {"mon": ["00:00", "24:00"]}})
    assert cal.is_working(moscow(2026, 12, 7, 0, 0)) and cal.is_working(moscow(2026, 12, 7, 23, 59, 59))
    assert not cal.is_working(moscow(2026, 12, 8, 0, 0))
    assert cal.working_seconds(moscow(2026, 12, 6, 12, 0), moscow(2026, 12, 9, 12, 0)) == 24 * 3600


def test_no_working_days_has_no_next_start_and_no_working_time() -> None:
    cal = Calendar.from_spec({"timezone": "Europe/Moscow", "days": {}})
    assert cal.next_working_start(moscow(2026, 12, 7, 12, 0)) is None
    assert cal.working_seconds(moscow(2026, 12, 7), moscow(2027, 12, 7)) == 0


def test_end_before_start_counts_nothing() -> None:
    cal = calendar()
    assert cal.working_seconds(moscow(2026, 12, 7, 12, 0), moscow(2026, 12, 7, 11, 0)) == 0


# --- daylight saving: New York moved from EDT (UTC-4) to EST (UTC-5) on 2026-11-01 at 02:00 -------------------

NY = ZoneInfo("America/New_York")


def test_local_hours_follow_daylight_saving() -> None:
    cal = Calendar.from_spec({"timezone": "America/New_York", "days": {"fri": ["09:00", "17:00"]}})
    before = datetime(2026, 10, 30, 13, 0, tzinfo=UTC)  # 09:00 EDT
    after = datetime(2026, 11, 6, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert cal.is_working(before) and not cal.is_working(before - timedelta(seconds=1))
    assert cal.is_working(after) and not cal.is_working(after - timedelta(seconds=1))
    assert cal.next_working_start(datetime(2026, 10, 31, 0, 0, tzinfo=UTC)) == after


def test_a_shift_across_the_daylight_saving_change_is_an_hour_longer() -> None:
    # Saturday 2026-10-31 22:00 to Sunday 06:00 local: 02:00 EDT happens twice, so the shift is 9 real hours.
    cal = Calendar.from_spec({"timezone": "America/New_York", "days": {"sat": ["22:00", "06:00"]}})
    start = datetime(2026, 10, 31, 22, 0, tzinfo=NY)
    assert cal.working_seconds(start - timedelta(hours=1), start + timedelta(days=1)) == 9 * 3600


def test_a_shift_across_the_spring_change_is_an_hour_shorter() -> None:
    # 2027-03-14 02:00 EST jumps to 03:00 EDT: Saturday 22:00 to Sunday 06:00 is 7 real hours.
    cal = Calendar.from_spec({"timezone": "America/New_York", "days": {"sat": ["22:00", "06:00"]}})
    start = datetime(2027, 3, 13, 22, 0, tzinfo=NY)
    assert cal.working_seconds(start, start + timedelta(days=1)) == 7 * 3600


def test_a_time_zone_east_of_utc_with_a_working_day_starting_before_utc_midnight() -> None:
    # Vladivostok is UTC+10: Monday 09:00 there is Sunday 23:00 UTC.
    cal = Calendar.from_spec({"timezone": "Asia/Vladivostok", "days": {"mon": ["09:00", "18:00"]}})
    assert cal.is_working(datetime(2026, 12, 6, 23, 0, tzinfo=UTC))
    assert not cal.is_working(datetime(2026, 12, 6, 22, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"days": {"monday": ["09:00", "18:00"]}}, "days"),
        ({"days": {"mon": ["9:00", "18:00"]}}, "days"),
        ({"days": {"mon": ["09:00", "25:00"]}}, "days"),
        ({"days": {"mon": ["09:00", "09:00"]}}, "days"),
        ({"days": {"mon": ["24:00", "09:00"]}}, "days"),
        ({"days": {"mon": ["09:00"]}}, "days"),
        ({"holidays": ["2026-02-30"]}, "holidays"),
        ({"weekends": []}, "weekends"),
    ],
)
def test_bad_calendars_are_refused_with_the_field(spec: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WorkingHoursSpec.model_validate(spec)
    assert caught.value.errors()[0]["loc"][0] == field


def test_the_default_is_weekdays_nine_to_nine_in_moscow() -> None:
    spec = WorkingHoursSpec()
    assert spec.timezone == "Europe/Moscow" and spec.days == WEEKDAYS and spec.holidays == []
