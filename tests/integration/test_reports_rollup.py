"""Month roll-ups of the reports' figures against moto: the consumer's transaction ADDs each day's counters to the
month item too (a replayed record changes neither), the summary answers the same from months as from days over
ranges that hold whole months and ranges that do not, and the backfill gives months written only as day items
their month items, without losing a live ADD between its read and its put, resumably, and ends with the marker.

Data: random conversations of two accounts and three operators from 2025-11-20 to 2026-02-10 (across a year end),
counted by the real consumer (``store.count_message`` with ``figures.apply``, the stream handler's path).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
import reports_figures
import reports_summary
from avito_service import aws
from avito_service.reports import figures, rollup
from avito_service.reports.service import whole_months
from avito_service.reports.store import ROLLUP_DONE_SK, ROLLUP_PK, ReportStore, day_pk, month_pk, report_store
from boto3.dynamodb.conditions import Key

from tests.integration.test_reports import feed, script  # noqa: F401 (the fixture)
from tests.support.accounts import create_account
from tests.support.events import FakeContext, api_event
from tests.unit.test_reports_records import reference_figures

START = datetime(2025, 11, 20, 5, 0, tzinfo=UTC).timestamp()  # 08:00 Moscow
END = datetime(2026, 2, 10, 20, 0, tzinfo=UTC).timestamp()
OPERATORS = [figures.Sender("op-1", "Анна"), figures.Sender("op-2", "Борис"), figures.Sender("op-3", None)]


def _query(pk: str) -> list[dict[str, Any]]:
    table = aws.table(report_store().table_name)
    return list(table.query(KeyConditionExpression=Key("pk").eq(pk), ConsistentRead=True)["Items"])


def months_of_days(account: str) -> dict[str, dict[str, Any]]:
    """The account's day items summed per month and kind, keyed like the month items' sk."""
    by_month: dict[str, list[dict[str, Any]]] = {}
    for item in _query(day_pk(account)):
        by_month.setdefault(str(item["sk"])[:7], []).append(item)
    return {
        f"{month}#{kind}": summed
        for month, items in by_month.items()
        for kind, summed in rollup.sum_days(items).items()
    }


def month_items(account: str) -> dict[str, dict[str, Any]]:
    """The account's month items without their bookkeeping (``n``, ``complete``, keys, ``month``)."""
    drop = {"pk", "sk", "n", "complete", "month"}
    return {
        str(item["sk"]): {k: (int(v) if k not in ("userId", "name") else v) for k, v in item.items() if k not in drop}
        for item in _query(month_pk(account))
    }


def count(account: str, chat: str, n: int, at: float, *, incoming: bool, sender: figures.Sender | None) -> None:
    message = figures.MessageFacts(f"m{n}", account, chat, incoming, at, sender=sender)
    report_store().count_message(
        message, lambda tally: figures.apply(tally, message, calendar=None, slow_after_seconds=300)
    )


def generate(accounts: list[str], seed: int = 27, chats: int = 160) -> None:
    """Random chats: a client's message, then 0-3 exchanges with an operator (or Avito's app) after a random wait."""
    rng = random.Random(seed)
    serial = 0
    for number in range(chats):
        account = rng.choice(accounts)
        at = rng.uniform(START, END)
        for _ in range(rng.randint(1, 4)):
            serial += 1
            count(account, f"c{number}", serial, at, incoming=True, sender=None)
            at += rng.lognormvariate(5, 1.5)
            if rng.random() < 0.8:
                serial += 1
                sender = rng.choice(OPERATORS) if rng.random() < 0.9 else None
                count(account, f"c{number}", serial, at, incoming=False, sender=sender)
            at += rng.uniform(60, 3 * 86400)


@pytest.fixture
def month_data(aws_env: dict[str, str]) -> list[str]:
    report_store.cache_clear()
    accounts = [create_account(name="Мебель", clientId="c-a"), create_account(name="Техника", clientId="c-b")]
    generate(accounts)
    return accounts


def test_the_consumer_keeps_months_equal_to_their_days(month_data: list[str]) -> None:
    for account in month_data:
        assert month_items(account) == months_of_days(account)
    assert {"2025-11", "2025-12", "2026-01", "2026-02"} <= {sk[:7] for sk in month_items(month_data[0])}
    transactions = sum(int(i["n"]) for i in _query(month_pk(month_data[0])) if str(i["sk"]).endswith("#A"))
    assert transactions > 0  # every counted message bumps its account month's n


def test_a_replayed_record_changes_neither_days_nor_months(script: dict[str, Any]) -> None:  # noqa: F811
    account = script["furniture"]
    feed(script["records"])
    days, months = _query(day_pk(account)), _query(month_pk(account))
    assert {i["sk"] for i in months} == {"2026-12#A", "2026-12#O#op-olga", "2026-12#O#op-petr"}
    assert month_items(account) == months_of_days(account)
    feed(script["records"])
    feed(script["records"][3:])
    assert _query(day_pk(account)) == days and _query(month_pk(account)) == months


def summary_data(date_from: str, date_to: str, **query: str) -> dict[str, Any]:
    event = api_event("GET", "/api/v1/reports/summary", query={"from": date_from, "to": date_to, **query})
    result = reports_summary.lambda_handler(event, FakeContext())
    assert result["statusCode"] == 200, result["body"]
    data = json.loads(result["body"])["data"]
    data.pop("now")  # the moment's figures, read at the time of the call
    return data


RANGES = [
    ("2025-12-01", "2026-01-05"),  # a month and a bit
    ("2026-01-01", "2026-01-31"),  # exactly one month
    ("2026-01-03", "2026-01-20"),  # within one month
    ("2025-12-15", "2026-02-10"),  # across a year end, January whole
    ("2025-11-20", "2026-02-10"),  # two whole months and both edges
]


def test_the_summary_is_the_same_from_months_and_from_days(
    month_data: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    ranges = list(RANGES)
    for _ in range(6):
        a, b = sorted(rng.sample(range((date(2026, 2, 10) - date(2025, 11, 20)).days + 1), 2))
        ranges.append(tuple(date.fromordinal(date(2025, 11, 20).toordinal() + d).isoformat() for d in (a, b)))
    before = {(f, t): summary_data(f, t) for f, t in ranges}
    before_one = summary_data(*RANGES[3], accountId=month_data[0])
    before_operator = summary_data(*RANGES[3], userId="op-1")
    assert before[RANGES[3]]["totals"]["replies"] > 0 and len(before[RANGES[3]]["byOperator"]) == 3

    store = report_store()
    months_read: list[tuple[str, str, str]] = []
    original = store.months
    monkeypatch.setattr(
        store,
        "months",
        lambda account, a, b, **kw: months_read.append((account, a, b)) or original(account, a, b, **kw),
    )
    aws.table(store.table_name).put_item(Item={"pk": ROLLUP_PK, "sk": ROLLUP_DONE_SK})
    for date_from, date_to in ranges:
        months_read.clear()
        assert summary_data(date_from, date_to) == before[(date_from, date_to)], (date_from, date_to)
        uses_months = whole_months(date.fromisoformat(date_from), date.fromisoformat(date_to)) is not None
        assert bool(months_read) == uses_months, (date_from, date_to, months_read)
    months_read.clear()
    assert summary_data(*RANGES[3], accountId=month_data[0]) == before_one
    assert months_read == [(month_data[0], "2026-01", "2026-01")]
    months_read.clear()
    assert summary_data(*RANGES[3], userId="op-1") == before_operator  # an operator's: from their days
    assert not months_read


def _by_kind(items: list[dict[str, Any]], date_from: str, date_to: str) -> dict[str, Any]:
    """The summary's figures computed by the reference adding-up (tests.unit.test_reports_records) from every day
    item of the range, read through the resource (Decimals): totals, days, accounts and operators."""
    accounts = [i for i in items if str(i["sk"]).endswith("#A") and date_from <= i["date"] <= date_to]
    operators = [i for i in items if "#O#" in str(i["sk"]) and date_from <= i["date"] <= date_to]
    days = sorted({i["date"] for i in accounts})
    return {
        "totals": reference_figures(accounts),
        "days": {d: reference_figures([i for i in accounts if i["date"] == d]) for d in days},
        "byAccount": {
            str(pk).removeprefix("DAY#"): reference_figures([i for i in accounts if i["pk"] == pk])
            for pk in {i["pk"] for i in accounts}
        },
        "byOperator": {
            str(i["userId"]): reference_figures([j for j in operators if j["userId"] == i["userId"]]) for i in operators
        },
    }


def _answer_by_kind(data: dict[str, Any]) -> dict[str, Any]:
    def figures(row: dict[str, Any]) -> dict[str, Any]:
        return {k: row[k] for k in reference_figures([])}

    return {
        "totals": figures(data["totals"]),
        "days": {d["date"]: figures(d) for d in data["days"] if d["messagesIn"] or d["messagesOut"]},
        "byAccount": {a["accountId"]: figures(a) for a in data["byAccount"] if a["messagesIn"] or a["messagesOut"]},
        "byOperator": {o["userId"]: figures(o) for o in data["byOperator"]},
    }


def test_the_summary_adds_up_as_the_reference_does_from_every_day_item(month_data: list[str]) -> None:
    """Day path and month path alike (the marker put half-way) equal the reference over the raw day items."""
    items = [item for account in month_data for item in _query(day_pk(account))]
    for with_marker in (False, True):
        if with_marker:
            aws.table(report_store().table_name).put_item(Item={"pk": ROLLUP_PK, "sk": ROLLUP_DONE_SK})
        for date_from, date_to in RANGES:
            expected = _by_kind(items, date_from, date_to)
            assert expected["totals"]["replies"] > 0 and expected["byOperator"]
            assert _answer_by_kind(summary_data(date_from, date_to)) == expected, (with_marker, date_from, date_to)


def test_rollup_done_is_asked_until_it_is_true(aws_env: dict[str, str]) -> None:
    table = aws.table(report_store().table_name)
    store = ReportStore(report_store().table_name)
    asked: list[dict[str, Any]] = []
    original = table.get_item
    store._table  # noqa: B018 (this thread's table resource, the one the store asks)
    table.get_item = lambda **kw: asked.append(kw) or original(**kw)  # type: ignore[method-assign]
    try:
        assert not store.rollup_done() and not store.rollup_done()
        assert len(asked) == 2  # not done: asked every time (the backfill may finish any moment)
        table.put_item(Item={"pk": ROLLUP_PK, "sk": ROLLUP_DONE_SK})
        assert store.rollup_done()
        table.delete_item(Key={"pk": ROLLUP_PK, "sk": ROLLUP_DONE_SK})
        assert store.rollup_done() and len(asked) == 3  # done stays done: not asked again
    finally:
        del table.get_item
    assert not ReportStore(store.table_name).rollup_done()


def test_whole_months_of_a_range() -> None:
    d = date.fromisoformat
    assert whole_months(d("2025-12-01"), d("2026-01-05")) == (d("2025-12-01"), d("2025-12-31"))
    assert whole_months(d("2025-12-15"), d("2026-02-10")) == (d("2026-01-01"), d("2026-01-31"))
    assert whole_months(d("2026-02-01"), d("2026-02-28")) == (d("2026-02-01"), d("2026-02-28"))
    assert whole_months(d("2026-01-03"), d("2026-01-31")) is None
    assert whole_months(d("2025-12-31"), d("2026-01-30")) is None
    # the ends of the calendar: no date before 0001-01-01 or after 9999-12-31 is made
    assert whole_months(d("0001-01-01"), d("0001-01-01")) is None
    assert whole_months(d("0001-01-02"), d("0001-02-27")) is None
    assert whole_months(d("9999-12-01"), d("9999-12-31")) == (d("9999-12-01"), d("9999-12-31"))
    assert whole_months(d("9999-11-30"), d("9999-12-30")) is None


def _forget_months(accounts: list[str]) -> None:
    """As before this change: figures written as day items only."""
    table = aws.table(report_store().table_name)
    for account in accounts:
        for item in _query(month_pk(account)):
            table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})


def test_backfill_gives_day_only_months_their_items_and_writes_the_marker(month_data: list[str]) -> None:
    _forget_months(month_data)
    store = report_store()
    assert not store.rollup_done()
    event = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    assert reports_figures.lambda_handler(event, FakeContext()) == {"rollupDone": True}
    assert store.rollup_done()
    for account in month_data:
        assert month_items(account) == months_of_days(account)
        assert all(item["complete"] is True for item in _query(month_pk(account)))
    before = {a: _query(month_pk(a)) for a in month_data}
    assert rollup.backfill(store) is True  # idempotent: done is done
    assert {a: _query(month_pk(a)) for a in month_data} == before


def test_a_live_add_between_the_backfills_read_and_put_is_not_lost(month_data: list[str]) -> None:
    account = month_data[0]
    _forget_months([account])
    count(account, "jan", 10_001, datetime(2026, 1, 14, 9, tzinfo=UTC).timestamp(), incoming=True, sender=None)
    live = iter(range(10_002, 10_010))
    calls = []

    def live_add() -> None:  # a message counted while the backfill holds its sums
        calls.append(1)
        if len(calls) == 1:
            at = datetime(2026, 1, 14, 9, 5, tzinfo=UTC).timestamp()
            count(account, "jan", next(live), at, incoming=False, sender=OPERATORS[0])

    store = report_store()
    assert rollup.backfill_month(store, account, "2026-01", before_put=live_add) > 0
    assert len(calls) == 2  # the first put found n moved and the month was read again
    january = {sk: v for sk, v in months_of_days(account).items() if sk.startswith("2026-01#")}
    assert month_items(account) == january  # the backfilled month, the live reply included
    assert january["2026-01#O#op-1"]["replies"] >= 1


def test_backfill_resumes_where_it_stopped(month_data: list[str]) -> None:
    _forget_months(month_data)
    store = report_store()
    first, second = rollup._account_ids()
    first_months, second_months = rollup.account_months(store, first), rollup.account_months(store, second)
    budget = iter([False] * len(first_months) + [True])  # the first account's months, then out of time

    assert rollup.backfill(store, out_of_time=lambda: next(budget)) is False
    assert not store.rollup_done()
    assert month_items(first) == months_of_days(first) and month_items(second) == {}
    looked: list[int] = []

    def in_time() -> bool:
        looked.append(1)
        return False

    assert rollup.backfill(store, out_of_time=in_time) is True
    assert len(looked) == len(second_months)  # the finished account was not done again
    assert store.rollup_done()
    for account in month_data:
        assert month_items(account) == months_of_days(account)
