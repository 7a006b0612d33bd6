"""The reports' figures from known scripts of messages (the clock is the messages' own times): the per-chat
tally, the histogram's quantiles and their error bound, working-time edges."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from avito_service.reports import figures, histogram
from avito_service.reports.figures import MessageFacts, Sender, Tally
from avito_service.working_hours import Calendar

MSK_0900 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC).timestamp()  # Monday 09:00 Moscow (UTC+3)
OP = Sender("op-1", "Ольга")


def msg(n: int, at: float, *, incoming: bool, automatic: bool = False, sender: Sender | None = None) -> MessageFacts:
    return MessageFacts(f"m{n}", "acc", "chat", incoming, at, automatic=automatic, sender=sender)


def run(script: list[MessageFacts], calendar: Calendar | None = None, slow: float = 300) -> tuple[Tally, list]:
    tally, effects = Tally(), []
    for message in script:
        effect = figures.apply(tally, message, calendar=calendar, slow_after_seconds=slow)
        tally = effect.tally
        effects.append(effect)
    return tally, effects


def test_a_conversation_gives_first_response_reply_times_counts_and_waiting() -> None:
    t = MSK_0900
    tally, effects = run(
        [
            msg(1, t, incoming=True),
            msg(2, t + 30, incoming=True),  # still the same wait (started at t)
            msg(3, t + 40, incoming=False, automatic=True),  # greeting: counts out, ends nothing
            msg(4, t + 120, incoming=False, sender=OP),  # first response: 120 s
            msg(5, t + 600, incoming=True),  # a new wait
            msg(6, t + 1200, incoming=False),  # from Avito's app: reply of 600 s, no operator credited
        ]
    )
    assert (tally.messages_in, tally.messages_out) == (3, 3)
    assert tally.first_in_at == t and tally.first_response_at == t + 120 and tally.awaiting_since is None
    assert [e.waiting_delta for e in effects] == [1, 0, 0, -1, 1, -1]
    assert effects[3].first_response_seconds == 120 and effects[3].reply_seconds == 120
    assert effects[5].reply_seconds == 600 and effects[5].first_response_seconds is None
    day = figures.report_day(t)
    assert effects[0].account_adds[day] == {"messagesIn": 1, "chatsStarted": 1}
    assert effects[2].account_adds[day] == {"messagesOut": 1} and effects[2].operator is None
    credited = effects[3].operator_adds[day]
    assert credited["chatsAnswered"] == 1 and credited["replies"] == 1 and credited["messagesOut"] == 1
    assert credited[f"fr_{histogram.bucket_of(120)}"] == 1 and "slowReplies" not in credited
    assert effects[5].operator_adds == {} and effects[5].account_adds[day]["slowReplies"] == 1  # 600 s > 300 s


def test_automatic_replies_do_not_end_a_wait_and_an_outgoing_first_message_opens_none() -> None:
    t = MSK_0900
    tally, effects = run([msg(1, t, incoming=False, sender=OP), msg(2, t + 5, incoming=True)])
    assert effects[0].reply_seconds is None and tally.first_message_at == t and tally.first_in_at == t + 5
    tally, effects = run([msg(1, t, incoming=True), msg(2, t + 1, incoming=False, automatic=True)])
    assert tally.awaiting_since == t and tally.first_response_at is None and effects[1].waiting_delta == 0


def test_days_are_moscow_days() -> None:
    late = datetime(2026, 12, 7, 21, 30, tzinfo=UTC).timestamp()  # 00:30 on the 8th in Moscow
    assert figures.report_day(late) == "2026-12-08"
    _, effects = run([msg(1, late - 3600, incoming=True), msg(2, late, incoming=False, sender=OP)])
    assert "2026-12-07" in effects[0].account_adds and "2026-12-08" in effects[1].operator_adds


def test_working_time_edges() -> None:
    calendar = Calendar.from_spec(
        {"timezone": "Europe/Moscow", "days": {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    )
    sunday_2350 = datetime(2026, 12, 6, 20, 50, tzinfo=UTC).timestamp()  # Sunday 23:50 Moscow
    monday_0905 = datetime(2026, 12, 7, 6, 5, tzinfo=UTC).timestamp()  # Monday 09:05 Moscow
    _, effects = run([msg(1, sunday_2350, incoming=True), msg(2, monday_0905, incoming=False, sender=OP)], calendar)
    day = figures.report_day(monday_0905)
    adds = effects[1].account_adds[day]
    assert adds[f"frw_{histogram.bucket_of(300)}"] == 1  # 5 working minutes
    assert adds[f"fr_{histogram.bucket_of(monday_0905 - sunday_2350)}"] == 1  # 9 h 15 min of wall time
    # a wait inside working hours counts fully; one ending exactly at the start of work counts 0
    friday_2055 = datetime(2026, 12, 11, 17, 55, tzinfo=UTC).timestamp()
    monday_0900 = datetime(2026, 12, 14, 6, 0, tzinfo=UTC).timestamp()
    _, effects = run([msg(1, friday_2055, incoming=True), msg(2, monday_0900, incoming=False, sender=OP)], calendar)
    adds = effects[1].account_adds[figures.report_day(monday_0900)]
    assert adds[f"frw_{histogram.bucket_of(300)}"] == 1  # 20:55-21:00 on Friday only


@pytest.mark.parametrize("seconds", [0, 0.4, 1, 1.2, 1.44, 59, 60, 61, 300, 3599, 86_400, 10**9])
def test_every_duration_falls_in_its_bucket(seconds: float) -> None:
    index = histogram.bucket_of(seconds)
    lo, hi = histogram.bounds(index)
    assert lo <= seconds < hi


def test_quantiles_from_buckets_are_within_the_stated_error() -> None:
    samples = [5, 12, 30, 45, 60, 61, 90, 120, 180, 240, 300, 600, 900, 1800, 3600, 7200, 7, 8, 9, 10]
    hist: dict[int, int] = {}
    for value in samples:
        hist[histogram.bucket_of(value)] = hist.get(histogram.bucket_of(value), 0) + 1
    ordered = sorted(samples)
    for q in (0.5, 0.9):
        exact = ordered[math.ceil(q * len(ordered)) - 1]
        got = histogram.quantile(hist, q)
        assert got is not None and abs(got - exact) <= exact * histogram.RELATIVE_ERROR + 0.5
    # known script -> known answer: 10 first responses of 60 s and one of 3600 s: median 60 s (bucket middle)
    hist = {histogram.bucket_of(60): 10, histogram.bucket_of(3600): 1}
    assert histogram.quantile(hist, 0.5) == round(histogram.estimate(histogram.bucket_of(60)))
    assert abs(histogram.quantile(hist, 0.5) - 60) <= 60 * histogram.RELATIVE_ERROR
    assert histogram.quantile(hist, 0.9) == histogram.quantile(hist, 0.5)  # the 10th of 11 is still 60 s
    assert histogram.quantile({}, 0.5) is None
    assert histogram.merge([{1: 2}, {1: 1, 3: 4}]) == {1: 3, 3: 4}
