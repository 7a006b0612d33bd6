"""Search end to end against moto: messages stored through the ChatStore, indexed from MessengerTable's stream by
the indexer function (or by the search-index job), found through GET /api/v1/search with the caller's scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import search_chats as search_handler
import search_indexer
import search_reindex
from avito_service.jobs import runner
from avito_service.jobs.store import job_store
from avito_service.messenger.store import chat_store
from avito_service.search import backfill, indexer

from tests.support.accounts import create_account
from tests.support.events import FakeContext, api_event, call
from tests.support.streams import TableStream

USER = "100"
T0 = 1_796_000_000


class Stream(TableStream):
    """MessengerTable's moto stream, as Lambda hands it to the indexer (from the start, or only what is new)."""

    def index_new(self) -> dict[str, Any]:
        return search_indexer.lambda_handler({"Records": self.new()}, FakeContext())


@pytest.fixture
def stream(aws_env: dict[str, str]) -> Stream:
    return Stream(aws_env["MessengerTable"])


@pytest.fixture
def accounts(aws_env: dict[str, str]) -> Iterator[tuple[str, str]]:
    chat_store.cache_clear()
    yield (
        create_account(name="Мебель", clientId="c-a", userId=USER),
        create_account(name="Техника", clientId="c-b", userId=USER),
    )
    chat_store.cache_clear()


def chat(account_id: str, chat_id: str, *, client: str, item: str, created: int = T0) -> None:
    chat_store().save_chats(
        account_id,
        USER,
        [
            {
                "id": chat_id,
                "created": created,
                "updated": created,
                "context": {
                    "type": "item",
                    "value": {"id": 1, "title": item, "url": "https://www.avito.ru/moskva/x_1"},
                },
                "users": [{"id": int(USER), "name": "Shop"}, {"id": 777, "name": client}],
            }
        ],
    )


def message(account_id: str, chat_id: str, message_id: str, text: str, created: int) -> None:
    raw = {"id": message_id, "author_id": 777, "created": created, "type": "text", "content": {"text": text}}
    chat_store().save_messages(account_id, USER, chat_id, [raw])


def search(q: str, *, role: str = "admin", account_ids: list[str] | None = None, **query: str) -> tuple[int, Any]:
    event = api_event("GET", "/api/v1/search", query={"q": q, **query}, role=role, sub="u1")
    if account_ids is not None:
        event["requestContext"]["authorizer"]["accountIds"] = json.dumps(account_ids)  # as auth.context_of writes it

    result = search_handler.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


def found(q: str, **kwargs: Any) -> list[tuple[str, str, str | None]]:
    status, body = search(q, **kwargs)
    assert status == 200, body
    return [(r["chatId"], r["matched"], r.get("messageId")) for r in body["data"]]


@pytest.fixture
def shop(accounts: tuple[str, str], stream: Stream) -> tuple[str, str]:
    a, b = accounts
    chat(a, "u2i-sofa", client="Анна Петрова", item="Диван угловой")
    chat(b, "u2i-phone", client="John Smith", item="iPhone 15 Pro")
    message(a, "u2i-sofa", "m1", "Здравствуйте! Диван ещё продаётся?", T0 + 10)
    message(a, "u2i-sofa", "m2", "Звоните: 8 (912) 345-67-89, Анна", T0 + 20)
    message(a, "u2i-sofa", "m3", "Ёлку тоже продаёте?", T0 + 30)
    message(b, "u2i-phone", "m4", "Is the iPhone still available? Диваны не нужны", T0 + 40)
    assert stream.index_new() == {"batchItemFailures": []}
    return a, b


def test_finds_message_text_by_whole_word_and_prefix(shop: tuple[str, str]) -> None:
    assert ("u2i-sofa", "message", "m1") in found("диван")
    assert found("диван")[0] == ("u2i-sofa", "item", None)  # the item's title is a whole-word match too
    assert {r[2] for r in found("прода")} == {"m1", "m3"}
    assert found("ДИВАН ПРОДАЕТСЯ") == [("u2i-sofa", "message", "m1")]  # every word, yo read as ye, any case
    assert found("ёлку") == found("елку") == [("u2i-sofa", "message", "m3")]
    assert found("диван красный") == []
    assert found("ван") == []  # the middle of a word is not a match


def test_finds_client_names_items_and_english(shop: tuple[str, str]) -> None:
    assert found("петрова") == [("u2i-sofa", "client", None)]
    assert found("угловой") == [("u2i-sofa", "item", None)]
    assert found("iphone")[0] == ("u2i-phone", "item", None)
    assert ("u2i-phone", "message", "m4") in found("IPHONE")
    assert found("john sm") == [("u2i-phone", "client", None)]


@pytest.mark.parametrize("q", ["+7 912 345-67-89", "89123456789", "8 (912) 345 67 89", "9123456789", "912345"])
def test_finds_phone_numbers_however_written(shop: tuple[str, str], q: str) -> None:
    assert found(q) == [("u2i-sofa", "phone", "m2")]


def test_results_carry_the_contract_fields_best_first_then_newest(shop: tuple[str, str]) -> None:
    a, _ = shop
    status, body = search("диван")
    assert status == 200 and body["nextCursor"] is None
    first = body["data"][0]
    assert first == {
        "accountId": a,
        "chatId": "u2i-sofa",
        "clientName": "Анна Петрова",
        "itemTitle": "Диван угловой",
        "matched": "item",
        "snippet": "Диван угловой",
        "messageId": None,
        "at": "2026-11-30T00:53:20.000Z",
    }
    # whole-word "диван" (message m1) ranks before the prefix match "диваны" (m4), although m4 is newer
    assert [r["messageId"] for r in body["data"][1:]] == ["m1", "m4"]


def test_a_note_added_through_the_api_is_found(shop: tuple[str, str], stream: Stream) -> None:
    """A note stored by ``POST .../notes`` carries its chat's ids, so the indexer sees it (it did not before)."""
    import chats_workflow

    from tests.support.events import call_route

    a, _ = shop
    status, _ = call_route(
        chats_workflow, "post", "/api/v1/chats/{chatId}/notes", {"chatId": "u2i-sofa"}, role="operator",
        sub="anna", query={"accountId": a}, body={"text": "Перезвонить насчёт доставки в субботу"},
    )  # fmt: skip
    assert status == 201
    assert stream.index_new() == {"batchItemFailures": []}
    assert found("доставк") == [("u2i-sofa", "note", None)]


def test_pages(shop: tuple[str, str]) -> None:
    status, first = search("диван", limit="2")
    assert status == 200 and len(first["data"]) == 2 and first["nextCursor"]
    _, second = search("диван", limit="2", cursor=first["nextCursor"])
    assert [r["messageId"] for r in second["data"]] == ["m4"] and second["nextCursor"] is None
    assert search("диван", cursor="nonsense")[0] == 422


def test_an_operator_sees_only_their_accounts(shop: tuple[str, str]) -> None:
    a, b = shop
    assert {r[0] for r in found("диван", role="operator", account_ids=[a])} == {"u2i-sofa"}
    assert found("iphone", role="operator", account_ids=[a]) == []
    assert {r[0] for r in found("диван", role="operator", account_ids=[b])} == {"u2i-phone"}
    status, body = search("iphone", role="operator", account_ids=[a], accountId=b)
    assert status == 404 and body["error"]["code"] == "account_not_found"
    assert {r[0] for r in found("диван", role="director")} == {"u2i-sofa", "u2i-phone"}
    assert {r[0] for r in found("диван", accountId=b)} == {"u2i-phone"}


@pytest.mark.parametrize("q", ["д", "x" * 101])
def test_query_length_is_checked(aws_env: dict[str, str], q: str) -> None:
    status, body = search(q)
    assert status == 422 and body["error"]["details"][0]["field"] == "q"


def test_no_role_no_search(aws_env: dict[str, str]) -> None:
    assert call(search_handler, "GET", "/api/v1/search", query={"q": "диван"}, role="guest")[0] == 403


def index_items(aws_env: dict[str, str]) -> list[dict[str, Any]]:
    return sorted(
        boto3.resource("dynamodb").Table(aws_env["SearchTable"]).scan()["Items"], key=lambda i: (i["pk"], i["sk"])
    )


def test_stream_replay_is_idempotent_and_follows_changes(
    aws_env: dict[str, str], shop: tuple[str, str], stream: Stream
) -> None:
    a, _ = shop
    before = index_items(aws_env)
    assert before
    everything = stream.records()
    assert search_indexer.lambda_handler({"Records": everything}, FakeContext()) == {"batchItemFailures": []}
    assert search_indexer.lambda_handler({"Records": everything}, FakeContext()) == {"batchItemFailures": []}
    assert index_items(aws_env) == before  # the same records twice: the same entries
    chat_store().mark_message_deleted(a, "u2i-sofa", "m1")
    message(a, "u2i-sofa", "m5", "Синий диван?", T0 + 50)
    stream.index_new()
    assert [r[2] for r in found("диван") if r[1] == "message"] == ["m5", "m4"]  # m1 gone, m5 in
    after = index_items(aws_env)
    search_indexer.lambda_handler({"Records": stream.records()}, FakeContext())  # the whole stream again
    assert index_items(aws_env) == after


def test_a_failing_record_is_reported_alone(
    aws_env: dict[str, str], accounts: tuple[str, str], stream: Stream, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = accounts
    chat(a, "u2i-x", client="Олег", item="Стол")
    records = stream.records()

    real = indexer.index_record
    calls = {"n": 0}

    def flaky(record: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("throttled")
        return real(record)

    monkeypatch.setattr(indexer, "index_record", flaky)
    answer = search_indexer.lambda_handler({"Records": records}, FakeContext())
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == [records[0]["dynamodb"]["SequenceNumber"]]


def test_the_search_index_job_indexes_what_is_already_stored(
    aws_env: dict[str, str], accounts: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = accounts
    for n in range(5):
        chat(a, f"u2i-old-{n}", client=f"Клиент{n}", item="Шкаф", created=T0 + n)
        message(a, f"u2i-old-{n}", f"old-{n}", f"Старое сообщение номер {n}", T0 + 100 + n)
    chat(b, "u2i-old-b", client="Борис", item="Шкаф-купе")
    assert found("старое") == []  # nothing indexed: no stream consumer ran
    monkeypatch.setattr(backfill, "CHATS_PER_PAGE", 2)
    status, body = call(search_reindex, "POST", "/api/v1/search/reindex", role="admin")
    assert status == 202 and body["data"]["kind"] == "search-index"  # the worker sets the tasks up
    job_id = body["data"]["jobId"]
    queue = boto3.client("sqs")
    outcomes = []
    for _ in range(20):  # the worker's loop: run what the queue holds, continuations included
        messages = queue.receive_message(QueueUrl=aws_env["JobsQueue"], MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for sqs_message in messages:
            task = json.loads(sqs_message["Body"])
            if "setup" in task:  # a bulk job's set-up step (as jobs_worker does it)
                runner.set_up(task["jobId"], task["setup"])
            else:
                outcomes.append(runner.run_task(task, seconds=0.0))  # no time: a page a step
            queue.delete_message(QueueUrl=aws_env["JobsQueue"], ReceiptHandle=sqs_message["ReceiptHandle"])
    assert "paused" in outcomes and outcomes.count("finished") == 2, outcomes
    header = job_store().header(job_id) or {}
    assert (header["status"], int(header["total"])) == ("done", 2)
    assert sorted(r[2] for r in found("старое")) == [f"old-{n}" for n in range(5)]
    assert found("купе") == [("u2i-old-b", "item", None)]
    assert call(search_reindex, "POST", "/api/v1/search/reindex", role="operator")[0] == 403


def test_a_one_term_search_reads_no_texts_but_its_pages(shop: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-term search Queries entries without their texts and reads the page's texts with one BatchGetItem; a
    search of several terms reads the texts with the entries (its other terms are checked against them)."""
    from avito_service import aws

    client = aws.dynamodb_low_level_client()
    calls: list[tuple[str, dict[str, Any]]] = []
    for name in ("query", "batch_get_item"):
        original = getattr(client, name)
        monkeypatch.setattr(client, name, lambda _o=original, _n=name, **kw: (calls.append((_n, kw)), _o(**kw))[1])
    status, body = search("продаётся")
    assert status == 200 and [r["snippet"] for r in body["data"]] == ["Здравствуйте! Диван ещё продаётся?"]
    queries = [kw for name, kw in calls if name == "query"]
    assert len(queries) == 2 and all(" x" not in kw["ProjectionExpression"] for kw in queries)
    # the texts' BatchGetItem on the index (the chats' current names are read with another, on MessengerTable)
    batches = [kw for name, kw in calls if name == "batch_get_item" and "SearchTable" in kw["RequestItems"]]
    assert len(batches) == 1 and sum(len(v["Keys"]) for v in batches[0]["RequestItems"].values()) == 1
    calls.clear()
    status, body = search("диван продаётся")
    assert status == 200 and [(r["chatId"], r["messageId"]) for r in body["data"]] == [("u2i-sofa", "m1")]
    assert all(kw["ProjectionExpression"].endswith(", x") for name, kw in calls if name == "query")
    assert not [kw for name, kw in calls if name == "batch_get_item" and "SearchTable" in kw["RequestItems"]]
