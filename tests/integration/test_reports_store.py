"""The summary's figure reads (``reports.store``) against moto: the Query's items are taken as DynamoDB sent them
(botocore's hook ``before-parse``, not its shape-walking parser) and converted to what the summary adds up (whole
numbers as int, every other type as the resource gives it, binary values included); the shared low-level client's
other queries are parsed as usual; an error answer is an error; a read over 1 MB goes on over pages; the figure
reads of many accounts in the summary's threads each get their own account's items."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from avito_service import aws
from avito_service.reports.store import ReportStore, day_pk, report_store
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError
from botocore.parsers import BaseJSONParser

ITEM = {
    "pk": day_pk("acc-1"),
    "sk": "2026-11-05#A",
    "date": "2026-11-05",
    "messagesIn": 7,
    "fr_3": 12,
    "frw_89": 1,
    "odd": Decimal("1.5"),
    "big": 10**30,
    "flag": True,
    "nothing": None,
    "tags": {"a", "b"},
    "counts": {Decimal(1), Decimal(2)},
    "raw": Binary(b"\x00\xff"),
    "raws": {Binary(b"\x01"), Binary(b"\x02")},
    "nested": {"m": [1, "x", Binary(b"\x03")], "n": {"deep": Decimal("2.25")}},
}


@pytest.fixture
def stored(aws_env: dict[str, str]) -> ReportStore:
    report_store.cache_clear()
    store = report_store()
    aws.table(store.table_name).put_item(Item=ITEM)
    return store


def test_figure_items_are_taken_as_sent_and_converted_as_the_summary_needs(
    stored: ReportStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    structures: list[int] = []
    original = BaseJSONParser._handle_structure

    def counted(self: Any, shape: Any, value: Any) -> Any:
        structures.append(1)
        return original(self, shape, value)

    monkeypatch.setattr(BaseJSONParser, "_handle_structure", counted)
    [found] = stored.days("acc-1", "2026-11-01", "2026-11-30")
    assert len(structures) <= 2  # the answer's own structure (and ConsumedCapacity's): no AttributeValue parsed
    resource = aws.table(stored.table_name).get_item(Key={"pk": ITEM["pk"], "sk": ITEM["sk"]})["Item"]
    assert found == resource  # every type as the resource gives it (whole numbers compare equal) ...
    assert found["raw"] == Binary(b"\x00\xff") and found["nested"]["m"][2] == Binary(b"\x03")
    whole = ("messagesIn", "fr_3", "frw_89", "big")
    assert all(type(found[name]) is int for name in whole)  # ... and whole numbers as int, not Decimal
    assert type(found["odd"]) is Decimal

    structures.clear()  # the shared client's other queries: parsed by botocore as usual, bytes as bytes
    answer = aws.dynamodb_low_level_client().query(
        TableName=stored.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": ITEM["pk"]}},
    )
    assert answer["Items"][0]["raw"] == {"B": b"\x00\xff"} and len(structures) > len(ITEM)


def test_an_error_answer_of_a_figure_read_is_an_error(stored: ReportStore) -> None:
    with pytest.raises(ClientError) as error:
        ReportStore("no-such-table").days("acc-1", "2026-11-01", "2026-11-30")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert stored.days("acc-1", "2026-11-01", "2026-11-30")  # and the next read is as before


def test_figure_reads_in_threads_each_get_their_own_items(stored: ReportStore) -> None:
    table = aws.table(stored.table_name)
    accounts = [f"acc-{n}" for n in range(12)]
    with table.batch_writer() as batch:
        for n, account in enumerate(accounts):
            for day in range(1, 31):
                batch.put_item(Item={"pk": day_pk(account), "sk": f"2026-11-{day:02}#A", "date": "x", "fr_1": n})
    # (ITEM, acc-1's 2026-11-05, is overwritten)
    stored.figure_client()
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda a: stored.days(a, "2026-11-01", "2026-11-30"), accounts))
    for n, items in enumerate(found):
        assert len(items) == 30 and all(i["pk"] == day_pk(accounts[n]) for i in items)
        assert {i["fr_1"] for i in items if "fr_1" in i} == {n}


def test_a_figure_read_goes_on_over_pages(stored: ReportStore) -> None:
    """Over 1 MB of items: DynamoDB (and moto) answer a page and ``LastEvaluatedKey``, which botocore still parses
    (only ``Items`` is taken as sent) and the read follows."""
    table = aws.table(stored.table_name)
    with table.batch_writer() as batch:
        for n in range(300):  # ~4 KB each: ~1.2 MB
            batch.put_item(Item={"pk": day_pk("big"), "sk": f"2026-11-01#O#op-{n:03}", "pad": "x" * 4000, "fr_2": n})
    client = stored.figure_client()
    pages: list[Any] = []

    def seen(parsed: dict[str, Any], **_: Any) -> None:
        pages.append(parsed.get("LastEvaluatedKey"))

    client.meta.events.register("after-call.dynamodb.Query", seen)
    try:
        found = stored.days("big", "2026-11-01", "2026-11-01")
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", seen)
    assert len(pages) >= 2 and pages[-1] is None
    assert pages[0] is not None and pages[0]["pk"] == {"S": day_pk("big")}  # the page's key, parsed by botocore
    assert [i["fr_2"] for i in found] == list(range(300))
