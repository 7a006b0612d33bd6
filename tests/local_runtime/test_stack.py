"""The local runtime end to end: real worker subprocesses, real HTTP, moto, all driven by fixture/template.yaml."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests

from local_runtime import InvocationError, LocalStack

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"
JWT_SECRET = "fixture-signing-key-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs") / "local.log"


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log-dir")


@pytest.fixture(scope="module")
def stack(log_file: Path, log_dir: Path) -> Iterator[LocalStack]:
    local = LocalStack(
        FIXTURE,
        # MOTO_HOST: moto elsewhere than the API's 127.0.0.1 (as for `sam local invoke` on the docker bridge)
        env_overrides={"JWT_SECRET": JWT_SECRET, "AWS_REGION": "us-east-1", "MOTO_HOST": "127.0.0.2"},
        schedule_seconds=1,
        log_file=log_file,
        log_dir=log_dir,
        enforce_iam=False,  # the fixture's functions declare no policies: this tests the runtime, not IAM
    )
    with local:
        yield local


def token(role: str = "admin", sub: str = "user-1") -> str:
    return "Bearer " + jwt.encode({"sub": sub, "role": role, "exp": int(time.time()) + 600}, JWT_SECRET, "HS256")


def wait_for(condition: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def echo(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["X-Echo"] == "yes"
    return response.json()


def items(stack: LocalStack, pk: str) -> list[dict[str, Any]]:
    table = stack.client("dynamodb")
    return table.query(
        TableName=stack.physical_ids["ItemsTable"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]


def test_resources_are_created_from_the_template(stack: LocalStack) -> None:
    table = stack.client("dynamodb").describe_table(TableName="avito-service-local-items")["Table"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "byKind"
    secret = stack.client("secretsmanager").get_secret_value(SecretId="avito-service-local/jwt")
    assert secret["SecretString"] == JWT_SECRET == stack.jwt_secret
    queues = stack.client("sqs").list_queues()["QueueUrls"]
    assert {url.rsplit("/", 1)[1] for url in queues} >= {"WorkQueue", "WorkDlq"}


def test_route_with_path_param_builds_rest_v1_event(stack: LocalStack) -> None:
    body = echo(
        requests.get(
            f"{stack.api_url}/items/42?q=a&q=b&one=1", headers={"Authorization": token(), "X-Custom": "v"}, timeout=10
        )
    )
    event = body["event"]
    assert event["resource"] == "/items/{itemId}"
    assert event["path"] == "/items/42" and event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"itemId": "42"}
    assert event["queryStringParameters"] == {"q": "b", "one": "1"}
    assert event["multiValueQueryStringParameters"] == {"q": ["a", "b"], "one": ["1"]}
    assert event["headers"]["X-Custom"] == "v" and event["multiValueHeaders"]["X-Custom"] == ["v"]
    assert event["body"] is None and event["isBase64Encoded"] is False and event["stageVariables"] is None
    context = event["requestContext"]
    assert context["stage"] == "local" and context["path"] == "/local/items/42"
    assert context["resourcePath"] == "/items/{itemId}" and context["httpMethod"] == "GET"
    assert context["identity"]["sourceIp"] == "127.0.0.1" and context["accountId"] == "123456789012"
    assert context["authorizer"] == {"role": "admin", "admin": "true", "level": "3", "principalId": "user-1"}


def test_literal_segment_wins_over_path_param(stack: LocalStack) -> None:
    event = echo(requests.get(f"{stack.api_url}/items/special", headers={"Authorization": token()}, timeout=10))
    assert event["event"]["resource"] == "/items/special" and event["event"]["pathParameters"] is None


def test_post_body_reaches_handler(stack: LocalStack) -> None:
    response = requests.post(
        f"{stack.api_url}/items", json={"name": "x"}, headers={"Authorization": token()}, timeout=10
    )
    event = echo(response)["event"]
    assert json.loads(event["body"]) == {"name": "x"} and event["httpMethod"] == "POST"
    assert event["headers"]["Content-Type"] == "application/json"


def test_open_routes_need_no_token(stack: LocalStack) -> None:
    event = echo(requests.get(f"{stack.api_url}/health", timeout=10))["event"]
    assert "authorizer" not in event["requestContext"]
    event = echo(requests.delete(f"{stack.api_url}/files/a/b/c.txt", timeout=10))["event"]
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"} and event["httpMethod"] == "DELETE"


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt", "Basic abc"])
def test_unauthorized_uses_the_gateway_response(stack: LocalStack, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(f"{stack.api_url}/items/1", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "unauthorized"
    assert body["error"]["message"] == "Unauthorized" and body["error"]["requestId"]


def test_policy_deny_is_403_and_authorizer_crash_is_500(stack: LocalStack) -> None:
    denied = requests.get(f"{stack.api_url}/items/1", headers={"Authorization": token("banned")}, timeout=10)
    assert denied.status_code == 403
    assert denied.json() == {"message": "User is not authorized to access this resource with an explicit deny"}
    crashed = requests.get(f"{stack.api_url}/items/1", headers={"Authorization": token("explode")}, timeout=10)
    assert crashed.status_code == 500


def test_unknown_path_and_wrong_method_use_the_missing_token_gateway_response(stack: LocalStack) -> None:
    # API Gateway answers both with MISSING_AUTHENTICATION_TOKEN; the fixture maps it to a 404 with a CORS header
    for response in (
        requests.get(f"{stack.api_url}/nope", timeout=10),
        requests.put(f"{stack.api_url}/health", timeout=10),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        assert response.json()["error"]["requestId"] == response.headers["x-amzn-RequestId"]
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_preflight_is_answered_from_the_api_cors_without_the_authorizer(stack: LocalStack) -> None:
    headers = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    response = requests.options(f"{stack.api_url}/items", headers=headers, timeout=10)  # a route with an authorizer
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS,POST"  # the path's own methods
    files = requests.options(f"{stack.api_url}/files/a/b", headers=headers, timeout=10)
    assert files.headers["Access-Control-Allow-Methods"] == "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"  # ANY


def test_integration_timeout_uses_the_gateway_response(stack: LocalStack) -> None:
    response = requests.get(f"{stack.api_url}/slow", params={"seconds": "3"}, timeout=10)  # TimeoutInMillis: 300
    assert response.status_code == 504  # the built-in status of INTEGRATION_TIMEOUT, kept without StatusCode
    assert response.json() == {
        "success": False,
        "error": {"code": "gateway_timeout", "message": "Endpoint request timed out"},
    }


def test_environment_layer_and_context_reach_the_handler(stack: LocalStack) -> None:
    body = echo(requests.get(f"{stack.api_url}/health", timeout=10))
    env = body["env"]
    assert env["TABLE_NAME"] == "avito-service-local-items"  # Globals
    assert env["GREETING"] == "overridden-by-function" and env["FUNCTION_ONLY"] == "echo-only"
    assert env["STACK"] == "avito-service-local-us-east-1" and env["MODE"] == "development"
    assert env["QUEUE_URL"] == stack.physical_ids["WorkQueue"]
    assert env["SECRET_ARN"] == stack.physical_ids["JwtSecret"]
    assert env["WEBHOOK_URL"] == stack.webhook_url + "/"
    assert env["JOINED"] == "a|dev|123456789012" and env["FIRST_AZ"] == "us-east-1a"
    # the stack's moto wins over the template's empty AWS_ENDPOINT_URL placeholder; moto listens on MOTO_HOST
    assert env["AWS_ENDPOINT_URL"] == stack.moto_url and env["AWS_REGION"] == "us-east-1"
    assert stack.moto_url.startswith("http://127.0.0.2:") and stack.api_url.startswith("http://127.0.0.1:")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "avito-service-local-echo"
    assert body["layer"] == "from-layer"
    assert body["sys_path_head"] == [str(FIXTURE.parent / "src"), str(FIXTURE.parent / "layer")]
    context = body["context"]
    assert context["function_name"] == "avito-service-local-echo" and context["memory_limit_in_mb"] == "256"
    assert context["invoked_function_arn"].endswith(":function:avito-service-local-echo")
    assert 0 < context["remaining_ms"] <= 10_000 and context["log_group_name"] == "/aws/lambda/avito-service-local-echo"


def test_handler_exception_is_502(stack: LocalStack) -> None:
    response = requests.get(f"{stack.api_url}/boom", timeout=10)
    assert response.status_code == 502 and response.json() == {"message": "Internal server error"}


def test_function_url_event_is_payload_v2(stack: LocalStack) -> None:
    response = requests.post(
        f"{stack.webhook_url}/hook/x?b=2&b=3",
        data=b'{"k": 1}',
        headers={"Content-Type": "application/json", "Cookie": "c=1; d=2", "X-Sig": "s"},
        timeout=10,
    )
    assert response.status_code == 201 and response.headers["Set-Cookie"] == "a=1; Path=/"
    event = response.json()
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/hook/x" and event["rawQueryString"] == "b=2&b=3"
    assert event["queryStringParameters"] == {"b": "2,3"} and event["cookies"] == ["c=1", "d=2"]
    assert event["headers"]["x-sig"] == "s" and "cookie" not in event["headers"]
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    http = event["requestContext"]["http"]
    assert http["method"] == "POST" and http["path"] == "/hook/x" and http["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["accountId"] == "anonymous" and event["requestContext"]["stage"] == "$default"
    binary = requests.post(
        f"{stack.webhook_url}/", data=b"\x00\x01", timeout=10, headers={"Content-Type": "application/octet-stream"}
    ).json()
    assert binary["isBase64Encoded"] is True and binary["body"] == "AAE="
    plain = requests.get(f"{stack.webhook_url}/plain", timeout=10)
    assert plain.status_code == 200 and plain.json() == {"plain": True}


def test_schedule_fires_by_itself_and_on_demand(stack: LocalStack) -> None:
    assert [schedule.key for schedule in stack.schedules] == ["ScheduledFunction.Tick"]  # Never is disabled
    result = stack.fire_schedule("ScheduledFunction")
    assert result["recorded"]
    ticks = wait_for(lambda: len(items(stack, "SCHEDULE")) >= 2 and items(stack, "SCHEDULE"))
    assert {item["detailType"]["S"] for item in ticks} == {"Scheduled Event"}


def test_sqs_messages_reach_the_consumer_and_failures_go_to_the_dlq(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.physical_ids["WorkQueue"], MessageBody="delayed-1", DelaySeconds=1)
    sqs.send_message(QueueUrl=stack.physical_ids["WorkQueue"], MessageBody="fail-1")
    stored = wait_for(lambda: items(stack, "MESSAGE"))
    assert stored[0]["sk"]["S"] == "delayed-1" and stored[0]["source"]["S"] == "aws:sqs"

    def in_dlq() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=stack.physical_ids["WorkDlq"], WaitTimeSeconds=1).get("Messages", [])

    assert wait_for(in_dlq)[0]["Body"] == "fail-1"


def test_invoke_api(stack: LocalStack) -> None:
    url = f"{stack.api_url}/2015-03-31/functions/SleepFunction/invocations"
    ok = requests.post(url, json={"seconds": 0}, timeout=10)
    assert ok.status_code == 200 and ok.json()["slept"] == 0 and "X-Amz-Function-Error" not in ok.headers
    by_name = requests.post(
        f"{stack.api_url}/2015-03-31/functions/avito-service-local-echo/invocations", json={"path": "/x"}, timeout=10
    )
    assert by_name.json()["statusCode"] == 200
    failed = requests.post(f"{stack.api_url}/2015-03-31/functions/BoomFunction/invocations", json={}, timeout=10)
    assert failed.headers["X-Amz-Function-Error"] == "Unhandled" and failed.json()["errorType"] == "ValueError"
    missing = requests.post(f"{stack.api_url}/2015-03-31/functions/Nope/invocations", json={}, timeout=10)
    assert missing.status_code == 404
    client = boto3.client(
        "lambda",
        endpoint_url=stack.api_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    response = client.invoke(FunctionName="SleepFunction", Payload=json.dumps({"seconds": 0}))
    assert json.loads(response["Payload"].read())["slept"] == 0


def test_timeout_kills_the_worker_and_the_next_call_gets_a_fresh_one(stack: LocalStack) -> None:
    started = time.monotonic()
    with pytest.raises(InvocationError) as error:
        stack.invoke("SleepFunction", {"seconds": 60})
    assert error.value.payload["errorType"] == "Sandbox.Timedout"
    assert time.monotonic() - started < 30  # the function's Timeout (1 s), not the 60 s it would sleep
    assert stack.invoke("SleepFunction", {"seconds": 0})["slept"] == 0


def test_concurrent_invocations_run_in_parallel(stack: LocalStack, tmp_path: Path) -> None:
    # Each invocation waits until all three have arrived: only workers running side by side all see three.
    event = {"dir": str(tmp_path), "parties": 3}
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: stack.invoke("BarrierFunction", event), range(3)))
    assert [answer["arrived"] for answer in answers] == [3, 3, 3]
    assert len({answer["pid"] for answer in answers}) == 3


def test_worker_logs_are_prefixed_and_written_to_the_log_file(stack: LocalStack, log_file: Path) -> None:
    echo(requests.get(f"{stack.api_url}/health", timeout=10))
    requests.get(f"{stack.api_url}/boom", timeout=10)
    text = log_file.read_text()  # an invocation's lines are written before its answer goes out
    assert '[EchoFunction] {"level": "INFO", "message": "echo called"' in text
    assert "[BoomFunction] [ERROR] ValueError: kaboom" in text
    assert JWT_SECRET not in text


def test_one_console_line_per_request_and_each_function_s_logs_in_its_file(stack: LocalStack, log_dir: Path) -> None:
    before = (log_dir / "requests.log").read_text().splitlines() if (log_dir / "requests.log").exists() else []
    for _ in range(2):
        echo(requests.get(f"{stack.api_url}/items/i-1?x=1", headers={"Authorization": token()}, timeout=10))
    requests.get(f"{stack.api_url}/nowhere", timeout=10)
    requests.post(f"{stack.webhook_url}/acct-1/secret-token", data="{}", timeout=10)
    stack.fire_schedule("ScheduledFunction")
    lines = (log_dir / "requests.log").read_text().splitlines()[len(before) :]
    shapes = [line.split(" ", 2)[2].rsplit(" ", 4) for line in lines]  # drop date and time; split off the tail
    seen = [(*shape[0].split(), shape[-2], shape[-1]) for shape in shapes]
    http = [entry for entry in seen if entry[0] in ("GET", "POST")]  # the 1 s schedule fires meanwhile too
    assert [entry[:4] for entry in http] == [
        ("GET", "/items/i-1", "200", "EchoFunction"),
        ("GET", "/items/i-1", "200", "EchoFunction"),
        ("GET", "/nowhere", "404", "-"),
        ("POST", "/acct-1/***", "201", "WebhookFunction"),
    ]
    assert http[1][-1] == "warm" and http[2][-1] == "-"
    assert ("SCHEDULE", "ScheduledFunctionTick", "ok", "ScheduledFunction") in {entry[:4] for entry in seen}
    assert "secret-token" not in "\n".join(lines)
    echo_log = (log_dir / "EchoFunction.log").read_text().splitlines()
    assert any(json.loads(line).get("message") == "echo called" for line in echo_log if line.startswith("{"))
    assert any(line.startswith("END RequestId: ") for line in echo_log)


def test_stop_is_clean_and_quick(stack: LocalStack) -> None:
    pid = stack.invoke("SleepFunction", {"seconds": 0})["pid"]
    started = time.monotonic()
    stack.stop()
    assert time.monotonic() - started < 10  # no long poll, timeout or worker is waited out
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.api_url}/health", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(stack.moto_url, timeout=2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
