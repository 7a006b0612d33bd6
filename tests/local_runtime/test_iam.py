"""The local runtime's IAM: template statements resolved, calls turned into IAM requests, a worker refusing
what its function is not granted (so `make run`, the e2e and the browser tests behave as AWS does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from local_runtime.iam import Statement, allowed, aws_requests, management_api, worker_environment

ROOT = Path(__file__).resolve().parents[2]
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/AccountsTable"


def client(service: str, endpoint: str = "https://example.amazonaws.com") -> Any:
    meta = SimpleNamespace(service_model=SimpleNamespace(service_name=service), endpoint_url=endpoint)
    return SimpleNamespace(meta=meta)


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("dynamodb", "Query", {"TableName": "AccountsTable", "IndexName": "byOnlineDue"},
         [("dynamodb:Query", f"{TABLE}/index/byOnlineDue")]),
        ("dynamodb", "TransactWriteItems",
         {"TransactItems": [{"ConditionCheck": {"TableName": "AccountsTable"}}, {"Put": {"TableName": "M"}}]},
         [("dynamodb:ConditionCheckItem", TABLE),
          ("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/M")]),
        ("dynamodb", "BatchGetItem", {"RequestItems": {"AccountsTable": {}}}, [("dynamodb:BatchGetItem", TABLE)]),
        ("sqs", "SendMessageBatch", {"QueueUrl": "http://127.0.0.1:4566/123456789012/JobsQueue"},
         [("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:JobsQueue")]),
        ("secretsmanager", "CreateSecret", {"Name": "s/accounts/a", "Tags": [{"Key": "k", "Value": "v"}]},
         [("secretsmanager:CreateSecret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:s/accounts/a-AbCdEf"),
          ("secretsmanager:TagResource", "arn:aws:secretsmanager:us-east-1:123456789012:secret:s/accounts/a-AbCdEf")]),
    ],
)  # fmt: skip
def test_calls_become_the_requests_aws_authorizes(
    service: str, operation: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert aws_requests(client(service), operation, params, "us-east-1") == expected


def test_websocket_connections_are_authorized_on_their_stage_and_method() -> None:
    aws = client("apigatewaymanagementapi", "https://abc123.execute-api.eu-west-1.amazonaws.com/prod")
    assert aws_requests(aws, "PostToConnection", {"ConnectionId": "c1"}, "eu-west-1") == [
        ("execute-api:ManageConnections", "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/@connections/c1")
    ]
    assert management_api("http://127.0.0.1:5000/websocketa/prod") == ("websocketa", "prod")
    assert management_api("http://127.0.0.1:9/prod") == ("local", "prod")


def test_statements_match_actions_case_insensitively_and_resources_with_wildcards() -> None:
    statements = [Statement(("dynamodb:GetItem", "sqs:SendMessage*"), (TABLE, "arn:aws:sqs:*:*:Jobs*"), "inline")]
    assert allowed(statements, "DynamoDB:getitem", TABLE)
    assert not allowed(statements, "dynamodb:GetItem", f"{TABLE}/index/byCreatedAt")  # an index is its own ARN
    assert allowed(statements, "sqs:SendMessageBatch", "arn:aws:sqs:us-east-1:1:JobsQueue")
    assert not allowed(statements, "dynamodb:PutItem", TABLE)


def test_a_worker_refuses_what_its_function_is_not_granted() -> None:
    """In a worker process (enforce_in_worker): GetItem is granted and reaches moto (which answers that the table
    is missing); PutItem is not, and is answered AccessDeniedException naming the function, action and resource."""
    env = worker_environment("SomeFunction", [Statement(("dynamodb:GetItem",), (TABLE,), "inline")], "us-east-1")
    script = textwrap.dedent(
        """
        import os, boto3
        from moto import mock_aws
        from local_runtime.iam import enforce_in_worker
        enforce_in_worker(os.environ)
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            for call in (dynamodb.get_item, dynamodb.put_item):
                try:
                    call(TableName="AccountsTable", Key={"pk": {"S": "a"}}, **({"Item": {"pk": {"S": "a"}}}
                         if call == dynamodb.put_item else {}))
                except Exception as error:
                    print(error.response["Error"]["Code"], error.response["Error"]["Message"])
        """
    )
    aws = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}
    answer = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
        env={**os.environ, **aws, **env, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    lines = answer.stdout.splitlines()
    assert lines[0].startswith("ResourceNotFoundException")
    assert lines[1] == f"AccessDeniedException SomeFunction may not dynamodb:PutItem on {TABLE} " + (
        "(template.yaml grants no such statement)"
    )
    assert f"IAM: SomeFunction may not dynamodb:PutItem on {TABLE}" in answer.stderr
    assert json.loads(env["_LOCAL_RUNTIME_IAM"])["function"] == "SomeFunction"
