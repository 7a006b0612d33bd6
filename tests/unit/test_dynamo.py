"""The one DynamoDB helper (``avito_service.dynamo``): paging, the limit+1 page, failed conditions, update
expressions and type conversion, against moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from avito_service import dynamo
from avito_service.cursors import decode_cursor
from avito_service.errors import ValidationFailed
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from moto import mock_aws


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        created = resource.create_table(
            TableName="helper",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield created


def _fill(table: Any, count: int, pk: str = "P") -> None:
    with table.batch_writer() as batch:
        for n in range(count):
            batch.put_item(Item={"pk": pk, "sk": f"S#{n:04d}", "n": n})


class CountingQuery:
    """A table's ``query`` that counts its calls (each call is one page)."""

    def __init__(self, table: Any) -> None:
        self.table, self.calls = table, 0

    def __call__(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        return self.table.query(**request)


def test_query_all_follows_every_page(table: Any) -> None:
    _fill(table, 25)
    _fill(table, 3, pk="other")
    query = CountingQuery(table)
    items = list(dynamo.query_all(query, KeyConditionExpression=Key("pk").eq("P"), Limit=10))
    assert [int(i["n"]) for i in items] == list(range(25))
    assert query.calls == 3  # 10 + 10 + 5


def test_scan_all_follows_every_page(table: Any) -> None:
    _fill(table, 12)
    _fill(table, 5, pk="other")
    assert len(list(dynamo.scan_all(table.scan, Limit=4))) == 17


@pytest.mark.parametrize(("count", "limit", "pages"), [(10, 5, [5, 5]), (11, 5, [5, 5, 1]), (0, 5, [0]), (3, 5, [3])])
def test_query_page_limit_plus_one_gives_the_last_page_no_cursor(
    table: Any, count: int, limit: int, pages: list[int]
) -> None:
    _fill(table, count)
    request = {"KeyConditionExpression": Key("pk").eq("P")}
    seen: list[int] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        items, cursor = dynamo.query_page(
            table.query, dict(request), limit=limit, cursor=cursor, key_attrs=("pk", "sk"), convert=dynamo.to_python
        )
        sizes.append(len(items))
        seen.extend(i["n"] for i in items)
        if cursor is None:
            break
        assert decode_cursor(cursor, required_keys=("pk", "sk"))["sk"] == f"S#{seen[-1]:04d}"  # the last item's key
    assert sizes == pages  # an exactly full last page has no cursor: no empty page after it
    assert seen == list(range(count))


def test_query_page_refuses_another_lists_cursor(table: Any) -> None:
    _fill(table, 4)
    _, cursor = dynamo.query_page(
        table.query, {"KeyConditionExpression": Key("pk").eq("P")}, limit=2, cursor=None, key_attrs=("pk", "sk")
    )
    with pytest.raises(ValidationFailed) as refused:
        dynamo.query_page(
            table.query,
            {"KeyConditionExpression": Key("pk").eq("other")},
            limit=2,
            cursor=cursor,
            key_attrs=("pk", "sk"),
            belongs=lambda start: start["pk"] == "other",
        )
    assert refused.value.details[0].field == "cursor"
    with pytest.raises(ValidationFailed):  # a cursor without the index's keys
        dynamo.query_page(table.query, {}, limit=2, cursor=cursor, key_attrs=("pk", "sk", "listPk"))


def test_query_page_number_keys_make_a_json_cursor(table: Any) -> None:
    pages = iter([{"Items": [{"pk": "P", "due": Decimal(5)}, {"pk": "P", "due": Decimal(7)}], "LastEvaluatedKey": {}}])
    items, cursor = dynamo.query_page(lambda **_: next(pages), {}, limit=1, cursor=None, key_attrs=("pk", "due"))
    assert len(items) == 1 and decode_cursor(cursor, required_keys=("pk", "due")) == {"pk": "P", "due": 5}


def test_first_items_stops_at_count_and_says_whether_more_may_follow(table: Any) -> None:
    _fill(table, 7)
    items, more = dynamo.first_items(table.query, 4, KeyConditionExpression=Key("pk").eq("P"))
    assert [int(i["n"]) for i in items] == [0, 1, 2, 3] and more is True
    items, more = dynamo.first_items(table.query, 10, KeyConditionExpression=Key("pk").eq("P"))
    assert len(items) == 7 and more is False


def test_condition_failed_single_write_and_transaction(table: Any) -> None:
    table.put_item(Item={"pk": "P", "sk": "A"})
    with pytest.raises(ClientError) as single:
        table.put_item(Item={"pk": "P", "sk": "A"}, ConditionExpression="attribute_not_exists(pk)")
    assert dynamo.condition_failed(single.value)
    assert dynamo.cancellation_codes(single.value) == []

    client = table.meta.client
    with pytest.raises(ClientError) as transaction:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "helper", "Item": {"pk": "P", "sk": "B"}}},
                {
                    "Put": {
                        "TableName": "helper",
                        "Item": {"pk": "P", "sk": "A"},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert dynamo.cancellation_codes(transaction.value) == ["None", dynamo.ITEM_CONDITION_FAILED]
    assert dynamo.condition_failed(transaction.value)


def _error(code: str, reasons: list[dict[str, str]] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "x"}}
    if reasons is not None:
        response["CancellationReasons"] = reasons
    return ClientError(response, "TransactWriteItems")


def test_condition_failed_other_errors_and_any_cancellation() -> None:
    conflict = _error(dynamo.TRANSACTION_CANCELED, [{"Code": "TransactionConflict"}, {"Code": "None"}])
    assert not dynamo.condition_failed(conflict)
    assert dynamo.condition_failed(conflict, any_cancellation=True)
    assert not dynamo.condition_failed(_error("ProvisionedThroughputExceededException"))
    assert not dynamo.condition_failed(_error("ProvisionedThroughputExceededException"), any_cancellation=True)


def test_update_expression_sets_adds_removes_under_conditions(table: Any) -> None:
    table.put_item(Item={"pk": "P", "sk": "A", "status": "old", "count": 1, "gone": "x", "kept": "y"})
    expression = dynamo.Expression()
    condition = f"{expression.name('status')} = {expression.value('old')}"
    request = dynamo.update_expression(
        set_values={"status": "new", "name": "reserved words are fine"},
        add={"count": 2},
        remove={"gone", "status"},  # set and removed: set wins
        conditions=[condition],
        expression=expression,
    )
    assert set(request["ExpressionAttributeNames"].values()) == {"status", "name", "count", "gone"}
    table.update_item(Key={"pk": "P", "sk": "A"}, **request)
    item = table.get_item(Key={"pk": "P", "sk": "A"})["Item"]
    assert item == {"pk": "P", "sk": "A", "status": "new", "name": "reserved words are fine", "count": 3, "kept": "y"}
    with pytest.raises(ClientError) as failed:  # the condition is checked: status is no longer "old"
        table.update_item(Key={"pk": "P", "sk": "A"}, **request)
    assert dynamo.condition_failed(failed.value)


def test_update_expression_without_values_has_no_empty_maps() -> None:
    assert dynamo.update_expression(remove={"a"}) == {
        "UpdateExpression": "REMOVE #n0",
        "ExpressionAttributeNames": {"#n0": "a"},
    }


def test_type_conversions_round_trip() -> None:
    python = {"i": 3, "f": 1.5, "nested": [{"f": 0.25, "s": "x"}], "b": True, "none": None}
    stored = dynamo.to_dynamo(python)
    assert stored["f"] == Decimal("1.5") and stored["nested"][0]["f"] == Decimal("0.25") and stored["i"] == 3
    assert dynamo.to_python(stored) == python
    assert dynamo.to_python(Decimal("2.0")) == 2 and isinstance(dynamo.to_python(Decimal("2.0")), int)
    wire = dynamo.to_wire({"s": "x", "n": 5, "l": ["a"], "m": {"k": True}})
    assert wire == {"s": {"S": "x"}, "n": {"N": "5"}, "l": {"L": [{"S": "a"}]}, "m": {"M": {"k": {"BOOL": True}}}}
    assert dynamo.from_wire(wire) == {"s": "x", "n": Decimal(5), "l": ["a"], "m": {"k": True}}


# --- batch_get ---------------------------------------------------------------------------------------------


class RecordingClient:
    """The plain DynamoDB client's ``batch_get_item``, its calls recorded; ``hold_back`` keys of the first
    ``throttled`` calls are left out of the call and handed back as ``UnprocessedKeys`` (moto never does)."""

    def __init__(self, batch_get_item: Any) -> None:
        self.batch_get_item, self.hold_back, self.throttled = batch_get_item, 0, 0
        self.calls: list[dict[str, Any]] = []
        self.sleeps: list[float] = []  # the pauses before asking again (time.sleep, not slept)

    def __call__(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(RequestItems)
        if len(self.calls) > self.throttled or not self.hold_back:
            return self.batch_get_item(RequestItems=RequestItems)
        ((name, request),) = RequestItems.items()
        asked, held = request["Keys"][: -self.hold_back], request["Keys"][-self.hold_back :]
        answer = self.batch_get_item(RequestItems={name: {**request, "Keys": asked}}) if asked else {}
        return {"Responses": answer.get("Responses", {}), "UnprocessedKeys": {name: {**request, "Keys": held}}}


@pytest.fixture
def recording(table: Any, monkeypatch: pytest.MonkeyPatch) -> RecordingClient:
    from avito_service import aws

    client = aws.dynamodb_low_level_client()
    recorder = RecordingClient(client.batch_get_item)
    monkeypatch.setattr(client, "batch_get_item", recorder)
    monkeypatch.setattr(dynamo.time, "sleep", recorder.sleeps.append)
    return recorder


def _keys(numbers: Any, pk: str = "P") -> list[dict[str, str]]:
    return [{"pk": pk, "sk": f"S#{n:04d}"} for n in numbers]


def test_batch_get_asks_100_keys_a_call_and_returns_every_found_item(table: Any, recording: RecordingClient) -> None:
    _fill(table, 250)
    items = dynamo.batch_get("helper", [*_keys(range(250)), *_keys(range(900, 910))])  # 10 keys of nothing
    assert sorted(int(i["n"]) for i in items) == list(range(250))
    assert all(isinstance(i["n"], Decimal) for i in items)  # the resource's types
    assert [len(call["helper"]["Keys"]) for call in recording.calls] == [100, 100, 60]
    assert dynamo.batch_get("helper", []) == [] and len(recording.calls) == 3  # no keys: no call


def test_batch_get_asks_a_key_given_twice_once(table: Any, recording: RecordingClient) -> None:
    _fill(table, 3)
    items = dynamo.batch_get("helper", [*_keys([0, 1, 2]), *_keys([2, 1]), {"sk": "S#0000", "pk": "P"}])
    assert sorted(int(i["n"]) for i in items) == [0, 1, 2]
    assert [len(call["helper"]["Keys"]) for call in recording.calls] == [3]


def test_batch_get_applies_the_projection_names_and_consistency(table: Any, recording: RecordingClient) -> None:
    table.put_item(Item={"pk": "P", "sk": "A", "name": "reserved word", "n": 1, "other": "left out"})
    items = dynamo.batch_get(
        "helper", [{"pk": "P", "sk": "A"}], projection="sk, #n", names={"#n": "name"}, consistent=True
    )
    assert items == [{"sk": "A", "name": "reserved word"}]
    (request,) = recording.calls
    assert request["helper"]["ConsistentRead"] is True
    assert request["helper"]["ProjectionExpression"] == "sk, #n"
    dynamo.batch_get("helper", [{"pk": "P", "sk": "A"}])
    assert recording.calls[1]["helper"] == {"Keys": [{"pk": {"S": "P"}, "sk": {"S": "A"}}]}  # by default: neither


def test_batch_get_asks_unprocessed_keys_again_until_none_are_left(table: Any, recording: RecordingClient) -> None:
    _fill(table, 130)
    recording.hold_back, recording.throttled = 30, 2  # the first two calls each hand 30 keys back
    items = dynamo.batch_get("helper", _keys(range(130)))
    assert sorted(int(i["n"]) for i in items) == list(range(130))
    # chunk 1: 100 keys -> 30 back -> 30 keys -> 30 back again -> 30 keys, all done; chunk 2: 30 keys
    assert [len(call["helper"]["Keys"]) for call in recording.calls] == [100, 30, 30, 30]
    assert recording.sleeps == [dynamo.UNPROCESSED_BACKOFF, dynamo.UNPROCESSED_BACKOFF * 2]


def test_batch_get_gives_up_when_keys_keep_coming_back(table: Any, recording: RecordingClient) -> None:
    _fill(table, 5)
    recording.hold_back, recording.throttled = 2, 1000  # DynamoDB never processes the last two keys
    with pytest.raises(dynamo.UnprocessedKeysLeft, match="helper: 2 key"):
        dynamo.batch_get("helper", _keys(range(5)))
    assert len(recording.calls) == dynamo.UNPROCESSED_ROUNDS
    assert max(recording.sleeps) <= 1.0
