"""DynamoDB resources are per thread: a resource's client builds ``Key``/``Attr`` conditions with one placeholder
counter that it resets per request, so threads sharing it mix up each other's names (two job workers in one
process got "Query condition missed key schema element: pk" under a busy machine)."""

from __future__ import annotations

import threading
from typing import Any

from avito_service import aws
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError


def test_each_thread_has_its_own_resource_and_keeps_it(aws_env: dict[str, str]) -> None:
    name = aws_env["JobsTable"]
    seen: dict[str, tuple[Any, Any]] = {}

    def look(label: str) -> None:
        seen[label] = (aws.table(name), aws.dynamodb_resource())
        assert aws.table(name) is seen[label][0]  # cached within the thread

    threads = [threading.Thread(target=look, args=(f"t{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    look("main")
    assert len({id(table) for table, _ in seen.values()}) == 3
    assert len({id(resource) for _, resource in seen.values()}) == 3
    assert aws.sqs_client() is aws.sqs_client()  # clients are shared: they are thread-safe


def test_threads_building_conditions_at_once_never_mix_them_up(aws_env: dict[str, str]) -> None:
    name = aws_env["JobsTable"]
    aws.table(name).put_item(Item={"pk": "PAGES#job#acc", "sk": "000001", "ids": [1, 2, 3]})
    errors: list[str] = []
    start = threading.Barrier(4)

    def query() -> None:
        table = aws.table(name)
        start.wait()
        for _ in range(150):
            try:
                answer = table.query(
                    KeyConditionExpression=Key("pk").eq("PAGES#job#acc") & Key("sk").between("000000", "000009")
                )
            except ClientError as error:
                errors.append(str(error))
                continue
            if len(answer["Items"]) != 1:
                errors.append(f"{len(answer['Items'])} items")

    threads = [threading.Thread(target=query) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
