"""benchmarks/_dynalite.py's parts that run without Node: template.yaml -> the CreateTable requests dynalite is
given, and the BatchWriteItem writer the month is seeded with (against moto here)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from benchmarks._common import TEMPLATE
from benchmarks._dynalite import UNSUPPORTED, BatchWriter, table_requests
from local_runtime.template import TABLE_TYPE, load_template

SMALL_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  EventsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-events"
      BillingMode: PROVISIONED
      ProvisionedThroughput: {ReadCapacityUnits: 2, WriteCapacityUnits: 3}
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: at, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
      TableClass: STANDARD_INFREQUENT_ACCESS
      SSESpecification: {SSEEnabled: true}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
      GlobalSecondaryIndexes:
        - IndexName: byTime
          KeySchema:
            - {AttributeName: pk, KeyType: HASH}
            - {AttributeName: at, KeyType: RANGE}
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [kind]}
          ContributorInsightsSpecification: {Enabled: true}
  Queue:
    Type: AWS::SQS::Queue
"""


def test_a_table_becomes_the_request_dynalite_takes(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(SMALL_TEMPLATE)
    assert table_requests(load_template(path)) == [
        {
            "TableName": "avito-service-local-events",
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "at", "AttributeType": "N"},
            ],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "byTime",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kind"]},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                }
            ],
        }
    ]


def test_every_table_of_the_template_with_its_keys_and_indexes() -> None:
    template = load_template(TEMPLATE)
    requests = {request["TableName"]: request for request in table_requests(template)}
    tables = template.ids_of_type(TABLE_TYPE)
    assert len(requests) == len(tables) >= 10
    for logical_id in tables:
        props = template.properties(logical_id)
        name = props.get("TableName", logical_id)
        request = requests[name if isinstance(name, str) else logical_id]
        assert not set(request) & set(UNSUPPORTED), logical_id
        assert request["KeySchema"] == props["KeySchema"]
        assert request["BillingMode"] == props["BillingMode"] == "PAY_PER_REQUEST"
        assert "ProvisionedThroughput" not in request
        indexes = {index["IndexName"]: index for index in request.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {index["IndexName"] for index in props.get("GlobalSecondaryIndexes", [])}
        for index in props.get("GlobalSecondaryIndexes", []):
            assert indexes[index["IndexName"]]["KeySchema"] == index["KeySchema"]
            assert indexes[index["IndexName"]]["Projection"] == index["Projection"]
            assert "ProvisionedThroughput" not in indexes[index["IndexName"]]
    dialogs = requests["ReportsTable"]["GlobalSecondaryIndexes"]
    assert dialogs == [
        {
            "IndexName": "byAccountActivity",
            "KeySchema": [
                {"AttributeName": "dialogAccount", "KeyType": "HASH"},
                {"AttributeName": "dialogSk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]


@pytest.fixture
def moto_table(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="Items",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        yield boto3.resource("dynamodb", region_name="us-east-1").Table("Items")


def test_the_batch_writer_puts_every_item_and_sends_unprocessed_ones_again(moto_table) -> None:  # type: ignore[no-untyped-def]
    writer = BatchWriter("https://dynamodb.us-east-1.amazonaws.com", "Items", threads=3)
    original = writer._client.batch_write_item
    calls = {"n": 0}

    def first_answer_leaves_some(**request):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # DynamoDB may leave items unprocessed under load: the writer must send them again
            batch = request["RequestItems"]["Items"]
            original(RequestItems={"Items": batch[:10]})
            return {"UnprocessedItems": {"Items": batch[10:]}}
        return original(**request)

    writer._client.batch_write_item = first_answer_leaves_some
    for n in range(103):
        writer.put({"pk": f"p{n % 7}", "sk": f"s{n}", "count": n, "tags": {"a", "b"}, "name": "Клиент"})
    writer.close()
    items = moto_table.scan()["Items"]
    assert writer.items == 103
    assert len(items) == 103
    assert calls["n"] == 5 + 1  # 103 items: 4 requests of 25 and one of 3, plus the first one's retry
    assert {item["sk"]: int(item["count"]) for item in items} == {f"s{n}": n for n in range(103)}
    assert next(item for item in items if item["sk"] == "s5")["tags"] == {"a", "b"}
