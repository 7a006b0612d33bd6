"""Waiting alerts (issue 25, workflow/alerts.py) against moto: the fan-out arms a one-time EventBridge Scheduler
schedule when a chat starts waiting, the alert function marks each threshold once per waiting period whatever
repeats, and the fan-out announces ``avito-chat-waiting`` to the assignee, directors and admins only."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import chats_workflow
import pytest
import workflow_alert
import ws_fanout
from avito_service.accounts.store import account_key
from avito_service.auth import Identity
from avito_service.clock import iso
from avito_service.live import store as connections
from avito_service.messenger.store import chat_store

from tests.integration.test_live import FAR_EXP, Stream, posted
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, call_route

ACCOUNT = "acc-alerts-1"
USER_ID = "7"
ROLE_ARN = "arn:aws:iam::123456789012:role/WorkflowSchedulerRole"
ALERT_ARN = "arn:aws:lambda:us-east-1:123456789012:function:WorkflowAlertFunction"


@pytest.fixture
def stream(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Stream:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    apigatewaymanagementapi_backends["123456789012"]["us-east-1"].connections.clear()
    monkeypatch.setenv("ALERT_FUNCTION_ARN", ALERT_ARN)  # as template.yaml gives the fan-out
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", ROLE_ARN)
    reset_caches()
    boto3.resource("dynamodb").Table(aws_env["AccountsTable"]).put_item(Item={**account_key(ACCOUNT), "id": ACCOUNT})
    return Stream(aws_env["MessengerTable"])


def deliver(chat_id: str, message_id: str, created: int, *, out: bool = False) -> None:
    value = {"id": message_id, "chat_id": chat_id, "author_id": 7 if out else 55, "created": created, "type": "text"}
    chat_store().record_delivery(ACCOUNT, USER_ID, {**value, "content": {"text": "?"}})


def fan_out(stream: Stream) -> None:
    assert ws_fanout.lambda_handler(stream.new_event(), FakeContext()) == {"batchItemFailures": []}


def schedules() -> dict[str, dict[str, Any]]:
    client = boto3.client("scheduler")
    names = [s["Name"] for s in client.list_schedules()["Schedules"]]
    return {name: client.get_schedule(Name=name) for name in names}


def test_a_wait_arms_one_schedule_per_threshold_and_alerts_once_each(stream: Stream) -> None:
    connections.open_connection("anna", Identity("anna", "operator", FAR_EXP))
    connections.open_connection("boris", Identity("boris", "operator", FAR_EXP))
    connections.open_connection("boss", Identity("boss", "director", FAR_EXP))
    created = int(time.time()) - 60
    deliver("u2i-a1", "m1", created)
    status, _ = call_route(chats_workflow, "post", "/api/v1/chats/{chatId}/claim", {"chatId": "u2i-a1"}, sub="anna")
    assert status == 200
    fan_out(stream)
    deliver("u2i-a1", "m1", created)  # a repeated delivery: nothing stored, nothing armed again
    fan_out(stream)
    armed = schedules()
    assert len(armed) == 1
    ((name, schedule),) = armed.items()
    since = iso(created)
    assert name.endswith("-5") and schedule["ScheduleExpression"] == f"at({iso(created + 300)[:19]})"
    assert schedule["Target"]["Arn"] == ALERT_ARN and schedule["Target"]["RoleArn"] == ROLE_ARN
    payload = json.loads(schedule["Target"]["Input"])
    assert payload == {"accountId": ACCOUNT, "chatId": "u2i-a1", "since": since, "threshold": 5}

    assert workflow_alert.lambda_handler(payload, FakeContext()) == {"alerted": True}
    assert workflow_alert.lambda_handler(payload, FakeContext()) == {"alerted": False}  # fired twice: once
    fan_out(stream)
    frames = posted()
    waiting = {
        who: [f["data"] for f in frames.get(who, []) if f["event"] == "avito-chat-waiting"]
        for who in ("anna", "boris", "boss")
    }
    assert waiting["boris"] == []  # not the assignee, not a supervisor
    assert len(waiting["anna"]) == 1 and waiting["anna"] == waiting["boss"]
    alert = waiting["anna"][0]
    assert alert["threshold"] == 5 and alert["assignee"]["userId"] == "anna" and alert["waitingSeconds"] >= 60
    assert sorted(n.rsplit("-", 1)[1] for n in schedules()) == ["15", "5"]  # the next threshold armed

    deliver("u2i-a1", "m2", created + 30, out=True)  # answered: the next alert finds nothing to do
    fan_out(stream)
    fifteen = json.loads(next(s for n, s in schedules().items() if n.endswith("-15"))["Target"]["Input"])
    assert workflow_alert.lambda_handler(fifteen, FakeContext()) == {"alerted": False}


def test_thresholds_already_past_alert_at_once_and_the_next_is_armed(stream: Stream) -> None:
    connections.open_connection("boss", Identity("boss", "admin", FAR_EXP))
    created = int(time.time()) - 20 * 60  # waited 20 minutes when first seen: 5 and 15 are due
    deliver("u2i-a2", "m1", created)
    for _ in range(3):
        fan_out(stream)
    alerts = [f["data"]["threshold"] for f in posted()["boss"] if f["event"] == "avito-chat-waiting"]
    assert alerts == [5, 15]
    assert [n.rsplit("-", 1)[1] for n in schedules()] == ["30"]


def test_routing_sets_the_thresholds_the_alerts_use(stream: Stream) -> None:
    import accounts_routing

    from tests.support.accounts import create_account

    account = create_account(name="Routed", clientId="client-routed", userId=USER_ID)
    path, params = "/api/v1/accounts/{id}/routing", {"id": account}
    status, body = call_route(accounts_routing, "get", path, params, role="operator")
    assert status == 200 and body["data"] == {
        "accountId": account,
        "mode": "off",
        "maxOpenPerOperator": None,
        "waitAlertMinutes": [5, 15, 30],
    }
    change = {"mode": "least_busy", "maxOpenPerOperator": 3, "waitAlertMinutes": [10, 2]}
    assert call_route(accounts_routing, "put", path, params, role="operator", body=change)[0] == 403
    for bad in ({"mode": "fastest"}, {"mode": "off", "waitAlertMinutes": [1, 2, 3, 4]}, {"mode": "off", "x": 1}):
        assert call_route(accounts_routing, "put", path, params, body=bad)[0] == 422, bad
    status, body = call_route(accounts_routing, "put", path, params, body=change)
    assert status == 200 and body["data"]["waitAlertMinutes"] == [2, 10]
    assert call_route(accounts_routing, "get", path, {"id": "nope"})[0] == 404
    created = int(time.time())
    value = {"id": "r1", "chat_id": "u2i-routed", "author_id": 55, "created": created, "type": "text"}
    chat_store().record_delivery(account, USER_ID, {**value, "content": {"text": "?"}})
    fan_out(stream)
    ((name, schedule),) = schedules().items()
    assert name.endswith("-2") and schedule["ScheduleExpression"] == f"at({iso(created + 120)[:19]})"


# --- the routing changed between arming and firing ------------------------------------------------------------


def thresholds_set(minutes: list[int]) -> None:
    import accounts_routing

    body = {"mode": "off", "waitAlertMinutes": minutes}
    status, _ = call_route(accounts_routing, "put", "/api/v1/accounts/{id}/routing", {"id": ACCOUNT}, body=body)
    assert status == 200


def waiting_frames(who: str) -> list[dict[str, Any]]:
    return [f["data"] for f in posted().get(who, []) if f["event"] == "avito-chat-waiting"]


def armed(chat_since: str) -> dict[int, dict[str, Any]]:
    """The schedules of one waiting period, by threshold: their payloads."""
    found = {}
    for schedule in schedules().values():
        payload = json.loads(schedule["Target"]["Input"])
        if payload["since"] == chat_since:
            found[int(payload["threshold"])] = payload
    return found


def test_a_threshold_removed_after_arming_alerts_nobody_and_the_next_current_one_alerts_once(stream: Stream) -> None:
    connections.open_connection("boss", Identity("boss", "admin", FAR_EXP))
    thresholds_set([1, 30])
    created = int(time.time()) - 30
    since = iso(created)
    deliver("u2i-rerouted", "m1", created)
    fan_out(stream)
    assert sorted(armed(since)) == [1]
    thresholds_set([10, 2])  # the admin changes the thresholds while the 1-minute schedule is armed

    one = armed(since)[1]
    assert workflow_alert.lambda_handler(one, FakeContext()) == {"alerted": False}  # no longer a threshold
    fan_out(stream)
    assert waiting_frames("boss") == []  # the old threshold sends no frame
    assert sorted(armed(since)) == [1, 2]  # the next current threshold above it is armed
    schedule = next(s for n, s in schedules().items() if n.endswith("-2"))
    assert schedule["ScheduleExpression"] == f"at({iso(created + 120)[:19]})"
    assert workflow_alert.lambda_handler(one, FakeContext()) == {"alerted": False}  # fired twice: still nothing
    fan_out(stream)

    assert workflow_alert.lambda_handler(armed(since)[2], FakeContext()) == {"alerted": True}
    fan_out(stream)
    frames = waiting_frames("boss")
    assert [(f["chatId"], f["threshold"]) for f in frames] == [("u2i-rerouted", 2)]  # exactly one, the new one
    assert sorted(armed(since)) == [1, 2, 10]  # and the chain goes on at the current thresholds
    assert chat_store().get_chat("u2i-rerouted").awaitingReplySince == since


def test_a_removed_threshold_with_only_smaller_ones_left_or_a_chat_answered_meanwhile_arms_nothing(
    stream: Stream,
) -> None:
    connections.open_connection("boss", Identity("boss", "director", FAR_EXP))
    created = int(time.time()) - 6 * 60  # the default thresholds [5, 15, 30]: 5 is due when seen, 15 is armed
    since = iso(created)
    deliver("u2i-smaller", "m1", created)
    deliver("u2i-answered", "a1", created)
    for _ in range(3):
        fan_out(stream)
    assert sorted((f["chatId"], f["threshold"]) for f in waiting_frames("boss")) == [
        ("u2i-answered", 5),
        ("u2i-smaller", 5),
    ]
    fifteen = [s for s in schedules().values() if json.loads(s["Target"]["Input"])["threshold"] == 15]
    assert len(fifteen) == 2
    thresholds_set([2, 5])  # now only smaller thresholds than the armed 15
    deliver("u2i-answered", "a2", created + 60, out=True)
    fan_out(stream)
    before = set(schedules())

    for schedule in fifteen:
        assert workflow_alert.lambda_handler(json.loads(schedule["Target"]["Input"]), FakeContext()) == {
            "alerted": False
        }
    for _ in range(2):
        fan_out(stream)
    assert len(waiting_frames("boss")) == 2  # no frame for 15, none for the answered chat
    assert set(schedules()) == before  # nothing armed: 2 and 5 are past, the answered chat waits for nothing
    assert chat_store().get_chat("u2i-answered").awaitingReplySince is None
    assert chat_store().get_chat("u2i-smaller").awaitingReplySince == since


# --- auto-assignment and presence -----------------------------------------------------------------------------


def routed(mode: str, cap: int | None = None) -> None:
    import accounts_routing

    body: dict[str, Any] = {"mode": mode} | ({"maxOpenPerOperator": cap} if cap else {})
    status, _ = call_route(accounts_routing, "put", "/api/v1/accounts/{id}/routing", {"id": ACCOUNT}, body=body)
    assert status == 200


def online(*subs: str, elsewhere: str = "eve") -> None:
    for sub in subs:
        connections.open_connection(f"c-{sub}", Identity(sub, "operator", FAR_EXP, account_ids=frozenset({ACCOUNT})))
    connections.open_connection("c-dir", Identity("dora", "director", FAR_EXP))  # directors are not assigned chats
    other = frozenset({"another-account"})
    connections.open_connection(f"c-{elsewhere}", Identity(elsewhere, "operator", FAR_EXP, account_ids=other))


def assignees(chats: list[str]) -> list[str | None]:
    return [(c.assignee.userId if c.assignee else None) for c in (chat_store().get_chat(i) for i in chats)]


def test_a_burst_of_new_chats_is_auto_assigned_within_each_operators_cap(stream: Stream) -> None:
    import me_presence

    routed("least_busy", cap=2)
    online("anna", "boris", "carl", "dina")
    status, body = call_route(
        me_presence, "put", "/api/v1/me/presence", {}, role="operator", sub="dina", body={"status": "away"}
    )
    assert status == 200 and body["data"] == {"userId": "dina", "status": "away"}
    chats = [f"u2i-burst-{i:02d}" for i in range(10)]
    created = int(time.time())
    for index, chat_id in enumerate(chats):
        deliver(chat_id, f"b{index}", created + index)
    for _ in range(3):
        fan_out(stream)
    given = assignees(chats)
    counts = {who: given.count(who) for who in set(given)}
    assert counts == {"anna": 2, "boris": 2, "carl": 2, None: 4}, given  # dina away, eve elsewhere, dora director
    assert {chat_store().get_chat(c).status for c, who in zip(chats, given, strict=True) if who} == {"open"}
    assigned = [f for f in posted()["c-anna"] if f["event"] == "avito-chat-assigned"]
    assert len(assigned) >= 2 and all(f["data"]["by"] is None for f in assigned)  # by the service


def test_round_robin_takes_the_operators_in_turn(stream: Stream) -> None:
    routed("round_robin")
    online("anna", "boris", "carl")
    chats = [f"u2i-rr-{i}" for i in range(6)]
    for index, chat_id in enumerate(chats):
        deliver(chat_id, f"r{index}", int(time.time()) + index)
        fan_out(stream)
    given = assignees(chats)
    assert sorted(given) == ["anna", "anna", "boris", "boris", "carl", "carl"], given
    assert given[:3] == given[3:]  # the same turn order, twice
