"""What the tests of background jobs share: the worker's context, a job as GET /jobs/{id} answers it, and the
messages a job stored (and whether the live updates would announce them)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import jobs_get
from avito_service.config import get_settings
from avito_service.live.frames import frames_for
from avito_service.messenger.items import chat_pk
from boto3.dynamodb.conditions import Key

from tests.support.events import FakeContext, call_route


class WorkerContext(FakeContext):
    """A worker invocation with the template's 300 s timeout ahead of it."""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def job(job_id: str, role: str = "admin") -> dict[str, Any]:
    """The job as ``GET /api/v1/jobs/{jobId}`` answers it (asserted 200)."""
    status, body = call_route(jobs_get, "GET", "/api/v1/jobs/{jobId}", {"jobId": job_id}, role=role)
    assert status == 200, body
    return body["data"]


def stored_messages(account_id: str, chat_id: str) -> list[dict[str, Any]]:
    """The chat's stored messages, oldest first (a consistent read)."""
    table = boto3.resource("dynamodb").Table(get_settings().messenger_table)
    answer = table.query(
        KeyConditionExpression=Key("pk").eq(chat_pk(account_id, chat_id)) & Key("sk").begins_with("MSG#"),
        ConsistentRead=True,
    )
    return answer["Items"]


def announced(items: list[dict[str, Any]]) -> list[str]:
    """The ids of stored messages whose INSERT the live updates announce (``avito-notification``)."""
    plain = [json.loads(json.dumps(i, default=str)) for i in items]
    return [str(i["id"]) for i in plain if any(f.event == "avito-notification" for f in frames_for("INSERT", None, i))]
