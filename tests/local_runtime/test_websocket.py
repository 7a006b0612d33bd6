"""The local runtime's WebSocket API, management API and DynamoDB stream event source, driven by
fixture/websocket.yaml (generic: nothing here knows the project's functions)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from local_runtime import LocalStack

FIXTURE = Path(__file__).parent / "fixture" / "websocket.yaml"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(
        FIXTURE,
        env_overrides={"AWS_REGION": "us-east-1"},
        log_file=tmp_path_factory.mktemp("ws") / "l.log",
        enforce_iam=False,  # the fixture's functions declare no policies: this tests the runtime, not IAM
    )
    local.start()
    yield local
    local.stop()


def seen(stack: LocalStack, key: str, timeout: float = 20) -> dict[str, Any]:
    """The SeenTable item ``key`` once a handler wrote it."""
    dynamodb = stack.client("dynamodb")
    deadline = time.monotonic() + timeout
    while True:
        item = dynamodb.get_item(TableName=stack.physical_ids["SeenTable"], Key={"pk": {"S": key}}).get("Item")
        if item:
            return item
        assert time.monotonic() < deadline, f"{key} never reached the handler"
        time.sleep(0.05)


def test_connect_refusal_uses_the_functions_status_and_body(stack: LocalStack) -> None:
    with pytest.raises(InvalidStatus) as refused, connect(stack.ws_url + "/?let=out", open_timeout=30):
        pass
    assert refused.value.response.status_code == 403 and refused.value.response.body == b'{"no": "entry"}'


def test_events_routes_and_two_way_answers(stack: LocalStack) -> None:
    with connect(stack.ws_url + "/?let=in&x=1", open_timeout=30) as ws:
        ws.send(json.dumps({"action": "anything"}))
        answer = json.loads(ws.recv(timeout=30))
        assert answer["route"] == "$default" and json.loads(answer["echo"]) == {"action": "anything"}
        ws.send(json.dumps({"action": "shout", "text": "hi"}))  # one-way route: answers via @connections
        assert ws.recv(timeout=30) == json.dumps({"action": "shout", "text": "hi"}).upper()
        assert ws.recv(timeout=30) == "gone=yes ip=127.0.0.1"
        ws.send("not json")  # no route key: $default
        assert json.loads(ws.recv(timeout=30))["echo"] == "not json"
    # the refused ?let=out connection of the other test ran $connect too; scans come back in key order (random ids)
    connected = [k for k in _keys(stack) if k.startswith("$connect#") and "let=in" in _query_of(stack, k)]
    [connection_id] = [key.split("#", 1)[1] for key in connected]
    connect_event = json.loads(seen(stack, f"$connect#{connection_id}")["event"]["S"])
    context = connect_event["requestContext"]
    assert context["eventType"] == "CONNECT" and context["stage"] == "live" and context["connectionId"] == connection_id
    assert context["domainName"] == f"{context['apiId']}.execute-api.us-east-1.amazonaws.com"
    assert connect_event["queryStringParameters"] == {"let": "in", "x": "1"}
    message = json.loads(seen(stack, f"shout#{connection_id}")["event"]["S"])
    assert message["requestContext"]["eventType"] == "MESSAGE" and message["requestContext"]["messageId"]
    gone = json.loads(seen(stack, f"$disconnect#{connection_id}")["event"]["S"])
    assert (
        gone["requestContext"]["eventType"] == "DISCONNECT" and gone["requestContext"]["disconnectStatusCode"] == 1000
    )


def _query_of(stack: LocalStack, key: str) -> str:
    query = json.loads(seen(stack, key)["event"]["S"]).get("queryStringParameters") or {}
    return "&".join(f"{name}={value}" for name, value in query.items())


def _keys(stack: LocalStack) -> list[str]:
    items = stack.client("dynamodb").scan(TableName=stack.physical_ids["SeenTable"])["Items"]
    return [item["pk"]["S"] for item in items]


def test_management_api_answers_410_for_unknown_connections(stack: LocalStack) -> None:
    import boto3

    [api] = stack.websocket_apis
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{stack.ws_management_url}/{api.api_id}/{api.stage}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="bm9ib2R5", Data=b"hi")
    before = set(_keys(stack))  # scans come back in key order (random ids): the new key is the one not seen yet
    with connect(stack.ws_url + "/?let=in", open_timeout=30) as ws:
        ws.send(json.dumps({"action": "ping"}))
        ws.recv(timeout=30)
        [connection_id] = [k.split("#", 1)[1] for k in set(_keys(stack)) - before if k.startswith("$default#")]
        client.delete_connection(ConnectionId=connection_id)
        with pytest.raises(Exception):  # noqa: B017 - closed by the server: any close error
            ws.recv(timeout=30)


def test_stream_batches_retry_from_the_first_failed_record(stack: LocalStack) -> None:
    dynamodb = stack.client("dynamodb")
    table = stack.physical_ids["StreamTable"]
    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": key}}}} for key in ("a", "fail-once-b", "c")]
    )
    c = seen(stack, "stream#c")
    b = seen(stack, "stream#fail-once-b")
    a = seen(stack, "stream#a")
    deadline = time.monotonic() + 20
    while int(b["attempts"]["N"]) < 2:
        assert time.monotonic() < deadline, "the failed record was not retried"
        time.sleep(0.05)
        b = seen(stack, "stream#fail-once-b")
    a = seen(stack, "stream#a")
    assert a["attempts"]["N"] == "1"  # before the failure: not handed over again
    assert int(c["attempts"]["N"]) >= 1 and a["eventName"]["S"] == "INSERT"
    assert a["sourceArn"]["S"].startswith("arn:aws:dynamodb:us-east-1:") and "/stream/" in a["sourceArn"]["S"]
