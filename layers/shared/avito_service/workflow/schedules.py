"""One-time EventBridge Scheduler schedules of the chat workflow (waiting alerts, the offline grace period).

Both invoke WorkflowAlertFunction (``ALERT_FUNCTION_ARN``) with ``SCHEDULER_ROLE_ARN`` in ``SCHEDULE_GROUP`` and
delete themselves after firing. Names are deterministic, so arming the same thing twice finds the schedule
already there (``ConflictException``, taken as done). Hand-written around boto3 because no library does this;
Scheduler is the AWS service for it (SQS delays stop at 15 minutes, a timer that scans costs per chat per tick).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from avito_service import aws
from avito_service.config import get_settings


def at_expression(timestamp: float) -> str:
    """Scheduler's one-time expression (UTC, whole seconds, rounded up so it never fires early)."""
    moment = datetime.fromtimestamp(int(timestamp) + (timestamp % 1 > 0), UTC)
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def create_once(name: str, due: float, payload: Mapping[str, Any]) -> bool:
    """A schedule ``name`` that invokes the workflow's function with ``payload`` at ``due`` (epoch seconds).
    False when it exists already (armed before: a retried record, a repeated event)."""
    settings = get_settings()
    try:
        aws.scheduler_client().create_schedule(
            Name=name,
            GroupName=settings.schedule_group,
            ScheduleExpression=at_expression(due),
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={
                "Arn": settings.alert_function_arn,
                "RoleArn": settings.scheduler_role_arn,
                "Input": json.dumps(dict(payload)),
                "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
            },
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConflictException":
            raise
        return False
    return True
