"""Run a deleted account's background cleanup to its end with a clock the test controls (no waiting)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from avito_service.accounts import cleanup as account_cleanup
from avito_service.accounts import service as accounts_service
from avito_service.config import get_settings


def cleanup_messages() -> list[dict[str, Any]]:
    """Receive what CleanupQueue holds now (visible messages), as SQS records of a Lambda event."""
    answer = boto3.client("sqs").receive_message(
        QueueUrl=get_settings().cleanup_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:CleanupQueue",
            "awsRegion": "us-east-1",
        }
        for m in answer.get("Messages", [])
    ]


def queued_accounts() -> list[str]:
    return [json.loads(r["body"])["accountId"] for r in cleanup_messages()]


def finish_cleanup(account_id: str, *, passes: int = 5) -> int:
    """Run passes, each past the settle time of the one before, until the cleanup is done; returns the passes."""
    marker = accounts_service.account_store().cleanup_marker(account_id)
    assert marker is not None, "no cleanup pending for this account"
    at = float(marker["deletedAt"])
    for n in range(1, passes + 1):
        at += account_cleanup.SETTLE_SECONDS + 1
        if account_cleanup.clean_up(account_id, now=at):
            return n
    raise AssertionError(f"the cleanup of {account_id} did not finish in {passes} passes")
