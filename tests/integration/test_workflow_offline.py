"""The offline grace period (issue 25, workflow/presence.py) against moto: the user's last ``$disconnect`` arms one
EventBridge Scheduler one-time schedule at disconnect + ``OFFLINE_GRACE_MINUTES``; when it fires (driven here by
handing its stored input to WorkflowAlertFunction, as Scheduler would) a still-offline user's open chats go back to
the queue, announced as ``avito-chat-assigned`` and audited; a reconnect within the grace, or a second
connection still open, keeps them."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import chats_workflow
import pytest
import workflow_alert
import ws_disconnect
import ws_fanout
from avito_service.accounts.store import account_key
from avito_service.audit import service as audit
from avito_service.auth import Identity
from avito_service.live import store as connections
from avito_service.messenger.store import chat_store
from avito_service.workflow import store as workflow_store

from tests.integration.test_live import FAR_EXP, Stream, posted, ws_event
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, call_route

ACCOUNT = "acc-offline-1"
USER_ID = "7"
ROLE_ARN = "arn:aws:iam::123456789012:role/WorkflowSchedulerRole"
ALERT_ARN = "arn:aws:lambda:us-east-1:123456789012:function:WorkflowAlertFunction"
GRACE_MINUTES = 3


@pytest.fixture
def stream(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Stream:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    apigatewaymanagementapi_backends["123456789012"]["us-east-1"].connections.clear()
    monkeypatch.setenv("ALERT_FUNCTION_ARN", ALERT_ARN)  # as template.yaml gives $disconnect
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("OFFLINE_GRACE_MINUTES", str(GRACE_MINUTES))
    reset_caches()
    boto3.resource("dynamodb").Table(aws_env["AccountsTable"]).put_item(Item={**account_key(ACCOUNT), "id": ACCOUNT})
    return Stream(aws_env["MessengerTable"])


def deliver(chat_id: str, message_id: str) -> None:
    value = {"id": message_id, "chat_id": chat_id, "author_id": 55, "created": int(time.time()) - 30, "type": "text"}
    chat_store().record_delivery(ACCOUNT, USER_ID, {**value, "content": {"text": "?"}})


def claim(chat_id: str, sub: str) -> None:
    status, body = call_route(chats_workflow, "post", "/api/v1/chats/{chatId}/claim", {"chatId": chat_id}, sub=sub)
    assert status == 200, body


def disconnect(connection_id: str) -> None:
    assert ws_disconnect.lambda_handler(ws_event("$disconnect", connection_id), FakeContext()) == {"statusCode": 200}


def offline_schedules() -> dict[str, dict[str, Any]]:
    client = boto3.client("scheduler")
    names = [s["Name"] for s in client.list_schedules()["Schedules"] if s["Name"].startswith("offline-")]
    return {name: client.get_schedule(Name=name) for name in names}


def fire(schedule: dict[str, Any]) -> dict[str, Any]:
    """What EventBridge Scheduler does at the schedule's time: invoke its target with its input."""
    assert schedule["Target"]["Arn"] == ALERT_ARN and schedule["Target"]["RoleArn"] == ROLE_ARN
    return workflow_alert.lambda_handler(json.loads(schedule["Target"]["Input"]), FakeContext())


def holder(chat_id: str) -> tuple[str, str | None]:
    item = workflow_store.get_chat_item(ACCOUNT, chat_id) or {}
    return item["status"], (item.get("assignee") or {}).get("userId")


def test_offline_past_the_grace_puts_the_chats_back_in_the_queue_announced_and_audited(stream: Stream) -> None:
    connections.open_connection("anna-1", Identity("anna", "operator", FAR_EXP))
    connections.open_connection("boss-1", Identity("boss", "director", FAR_EXP))
    for chat_id in ("u2i-o1", "u2i-o2", "u2i-o3"):
        deliver(chat_id, f"m-{chat_id}")
        claim(chat_id, "anna")
    status, _ = call_route(chats_workflow, "post", "/api/v1/chats/{chatId}/close", {"chatId": "u2i-o3"}, sub="anna")
    assert status == 200  # a closed chat keeps its assignee and is not released
    assert offline_schedules() == {}

    before = time.time()
    disconnect("anna-1")
    [(name, schedule)] = offline_schedules().items()
    payload = json.loads(schedule["Target"]["Input"])
    assert payload["kind"] == "offline" and payload["userId"] == "anna"
    due = time.mktime(time.strptime(schedule["ScheduleExpression"][3:-1], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before + GRACE_MINUTES * 60 <= due <= time.time() + GRACE_MINUTES * 60 + 1  # never early
    assert schedule["ActionAfterCompletion"] == "DELETE"
    disconnect("anna-1")  # API Gateway's $disconnect again: the connection is gone already, nothing more armed
    assert list(offline_schedules()) == [name]

    ws_fanout.lambda_handler(stream.new_event(), FakeContext())  # what came before (claims, close)
    seen = len([f for f in posted().get("boss-1", []) if f["event"] == "avito-chat-assigned"])
    assert fire(schedule) == {"released": 2}
    assert holder("u2i-o1") == ("new", None) and holder("u2i-o2") == ("new", None)
    assert holder("u2i-o3") == ("closed", "anna")
    assert fire(schedule) == {"released": 0}  # a schedule delivered twice releases nothing twice

    assert ws_fanout.lambda_handler(stream.new_event(), FakeContext()) == {"batchItemFailures": []}
    assigned = [f["data"] for f in posted()["boss-1"] if f["event"] == "avito-chat-assigned"][seen:]
    assert sorted(a["chatId"] for a in assigned) == ["u2i-o1", "u2i-o2"]
    assert all((a["status"], a["assignee"], a["by"]) == ("new", None, None) for a in assigned)

    entries, _ = audit.entries(50, None)
    released = [e for e in entries if e.action == "chat.release"]
    assert sorted(e.target for e in released) == [f"chat:{ACCOUNT}/u2i-o1", f"chat:{ACCOUNT}/u2i-o2"]
    assert all(e.userId == "system" and e.details["from"] == "anna" for e in released)
    assert all(e.details["reason"] == "offline" and e.details["since"] == payload["since"] for e in released)


def test_a_reconnect_within_the_grace_keeps_the_chats(stream: Stream) -> None:
    connections.open_connection("anna-1", Identity("anna", "operator", FAR_EXP))
    deliver("u2i-r1", "m1")
    claim("u2i-r1", "anna")
    disconnect("anna-1")
    [schedule] = offline_schedules().values()
    connections.open_connection("anna-2", Identity("anna", "operator", FAR_EXP))  # a reload, a network blip
    assert fire(schedule) == {"released": 0}
    assert holder("u2i-r1") == ("open", "anna")


def test_a_second_connection_still_open_keeps_the_chats_and_arms_nothing(stream: Stream) -> None:
    connections.open_connection("anna-tab1", Identity("anna", "operator", FAR_EXP))
    connections.open_connection("anna-tab2", Identity("anna", "operator", FAR_EXP))
    deliver("u2i-t1", "m1")
    claim("u2i-t1", "anna")
    disconnect("anna-tab1")
    assert offline_schedules() == {}
    disconnect("anna-tab2")  # now the last one: armed
    assert len(offline_schedules()) == 1
    assert holder("u2i-t1") == ("open", "anna")


def test_an_older_offline_period_does_nothing_and_the_newer_one_decides(stream: Stream) -> None:
    connections.open_connection("anna-1", Identity("anna", "operator", FAR_EXP))
    deliver("u2i-p1", "m1")
    claim("u2i-p1", "anna")
    disconnect("anna-1")
    [first] = offline_schedules().values()
    connections.open_connection("anna-2", Identity("anna", "operator", FAR_EXP))
    time.sleep(0.01)  # the second offline period begins at another millisecond
    disconnect("anna-2")
    second = next(s for s in offline_schedules().values() if s["Name"] != first["Name"])
    assert fire(first) == {"released": 0}  # anna is offline, but not since then: not her grace yet
    assert holder("u2i-p1") == ("open", "anna")
    assert fire(second) == {"released": 1}
    assert holder("u2i-p1") == ("new", None)


def test_away_alone_releases_nothing(stream: Stream) -> None:
    import me_presence

    from tests.support.events import call

    connections.open_connection("anna-1", Identity("anna", "operator", FAR_EXP))
    deliver("u2i-a1", "m1")
    claim("u2i-a1", "anna")
    status, _ = call(me_presence, "put", "/api/v1/me/presence", body={"status": "away"}, sub="anna")
    assert status == 200
    assert offline_schedules() == {} and holder("u2i-a1") == ("open", "anna")
    assert workflow_store.offline_since("anna") is None  # still connected: no offline period at all


def test_a_signed_out_user_gets_the_grace_period_too(stream: Stream, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-out, disable and delete close the user's sockets (live/revocation.py): the items are expired, not
    deleted, so the ``$disconnect`` API Gateway then runs still knows whose connection it was."""
    from avito_service.live.revocation import close_user_connections

    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", "https://x.execute-api.us-east-1.amazonaws.com/prod")
    reset_caches()
    connections.open_connection("anna-1", Identity("anna", "operator", FAR_EXP))
    deliver("u2i-s1", "m1")
    claim("u2i-s1", "anna")
    assert close_user_connections("anna") == 1
    assert list(connections.open_connections()) == []  # no frame reaches a closing connection
    assert offline_schedules() == {}
    disconnect("anna-1")  # what API Gateway runs after the management API closed the socket
    [schedule] = offline_schedules().values()
    assert json.loads(schedule["Target"]["Input"])["userId"] == "anna"
    assert fire(schedule) == {"released": 1}
    assert holder("u2i-s1") == ("new", None)
