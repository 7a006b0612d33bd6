"""Reports end to end against moto: messages written to MessengerTable (as the stores and the other branches'
writers write them: ``automatic``, ``sentBy``), the table's stream handed to the figures function like Lambda
does (batches replayed too), then GET /reports/summary and /reports/dialogs (JSON and CSV) as a director.

The script (Moscow times; account "Мебель" works Mon-Fri 09:00-21:00 with a 2-minute first alert, "Техника" has
no calendar and the default 5 minutes):

| chat | messages                                                            | first response        |
|------|---------------------------------------------------------------------|-----------------------|
| a1   | in Mon 09:00, greeting (automatic) 09:00:10, Ольга 09:01            | 60 s                  |
| a2   | in 09:01:40, Пётр 09:06:40                                          | 300 s (slow)          |
| a3   | in 09:03:20                                                         | waiting now           |
| a4   | in Sun 23:50, Ольга Mon 09:05                                       | 33,300 s; 300 working |
| b2   | in 09:00:50, from Avito's app (no sentBy) 09:15:50                  | 900 s (slow)          |
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import reports_dialogs
import reports_figures
import reports_summary
from avito_service import aws, clock
from avito_service.accounts.store import account_key
from avito_service.auth import Identity
from avito_service.live.store import open_connection
from avito_service.messenger.items import chat_pk, inbox_shard, message_item
from avito_service.messenger.models import Message
from avito_service.reports import histogram
from avito_service.reports.store import report_store
from avito_service.workflow import routing
from avito_service.workflow.models import RoutingIn
from avito_service.workflow.store import await_pk, set_away

from tests.support.accounts import create_account
from tests.support.events import FakeContext, api_event
from tests.support.streams import TableStream as Stream

T = datetime(2026, 12, 7, 6, 0, tzinfo=UTC).timestamp()  # Monday 09:00 Moscow
SUNDAY_2350 = datetime(2026, 12, 6, 20, 50, tzinfo=UTC).timestamp()
MONDAY_0905 = T + 300
OLGA = {"userId": "op-olga", "name": "Ольга"}
PETR = {"userId": "op-petr", "name": "Пётр"}
TRICKY_NAME = 'Анна; "Аня"\nПетрова'  # noqa: RUF001


def est(seconds: float) -> int:
    return round(histogram.estimate(histogram.bucket_of(seconds)))


def feed(records: list[dict[str, Any]]) -> None:
    assert reports_figures.lambda_handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}


def put_message(account: str, chat: str, n: int, at: float, *, incoming: bool, **extra: Any) -> None:
    message = Message(
        id=f"m{n}",
        chatId=chat,
        accountId=account,
        direction="in" if incoming else "out",
        type="text",
        text="…",
        createdAt=clock.iso(at),
    )
    aws.table(_messenger()).put_item(Item={**message_item(message), **extra})


def put_chat(account: str, chat: str, **fields: Any) -> None:
    item = {"pk": chat_pk(account, chat), "sk": "CHAT", "accountId": account, "chatId": chat, "id": chat, **fields}
    aws.table(_messenger()).put_item(Item=item)


def _messenger() -> str:
    import os

    return os.environ["MESSENGER_TABLE"]


@pytest.fixture
def script(aws_env: dict[str, str]) -> dict[str, Any]:
    report_store.cache_clear()
    furniture = create_account(name="Мебель", clientId="c-a", userId="100")
    tech = create_account(name="Техника", clientId="c-b", userId="200")
    accounts = boto3.resource("dynamodb").Table(aws_env["AccountsTable"])
    working = {
        "timezone": "Europe/Moscow",
        "days": {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
    accounts.update_item(
        Key=account_key(furniture),
        UpdateExpression="SET autoReplies = :a",
        ExpressionAttributeValues={":a": {"workingHours": working}},
    )
    routing.put_routing(furniture, RoutingIn(mode="off", waitAlertMinutes=[15, 2]))  # as PUT .../routing keeps it
    put_chat(
        furniture,
        "a1",
        clientName=TRICKY_NAME,
        itemTitle="=Диван",
        status="closed",
        assignee=OLGA,
        tags=["vip", "доставка"],
    )
    put_message(furniture, "a1", 1, T, incoming=True)
    put_message(furniture, "a1", 2, T + 10, incoming=False, automatic=True, sentBy=None)
    put_message(furniture, "a1", 3, T + 60, incoming=False, sentBy=OLGA)
    put_message(furniture, "a2", 4, T + 100, incoming=True)
    put_message(furniture, "a2", 5, T + 400, incoming=False, sentBy=PETR)
    put_message(furniture, "a3", 6, T + 200, incoming=True)
    put_message(furniture, "a4", 7, SUNDAY_2350, incoming=True)
    put_message(furniture, "a4", 8, MONDAY_0905, incoming=False, sentBy=OLGA)
    put_message(tech, "b2", 9, T + 50, incoming=True)
    put_message(tech, "b2", 10, T + 950, incoming=False)  # Avito's own app: no sentBy
    stream = Stream(aws_env["MessengerTable"])
    return {"furniture": furniture, "tech": tech, "records": stream.records(), "stream": stream}


def get(module: Any, path: str, query: dict[str, str], *, role: str = "director", headers: dict | None = None):
    event = api_event("GET", path, query=query, role=role, sub="boss")
    event["headers"].update(headers or {})
    event["multiValueHeaders"].update({name: [value] for name, value in (headers or {}).items()})
    result = module.lambda_handler(event, FakeContext())
    return result


def summary(role: str = "director", **query: str) -> tuple[int, Any]:
    result = get(
        reports_summary, "/api/v1/reports/summary", {"from": "2026-12-06", "to": "2026-12-07", **query}, role=role
    )
    return result["statusCode"], json.loads(result["body"])


def test_summary_figures_of_a_known_script(script: dict[str, Any]) -> None:
    feed(script["records"])
    status, body = summary()
    assert status == 200, body
    data = body["data"]
    totals = data["totals"]
    assert (data["from"], data["to"]) == ("2026-12-06", "2026-12-07")
    assert {k: totals[k] for k in ("chatsStarted", "chatsAnswered", "messagesIn", "messagesOut", "replies")} == {
        "chatsStarted": 5,
        "chatsAnswered": 4,
        "messagesIn": 5,
        "messagesOut": 5,
        "replies": 4,
    }
    # first responses 60, 300, 900, 33,300 s (nearest rank: median the 2nd, p90 the 4th); working: a4 is 300 s
    assert totals["firstResponseMedianSeconds"] == est(300)
    assert totals["firstResponseP90Seconds"] == est(33_300)
    assert totals["firstResponseMedianWorkingSeconds"] == est(300)
    assert totals["firstResponseP90WorkingSeconds"] == est(900)
    assert totals["slowReplies"] == 3  # a2 (> 2 min), a4 (> 2 min), b2 (> 5 min)
    assert totals["waitingNow"] == 1
    sunday, monday = data["days"]
    assert sunday["date"] == "2026-12-06" and sunday["chatsStarted"] == 1 and sunday["messagesIn"] == 1
    assert sunday["firstResponseMedianSeconds"] is None and sunday["chatsAnswered"] == 0
    assert monday["chatsStarted"] == 4 and monday["chatsAnswered"] == 4
    furniture, tech = data["byAccount"]
    assert (furniture["accountName"], furniture["waitingNow"], furniture["chatsAnswered"]) == ("Мебель", 1, 3)
    assert (tech["accountName"], tech["waitingNow"], tech["firstResponseMedianSeconds"]) == ("Техника", 0, est(900))
    operators = {row["userId"]: row for row in data["byOperator"]}
    assert set(operators) == {"op-olga", "op-petr"}  # Avito's app and the greeting credit nobody
    olga = operators["op-olga"]
    assert (olga["name"], olga["chatsAnswered"], olga["messagesOut"], olga["slowReplies"]) == ("Ольга", 2, 2, 1)
    assert olga["firstResponseP90Seconds"] == est(33_300) and olga["firstResponseP90WorkingSeconds"] == est(300)
    assert operators["op-petr"]["firstResponseMedianSeconds"] == est(300)

    status, body = summary(userId="op-olga")
    assert status == 200
    assert body["data"]["totals"]["chatsAnswered"] == 2 and body["data"]["totals"]["chatsStarted"] == 0
    assert [row["userId"] for row in body["data"]["byOperator"]] == ["op-olga"]
    status, body = summary(accountId=script["tech"])
    assert [row["accountId"] for row in body["data"]["byAccount"]] == [script["tech"]]
    assert body["data"]["totals"]["chatsStarted"] == 1 and body["data"]["totals"]["waitingNow"] == 0


def test_replayed_stream_batches_count_once(script: dict[str, Any]) -> None:
    records = script["records"]
    feed(records[:4])
    feed(records[:7])  # a retried batch overlapping the first
    feed(records)
    feed(records)  # the whole shard replayed
    _, body = summary()
    totals = body["data"]["totals"]
    assert (totals["messagesIn"], totals["messagesOut"], totals["chatsAnswered"], totals["waitingNow"]) == (5, 5, 4, 1)
    assert totals["slowReplies"] == 3


def test_only_directors_and_admins(script: dict[str, Any]) -> None:
    feed(script["records"])
    assert summary(role="admin")[0] == 200
    status, body = summary(role="operator")
    assert status == 403 and body["error"]["code"] == "forbidden"
    result = get(
        reports_dialogs, "/api/v1/reports/dialogs", {"from": "2026-12-07", "to": "2026-12-07"}, role="operator"
    )
    assert result["statusCode"] == 403
    status, body = summary(accountId="no-such-account")
    assert status == 404 and body["error"]["code"] == "account_not_found"
    status, body = summary(**{"from": "2026-12-08"})  # after `to`
    assert status == 422


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "0001-01-01", "to": "0001-01-01"}, "from"),  # found by the fuzzing: a 500 (a month before year 1)
        ({"from": "1999-12-31", "to": "2000-01-01"}, "from"),
        ({"from": "9999-12-31", "to": "9999-12-31"}, "to"),
        ({"from": "2099-12-31", "to": "2100-01-01"}, "to"),
    ],
)
def test_dates_without_figures_at_the_ends_of_the_calendar_are_a_422(query: dict[str, str], field: str) -> None:
    for route, path in ((reports_summary, "/api/v1/reports/summary"), (reports_dialogs, "/api/v1/reports/dialogs")):
        result = get(route, path, query)
        body = json.loads(result["body"])
        assert result["statusCode"] == 422, result["body"]
        assert [d["field"] for d in body["error"]["details"]] == [field]


def dialogs(**query: str) -> dict[str, Any]:
    result = get(reports_dialogs, "/api/v1/reports/dialogs", {"from": "2026-12-07", "to": "2026-12-07", **query})
    assert result["statusCode"] == 200, result["body"]
    return json.loads(result["body"])


def test_dialogs_rows_pages_and_filters(script: dict[str, Any]) -> None:
    feed(script["records"])
    rows, cursor, pages = [], None, 0
    while True:
        body = dialogs(limit="2", **({"cursor": cursor} if cursor else {}))
        rows.extend(body["data"])
        pages += 1
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert pages == 3 and len(rows) == 5
    assert [r["chatId"] for r in rows] == ["a2", "a4", "a3", "a1", "b2"]  # by account name, newest last message
    a1 = next(r for r in rows if r["chatId"] == "a1")
    assert a1 == {
        "accountId": script["furniture"],
        "accountName": "Мебель",
        "chatId": "a1",
        "clientName": TRICKY_NAME,
        "itemTitle": "=Диван",
        "status": "closed",
        "assignee": OLGA,
        "startedAt": clock.iso(T),
        "firstResponseSeconds": 60,
        "messagesIn": 1,
        "messagesOut": 2,
        "lastMessageAt": clock.iso(T + 60),
        "tags": ["vip", "доставка"],
    }
    a4 = next(r for r in rows if r["chatId"] == "a4")
    assert a4["startedAt"] == clock.iso(SUNDAY_2350) and a4["firstResponseSeconds"] == 33_300
    assert [r["chatId"] for r in dialogs(status="closed")["data"]] == ["a1"]
    assert [r["chatId"] for r in dialogs(userId="op-petr")["data"]] == ["a2"]
    assert [r["chatId"] for r in dialogs(accountId=script["tech"])["data"]] == ["b2"]
    sunday = dialogs(**{"from": "2026-12-06", "to": "2026-12-06"})["data"]
    assert [r["chatId"] for r in sunday] == ["a4"]


def test_dialogs_csv_for_excel(script: dict[str, Any]) -> None:
    feed(script["records"])
    for query, headers in (({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})):
        result = get(
            reports_dialogs,
            "/api/v1/reports/dialogs",
            {"from": "2026-12-07", "to": "2026-12-07", **query},
            headers=headers,
        )
        assert result["statusCode"] == 200
        assert result["multiValueHeaders"]["Content-Type"][0].startswith("text/csv")
        assert "attachment" in result["multiValueHeaders"]["Content-Disposition"][0]
        text = result["body"]
        assert text.startswith("\ufeff") and text.split("\r\n", 1)[0].startswith("\ufeffaccountId;accountName;chatId")
        assert '"Анна; ""Аня""\nПетрова"' in text  # noqa: RUF001 - `;`, quotes, a line break quoted
        parsed = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
        header, body_rows = parsed[0], parsed[1:]
        assert len(body_rows) == 5 and len(header) == 13
        a1 = dict(zip(header, next(r for r in body_rows if r[2] == "a1"), strict=True))
        assert a1["clientName"] == TRICKY_NAME and a1["assignee"] == "Ольга" and a1["tags"] == "vip, доставка"
        assert a1["itemTitle"] == "'=Диван"  # no formula for Excel to run
        assert a1["firstResponseSeconds"] == "60"
        assert [r[2] for r in body_rows] == ["a2", "a4", "a3", "a1", "b2"]  # the JSON table's order
    monday, sunday = {"from": "2026-12-07", "to": "2026-12-07"}, {"from": "2026-12-06", "to": "2026-12-06"}
    for query, chats in (
        ({**monday, "userId": "op-petr"}, ["a2"]),
        ({**monday, "status": "closed"}, ["a1"]),
        ({**monday, "accountId": script["tech"]}, ["b2"]),
        (sunday, ["a4"]),
    ):
        result = get(reports_dialogs, "/api/v1/reports/dialogs", {**query, "format": "csv"})
        lines = result["body"].split("\r\n")[1:-1]
        assert [line.split(";")[2] for line in lines] == chats, query


def wait_on(account: str, chat: str, since: float) -> None:
    """The chat needs a reply since ``since``, as the workflow writes it (its sparse ``awaitingReply`` index)."""
    since_iso = clock.iso(since)
    put_chat(
        account,
        chat,
        status="new",
        awaitingReplySince=since_iso,
        awaitPk=await_pk(inbox_shard(account, chat)),
        awaitSk=f"{since_iso}#{account}#{chat}",
    )


def test_now_longest_wait_and_operators_available(script: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    feed(script["records"])
    furniture, tech = script["furniture"], script["tech"]
    status, body = summary()
    assert status == 200
    empty = body["data"]["now"]
    assert (empty["waiting"], empty["longestWaitSeconds"], empty["operatorsAvailable"]) == (1, None, 0)
    monkeypatch.setattr(clock, "now", lambda: T + 600)
    wait_on(furniture, "a3", T + 200)
    wait_on(tech, "b9", T + 100)  # waiting longer, on the other account
    hour = int(T) + 3600
    open_connection("c-olga", Identity("op-olga", "operator", hour))  # every account
    open_connection("c-olga-2", Identity("op-olga", "operator", hour))  # a second tab: one operator
    open_connection("c-petr", Identity("op-petr", "operator", hour, account_ids=frozenset({tech})))
    open_connection("c-ivan", Identity("op-ivan", "operator", hour))
    set_away("op-ivan", True, clock.iso(T))  # connected, but away
    open_connection("c-gone", Identity("op-gone", "operator", int(T) + 60))  # its token ran out
    open_connection("c-boss", Identity("boss", "director", hour))  # not an operator

    now = summary()[1]["data"]["now"]
    assert now["at"] == clock.iso(T + 600)
    assert (now["longestWaitAccountId"], now["longestWaitChatId"]) == (tech, "b9")
    assert (now["longestWaitSeconds"], now["longestWaitSince"]) == (500, clock.iso(T + 100))
    assert now["operatorsAvailable"] == 2  # Ольга and Пётр

    data = summary(accountId=furniture)[1]["data"]
    assert (data["now"]["longestWaitChatId"], data["now"]["longestWaitSeconds"]) == ("a3", 400)
    assert data["now"]["operatorsAvailable"] == 1  # Пётр may not see Мебель
    assert data["now"]["waiting"] == data["totals"]["waitingNow"] == 1
    set_away("op-olga", False, clock.iso(T))
    set_away("op-petr", True, clock.iso(T))
    assert summary(accountId=tech)[1]["data"]["now"]["operatorsAvailable"] == 1  # Ольга


def test_threshold_line_is_the_accounts_or_the_strictest(script: dict[str, Any]) -> None:
    feed(script["records"])
    data = summary()[1]["data"]
    assert [a["slowReplySeconds"] for a in data["byAccount"]] == [120, 300]  # Мебель 2 min, Техника the default
    assert data["slowReplySeconds"] == 120  # every account: the strictest
    assert summary(accountId=script["tech"])[1]["data"]["slowReplySeconds"] == 300
