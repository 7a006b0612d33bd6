"""The suite's IAM evaluator (tests/support/iam.py) itself: handlers are attributed to their function, a grant
removed from template.yaml is refused naming the function, the action and the resource, and threads started by a
handler are checked as that function."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import messenger_messages
import pytest
from botocore.exceptions import ClientError

from local_runtime.template import load_template
from tests.support import iam

ROOT = Path(__file__).resolve().parents[2]
QUERY = {"TableName": "MessengerTable", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {}}


def without_grant(function_id: str, action: str) -> iam.Evaluator:
    """An evaluator of template.yaml with ``action`` taken out of ``function_id``'s inline statements."""
    template = load_template(ROOT / "template.yaml")
    template.document = copy.deepcopy(template.document)
    for policy in template.document["Resources"][function_id]["Properties"]["Policies"]:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            statement["Action"] = [a for a in statement["Action"] if a != action]
    return iam.Evaluator(template)


def test_handlers_are_attributed_to_their_function() -> None:
    assert messenger_messages.lambda_handler.iam_function_id == "MessengerMessagesFunction"  # type: ignore[attr-defined]


def test_a_removed_grant_is_refused_naming_function_action_and_resource(aws_env: dict[str, str]) -> None:
    """The mutation the issue asks for, kept as a test: MessengerMessagesFunction without Query on MessengerTable
    (live messages store what Avito returned after querying what is stored) is refused, as AWS would."""
    client = boto3.client("dynamodb")
    iam.evaluator().check("MessengerMessagesFunction", client, "Query", QUERY)  # granted: no error
    mutated = without_grant("MessengerMessagesFunction", "dynamodb:Query")
    with pytest.raises(ClientError) as refused:
        mutated.check("MessengerMessagesFunction", client, "Query", QUERY)
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/MessengerTable"
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert mutated.take_violations() == [
        f"MessengerMessagesFunction may not dynamodb:Query on {table} (template.yaml grants it no such statement)"
    ]
    with pytest.raises(ClientError):  # an index is its own resource: the table's grant does not cover it
        iam.evaluator().check("MessengerMessagesFunction", client, "Query", {**QUERY, "IndexName": "byChatId"})
    assert iam.evaluator().take_violations() == [
        f"MessengerMessagesFunction may not dynamodb:Query on {table}/index/byChatId "
        "(template.yaml grants it no such statement)"
    ]


def test_calls_from_a_handlers_threads_are_checked_as_that_function(aws_env: dict[str, str]) -> None:
    def handler(event: Any, context: Any) -> Any:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda _: iam.current_function(), range(2)))

    attributed = iam._attributed(handler, "OnlineWorkerFunction")
    assert attributed({}, None) == ["OnlineWorkerFunction", "OnlineWorkerFunction"]
    assert iam.current_function() is None
