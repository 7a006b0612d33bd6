"""The local runtime fires EventBridge Scheduler one-time schedules the functions create (moto keeps them only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_runtime.one_time_schedules import OneTimeSchedules, due_time

NOW = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:WorkflowAlertFunction"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:SomeQueue"


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("scheduler")


def create(client: Any, name: str, at: datetime, arn: str, payload: dict[str, Any], **extra: Any) -> None:
    client.create_schedule(
        Name=name,
        ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/R", "Input": json.dumps(payload)},
        **extra,
    )


def test_due_schedules_fire_once_with_their_input_and_delete_themselves(scheduler: Any) -> None:
    invoked: list[tuple[str, Any]] = []
    sent: list[tuple[str, str]] = []
    runner = OneTimeSchedules(
        lambda: scheduler, lambda arn, event: invoked.append((arn, event)), lambda a, b: sent.append((a, b))
    )
    create(scheduler, "due", NOW - timedelta(seconds=1), FUNCTION, {"n": 1}, ActionAfterCompletion="DELETE")
    create(scheduler, "later", NOW + timedelta(minutes=5), FUNCTION, {"n": 2}, ActionAfterCompletion="DELETE")
    create(scheduler, "to-queue", NOW, QUEUE, {"n": 3})
    assert runner.tick(NOW) == 2
    assert invoked == [(FUNCTION, {"n": 1})] and sent == [(QUEUE, json.dumps({"n": 3}))]
    assert runner.tick(NOW) == 0  # fired once: deleted, or disabled when it does not delete itself
    names = {s["Name"]: s["State"] for s in scheduler.list_schedules()["Schedules"]}
    assert names == {"later": "ENABLED", "to-queue": "DISABLED"}
    assert runner.tick(NOW + timedelta(minutes=5)) == 1 and invoked[-1] == (FUNCTION, {"n": 2})


def test_only_one_time_expressions_are_due() -> None:
    assert (
        due_time({"ScheduleExpression": "at(2026-12-07T13:00:00)", "ScheduleExpressionTimezone": "Europe/Moscow"})
        == NOW
    )
    assert due_time({"ScheduleExpression": "rate(5 minutes)"}) is None
