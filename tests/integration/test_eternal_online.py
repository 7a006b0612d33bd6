"""Eternal online in-process: planning (tick), the SQS worker, the REST endpoints and keep-alive truthfulness.

moto holds the tables and queues built from template.yaml; Avito is the simulator over real HTTP.
Time is passed in explicitly (``now=``) wherever the schedule depends on it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import online_disable
import online_enable
import online_set_online
import online_status
import online_tick
import online_worker
import pytest
from avito_service import deadline
from avito_service.accounts import service
from avito_service.accounts.models import AccountUpdate
from avito_service.avito import tokens
from avito_service.config import get_settings
from avito_service.messenger import store as store_module
from avito_service.online import keepalive, schedule, worker
from avito_service.online.schedule import PlannedKeepAlive, TickResult, plan_window, tick

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, call

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_800_000_000  # a fixed "now" for the schedule (unix s)
WINDOW = 300
HEALTHY_UID, BROKEN_UID, WRONG_CREDS_UID = 7001, 7002, 7003
HEALTHY_SECRET = "h-secret"


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator(latency=0.0)
    simulator.start()
    simulator.add_account("h-cid", HEALTHY_SECRET, HEALTHY_UID, name="Healthy")
    simulator.add_account("b-cid", "b-secret", BROKEN_UID, name="Broken")
    simulator.add_account("w-cid", "w-secret", WRONG_CREDS_UID, name="Wrong credentials")
    simulator.add_chat(HEALTHY_UID, "u2i-unread-1", item_id=1, item_title="Sofa", client_name="Anna")
    simulator.add_message(HEALTHY_UID, "u2i-unread-1", "m-1", "Is it still for sale?")
    yield simulator
    simulator.stop()


@pytest.fixture
def env(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_MAX_RETRIES", "0")
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "2")
    reset_caches()
    store_module.chat_store.cache_clear()
    tokens.forget_in_memory()
    sim.clear_requests()
    sim.clear_faults()
    yield aws_env
    sim.clear_faults()
    store_module.chat_store.cache_clear()


def new_account(
    client_id: str = "h-cid", secret: str | None = None, user_id: int | None = HEALTHY_UID, **extra: Any
) -> str:
    secret = secret or HEALTHY_SECRET
    return create_account(name=f"Shop {client_id}", clientId=client_id, clientSecret=secret, userId=user_id, **extra)


def item(account_id: str) -> dict[str, Any]:
    return service.account_store().get(account_id) or {}


def put_enabled(next_due_at: int, interval: int = 300, generation: int | None = None) -> str:
    """A bare enabled account item (no secret): enough for the tick, fast enough for a hundred of them."""
    account_id = str(uuid.uuid4())
    record = {
        "pk": f"ACCOUNT#{account_id}",
        "sk": "PROFILE",
        "id": account_id,
        "name": "Bulk",
        "eternalOnlineEnabled": True,
        "onlineKeepAliveInterval": interval,
        "onlinePk": "ONLINE",
        "nextDueAt": next_due_at,
        "version": 1,
    }
    if generation is not None:
        record["onlineGeneration"] = generation
    service.account_store()._table.put_item(Item=record)
    return account_id


def planned_for(result: TickResult, account_id: str) -> list[int]:
    return [k.planned_at for k in result.keep_alives if k.account_id == account_id]


def sqs_event(keep_alives: list[PlannedKeepAlive]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"msg-{n}",
                "receiptHandle": f"rh-{n}",
                "body": k.body(),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:KeepAliveQueue",
                "awsRegion": "us-east-1",
            }
            for n, k in enumerate(keep_alives)
        ],
    }


def run_worker(keep_alives: list[PlannedKeepAlive]) -> dict[str, Any]:
    return online_worker.lambda_handler(sqs_event(keep_alives), FakeContext())


def enable(account_id: str, body: Any = None, role: str = "admin") -> tuple[int, dict[str, Any]]:
    return call(
        online_enable,
        "POST",
        f"/api/v1/eternal-online/accounts/{account_id}/enable",
        resource="/api/v1/eternal-online/accounts/{accountId}/enable",
        path_parameters={"accountId": account_id},
        body=body,
        role=role,
    )


def action(module: Any, name: str, account_id: str, role: str = "admin") -> tuple[int, dict[str, Any]]:
    return call(
        module,
        "POST",
        f"/api/v1/eternal-online/accounts/{account_id}/{name}",
        resource=f"/api/v1/eternal-online/accounts/{{accountId}}/{name}",
        path_parameters={"accountId": account_id},
        role=role,
    )


def status(role: str = "admin", **query: str) -> tuple[int, dict[str, Any]]:
    return call(online_status, "GET", "/api/v1/eternal-online/status", query=query or None, role=role)


# --- planning -------------------------------------------------------------------------------------------------


def test_plan_window_counts_and_past_due() -> None:
    assert plan_window(T0, 60, T0, T0 + WINDOW) == ([T0, T0 + 60, T0 + 120, T0 + 180, T0 + 240], T0 + 300)
    assert plan_window(T0, 300, T0, T0 + WINDOW) == ([T0], T0 + 300)
    assert plan_window(T0 + 299, 300, T0, T0 + WINDOW) == ([T0 + 299], T0 + 599)
    assert plan_window(T0 + 300, 60, T0, T0 + WINDOW) == ([], T0 + 300)  # exactly at the horizon: next tick
    assert plan_window(T0 - 10_000, 60, T0, T0 + WINDOW)[0][0] == T0  # past due: starts now, no burst
    assert plan_window(T0 - 59, 60, T0, T0 + WINDOW, restart_offset=7)[0][0] == T0  # a little late: now
    # A whole interval or more late (an outage): restarts at now + offset (mod min(interval, window)).
    assert plan_window(T0 - 60, 60, T0, T0 + WINDOW, restart_offset=7) == (
        [T0 + 7, T0 + 67, T0 + 127, T0 + 187, T0 + 247],
        T0 + 307,
    )
    assert plan_window(T0 - 9_000, 3600, T0, T0 + WINDOW, restart_offset=1234)[0] == [T0 + 1234 % WINDOW]


def test_accounts_back_from_an_outage_are_spread_over_the_window(env: dict[str, str]) -> None:
    """Accounts all due during an outage come back spread out, not in one phase for good."""
    accounts = [put_enabled(T0 - 3600, interval=300) for _ in range(40)]
    result = tick(now=T0)
    firsts = [planned_for(result, account_id) for account_id in accounts]
    assert all(len(moments) == 1 and T0 <= moments[0] < T0 + WINDOW for moments in firsts)
    assert len({moments[0] for moments in firsts}) >= 30  # 40 accounts over 300 s: nearly all distinct
    for account_id, moments in zip(accounts, firsts, strict=True):
        assert int(item(account_id)["nextDueAt"]) == moments[0] + 300  # then its own interval


def test_due_boundaries(env: dict[str, str]) -> None:
    at_horizon = put_enabled(T0 + WINDOW, interval=60)
    just_before = put_enabled(T0 + WINDOW - 1, interval=60)
    past_due = put_enabled(T0 - 3600, interval=60)
    result = tick(now=T0)
    assert planned_for(result, at_horizon) == []
    assert planned_for(result, just_before) == [T0 + WINDOW - 1]
    moments = planned_for(result, past_due)  # an hour late: restarts within its first interval, spread by id
    assert len(moments) == 5 and T0 <= moments[0] < T0 + 60
    assert moments == [moments[0] + 60 * n for n in range(5)]
    assert int(item(past_due)["nextDueAt"]) == moments[0] + 300
    assert int(item(just_before)["nextDueAt"]) == T0 + WINDOW - 1 + 60
    assert int(item(at_horizon)["nextDueAt"]) == T0 + WINDOW  # untouched, the next tick's


def test_intervals_over_twelve_ticks(env: dict[str, str]) -> None:
    every_minute, every_five, hourly = put_enabled(T0, 60), put_enabled(T0, 300), put_enabled(T0, 3600)
    planned: dict[str, list[int]] = {every_minute: [], every_five: [], hourly: []}
    for n in range(12):
        now = T0 + n * WINDOW
        result = tick(now=now)
        per_tick = {a: planned_for(result, a) for a in planned}
        assert len(per_tick[every_minute]) == 5 and len(per_tick[every_five]) == 1
        for moments in per_tick.values():
            assert all(now <= m < now + WINDOW for m in moments)
        for account_id, moments in per_tick.items():
            planned[account_id].extend(moments)
    assert planned[every_minute] == list(range(T0, T0 + 3600, 60))
    assert planned[every_five] == list(range(T0, T0 + 3600, 300))
    assert planned[hourly] == [T0]
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=env["KeepAliveQueue"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    total = int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesDelayed"])
    assert total == 60 + 12 + 1


def test_delay_seconds_match_the_plan(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    put_enabled(T0 - 5, interval=60)
    sent: list[dict[str, Any]] = []
    client = schedule.aws.sqs_client()
    real = client.send_message_batch

    def recording(**kwargs: Any) -> dict[str, Any]:
        sent.extend(kwargs["Entries"])
        return real(**kwargs)

    monkeypatch.setattr(client, "send_message_batch", recording)
    tick(now=T0)
    assert [e["DelaySeconds"] for e in sent] == [0, 60, 120, 180, 240]
    bodies = [json.loads(e["MessageBody"]) for e in sent]
    assert {b["generation"] for b in bodies} == {0} and bodies[1]["plannedAt"] == T0 + 60


def test_a_long_tick_counts_delays_from_the_moment_it_sends(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick over thousands of accounts runs for a minute or more: keep-alives sent late in it must not be
    delayed as if sent at its start (each account's claim here takes 7 simulated seconds)."""
    for _ in range(12):
        put_enabled(T0 + 100, interval=300)  # one keep-alive each, planned at T0 + 100
    sent: list[tuple[int, int]] = []  # (simulated send time offset, DelaySeconds)
    elapsed = {"s": 0.0}
    client = schedule.aws.sqs_client()
    real = client.send_message_batch

    def recording(**kwargs: Any) -> dict[str, Any]:
        sent.extend((round(elapsed["s"]), e["DelaySeconds"]) for e in kwargs["Entries"])
        return real(**kwargs)

    real_claim = schedule._claim

    def slow_claim(*args: Any, **kwargs: Any) -> Any:
        elapsed["s"] += 7
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(client, "send_message_batch", recording)
    monkeypatch.setattr(schedule, "_claim", slow_claim)
    monkeypatch.setattr(schedule.time, "monotonic", lambda: 1000.0 + elapsed["s"])
    tick(now=T0)
    assert len(sent) == 12
    assert sent[:10] == [(70, 30)] * 10  # first batch sent after 10 claims (70 s): 100 - 70 = 30 s delay
    assert sent[10:] == [(84, 16)] * 2  # the rest at the end (84 s)
    assert all(at + delay == 100 for at, delay in sent)  # every keep-alive becomes visible at T0 + 100


def test_overlapping_ticks_never_double_plan(env: dict[str, str]) -> None:
    accounts = [put_enabled(T0, interval=60) for _ in range(5)]
    # a tick that read the due accounts before another tick claimed them plans nothing for them
    stale = list(schedule._due_accounts(T0 + WINDOW, TickResult()))
    first = tick(now=T0)
    assert len(first.keep_alives) == 25 and len(stale) == 5
    assert all(schedule._claim(due, T0, T0 + WINDOW) is None for due in stale)
    assert tick(now=T0).keep_alives == []  # a retried or duplicate tick of the same window
    late = tick(now=T0 + 10)  # an overlapping later tick plans only moments nobody planned yet
    assert {(k.account_id, k.planned_at) for k in late.keep_alives} == {(a, T0 + 300) for a in accounts}
    assert {int(item(a)["nextDueAt"]) for a in accounts} == {T0 + 360}
    # (truly simultaneous ticks are left to DynamoDB's atomic conditional writes: moto does not lock)


def test_tick_reads_only_due_accounts(env: dict[str, str]) -> None:
    now = int(time.time())
    due = {put_enabled(now - n, interval=300) for n in range(10)}
    for n in range(90):
        put_enabled(now + WINDOW + 60 + n, interval=300)
    sample = json.loads((ROOT / "events" / "online_tick.json").read_text(encoding="utf-8"))
    assert online_tick.lambda_handler(sample, FakeContext()) == {"accountsDue": 10, "keepAlivesPlanned": 10}
    result = tick(now=now)  # the same window again: those ten are no longer due, nothing else is read
    assert result.accounts_read == 0 and result.keep_alives == []
    assert all(int(item(k)["nextDueAt"]) >= now + WINDOW for k in due)


# --- the worker -----------------------------------------------------------------------------------------------


def test_failures_are_isolated_and_recorded(env: dict[str, str], sim: AvitoSimulator) -> None:
    healthy = new_account(eternalOnlineEnabled=True)
    broken = new_account("b-cid", "b-secret", BROKEN_UID, eternalOnlineEnabled=True)
    wrong = new_account("w-cid", "not-the-secret", WRONG_CREDS_UID, eternalOnlineEnabled=True)
    sim.add_fault(rf"/messenger/v2/accounts/{BROKEN_UID}/chats", status=500, times=None)
    planned = tick(now=T0).keep_alives
    assert {k.account_id for k in planned} == {healthy, broken, wrong}
    response = run_worker(planned)
    assert response == {"batchItemFailures": []}  # Avito failures are recorded, not retried
    ok = item(healthy)
    assert ok["isOnline"] is True and ok["lastOnlineCheck"] and "lastOnlineError" not in ok
    for account_id in (broken, wrong):
        failed = item(account_id)
        assert failed["isOnline"] is False and failed["lastOnlineError"] and "lastOnlineCheck" not in failed
        assert "not-the-secret" not in failed["lastOnlineError"]
    assert store_module.chat_store().get_chat("u2i-unread-1").accountId == healthy  # the keep-alive stored it


def test_unexpected_errors_fail_only_their_record(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad = (
        new_account(eternalOnlineEnabled=True),
        new_account("b-cid", "b-secret", BROKEN_UID, eternalOnlineEnabled=True),
    )
    real = worker.keep_alive_item

    def flaky(record: dict[str, Any], **kwargs: Any) -> Any:
        if record["id"] == bad:
            raise RuntimeError("DynamoDB went away")
        return real(record, **kwargs)

    monkeypatch.setattr(worker, "keep_alive_item", flaky)
    planned = tick(now=T0).keep_alives
    response = run_worker(planned)
    failed_ids = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed_ids == {f"msg-{n}" for n, k in enumerate(planned) if k.account_id == bad}
    assert item(good)["isOnline"] is True


def test_keep_alive_for_a_disabled_or_changed_account_is_skipped(env: dict[str, str], sim: AvitoSimulator) -> None:
    disabled = new_account(eternalOnlineEnabled=True)
    changed = new_account("b-cid", "b-secret", BROKEN_UID, eternalOnlineEnabled=True)
    planned = tick(now=T0).keep_alives
    assert action(online_disable, "disable", disabled)[0] == 200
    service.update_account(changed, AccountUpdate(eternalOnlineEnabled=False))
    service.update_account(changed, AccountUpdate(eternalOnlineEnabled=True))  # enabled again: new generation
    sim.clear_requests()
    assert run_worker(planned) == {"batchItemFailures": []}
    assert sim.count("GET", r"/messenger/") == 0
    assert worker.run_planned(worker.PlannedMessage(accountId=str(uuid.uuid4()), plannedAt=T0)) == "skipped"


def test_many_keep_alives_fetch_one_token(env: dict[str, str], sim: AvitoSimulator) -> None:
    account_id = new_account(eternalOnlineEnabled=True, onlineKeepAliveInterval=60)
    planned = tick(now=T0).keep_alives + tick(now=T0 + WINDOW).keep_alives
    assert len(planned) == 10
    run_worker(planned)  # ten in parallel threads
    tokens.forget_in_memory()  # another container: the stored token is reused
    run_worker(planned[:3])
    assert sim.count("POST", r"^/token$") == 1
    assert sim.count("GET", rf"^/messenger/v2/accounts/{HEALTHY_UID}/chats") == 13
    assert item(account_id)["isOnline"] is True


def test_failure_keeps_last_online_check(env: dict[str, str], sim: AvitoSimulator) -> None:
    account_id = new_account()
    first = keepalive.keep_alive(account_id, now=T0)
    assert first.ok and first.error is None
    sim.add_fault(rf"/messenger/v2/accounts/{HEALTHY_UID}/chats", status=500, times=None)
    failed = keepalive.keep_alive(account_id, now=T0 + 60)
    assert failed.ok is False and failed.error
    stored = item(account_id)
    assert stored["isOnline"] is False and stored["lastOnlineCheck"] == first.at == "2027-01-15T08:00:00.000Z"
    assert stored["lastOnlineError"] == failed.error
    sim.clear_faults()
    again = keepalive.keep_alive(account_id, now=T0 + 120)
    stored = item(account_id)
    assert again.ok and stored["isOnline"] is True and stored["lastOnlineCheck"] == again.at
    assert "lastOnlineError" not in stored


def test_account_without_user_id_is_a_recorded_failure(env: dict[str, str], sim: AvitoSimulator) -> None:
    account_id = new_account(user_id=None)
    result = keepalive.keep_alive(account_id)
    assert result.ok is False and "userId" in (result.error or "")
    assert item(account_id)["isOnline"] is False and sim.count("GET", r"/messenger/") == 0


# --- endpoints ------------------------------------------------------------------------------------------------


def test_enable_set_online_status_disable(env: dict[str, str], sim: AvitoSimulator) -> None:
    account_id = new_account()
    status_code, body = enable(account_id, {"interval": 60})
    assert status_code == 200, body
    account = body["data"]
    assert account["eternalOnlineEnabled"] is True and account["onlineKeepAliveInterval"] == 60
    assert account["isOnline"] is True and account["lastOnlineCheck"] and account["lastOnlineError"] is None
    assert sim.count("GET", rf"^/messenger/v2/accounts/{HEALTHY_UID}/chats") == 1  # one keep-alive at once
    assert int(item(account_id)["onlineGeneration"]) == 1

    status_code, body = enable(account_id)  # no body: keeps the interval
    assert status_code == 200 and body["data"]["onlineKeepAliveInterval"] == 60

    status_code, body = action(online_set_online, "set-online", account_id)
    assert status_code == 200 and body["data"]["ok"] is True and body["data"]["error"] is None and body["data"]["at"]

    status_code, body = status()
    assert status_code == 200 and body["nextCursor"] is None
    [entry] = body["data"]
    assert entry["accountId"] == account_id and entry["interval"] == 60 and entry["isOnline"] is True
    assert entry["name"] == "Shop h-cid" and entry["nextDueAt"].endswith("Z") and entry["lastOnlineError"] is None

    status_code, body = action(online_disable, "disable", account_id)
    assert status_code == 200 and body["data"]["eternalOnlineEnabled"] is False
    assert "onlinePk" not in item(account_id) and int(item(account_id)["onlineGeneration"]) == 3
    assert status()[1]["data"] == []

    status_code, body = action(online_set_online, "set-online", account_id)  # enabled or not
    assert status_code == 200 and body["data"]["ok"] is True


def test_set_online_reports_failure(env: dict[str, str], sim: AvitoSimulator) -> None:
    account_id = new_account("w-cid", "not-the-secret", WRONG_CREDS_UID)
    status_code, body = action(online_set_online, "set-online", account_id)
    assert status_code == 200 and body["data"]["ok"] is False and body["data"]["error"]
    assert "not-the-secret" not in json.dumps(body)


def test_status_paginates(env: dict[str, str]) -> None:
    ids = {put_enabled(T0 + n) for n in range(5)}
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status_code, body = status(**query)
        assert status_code == 200, body
        seen.extend(entry["accountId"] for entry in body["data"])
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert status(cursor="garbage")[0] == 422


@pytest.mark.parametrize("body", [{"interval": 59}, {"interval": 3601}, {"interval": "often"}, {"intervall": 60}])
def test_enable_validates_the_body(env: dict[str, str], body: dict[str, Any]) -> None:
    account_id = new_account()
    status_code, answer = enable(account_id, body)
    assert status_code == 422, answer
    assert answer["error"]["code"] == "validation_error"
    assert answer["error"]["details"][0]["field"] in {"interval", "intervall"}
    assert item(account_id)["eternalOnlineEnabled"] is False


def test_admin_only_and_unknown_accounts(env: dict[str, str]) -> None:
    account_id = new_account()
    for role in ("operator", "director"):
        assert enable(account_id, role=role)[0] == 403
        assert action(online_disable, "disable", account_id, role=role)[0] == 403
        assert action(online_set_online, "set-online", account_id, role=role)[0] == 403
        assert status(role=role)[0] == 403
    missing = str(uuid.uuid4())
    for code, body in (
        enable(missing),
        action(online_disable, "disable", missing),
        action(online_set_online, "set-online", missing),
    ):
        assert code == 404 and body["error"]["code"] == "account_not_found"


def test_put_bumps_the_generation(env: dict[str, str], sent: list[dict[str, Any]]) -> None:
    account_id = new_account()
    service.update_account(account_id, AccountUpdate(eternalOnlineEnabled=True), now=T0)
    stored = item(account_id)
    assert stored["onlinePk"] == "ONLINE" and int(stored["onlineGeneration"]) == 1
    assert int(stored["nextDueAt"]) == T0 + 300  # the first window is planned at once (default interval 300)
    assert [(m["plannedAt"], m["generation"]) for m in taken(sent)] == [(T0, 1)]
    service.update_account(account_id, AccountUpdate(eternalOnlineEnabled=False))
    assert int(item(account_id)["onlineGeneration"]) == 2


# --- issue #22 item 6: a changed interval at once, stale keep-alives dropped, budget from the invocation ------


@pytest.fixture
def sent(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every keep-alive entry sent to KeepAliveQueue (delayed ones included), as sent."""
    entries: list[dict[str, Any]] = []
    client = schedule.aws.sqs_client()
    real = client.send_message_batch

    def recording(**kwargs: Any) -> dict[str, Any]:
        entries.extend(kwargs["Entries"])
        return real(**kwargs)

    monkeypatch.setattr(client, "send_message_batch", recording)
    return entries


def taken(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bodies sent since the last call (with their delays), soonest first."""
    bodies = [{**json.loads(e["MessageBody"]), "delay": e["DelaySeconds"]} for e in sent]
    sent.clear()
    return sorted(bodies, key=lambda b: b["plannedAt"])


def test_a_shorter_interval_takes_effect_at_once(
    env: dict[str, str], sent: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """3600 s -> 60 s: keep-alives every 60 s from the change on (not at the next tick, not an hour later); the
    keep-alive planned for the old interval is skipped; the next tick continues without a gap or a double."""
    monkeypatch.setattr(schedule.time, "monotonic", lambda: 0.0)  # delays counted from T0 exactly
    account_id = new_account()
    service.update_account(account_id, AccountUpdate(eternalOnlineEnabled=True, onlineKeepAliveInterval=3600), now=T0)
    old = taken(sent)
    assert [m["plannedAt"] for m in old] == [T0] and int(item(account_id)["nextDueAt"]) == T0 + 3600

    service.update_account(account_id, AccountUpdate(onlineKeepAliveInterval=60), now=T0 + 10)
    stored = item(account_id)
    generation = int(stored["onlineGeneration"])
    assert generation == old[0]["generation"] + 1
    new = taken(sent)
    assert [m["plannedAt"] for m in new] == [T0 + 10 + 60 * n for n in range(5)]  # the whole window, at once
    assert [m["delay"] for m in new] == [0, 60, 120, 180, 240]
    assert {m["generation"] for m in new} == {generation}
    assert int(stored["nextDueAt"]) == T0 + 310
    result = tick(now=T0 + 300)  # the next tick takes over where the change's plan ended
    assert planned_for(result, account_id) == [T0 + 310 + 60 * n for n in range(5)]
    sent.clear()

    stale = worker.PlannedMessage(accountId=account_id, plannedAt=T0, generation=old[0]["generation"])
    assert worker.run_planned(stale, now=T0 + 12) == "skipped"  # planned for the old interval

    # The same through the enable endpoint: 60 s -> 600 s -> 60 s, each planned from the change on.
    assert enable(account_id, {"interval": 600})[0] == 200
    assert int(item(account_id)["onlineGeneration"]) == generation + 1
    assert taken(sent) == []  # the keep-alive run by enable is the window's only one; the next is due in 600 s
    now = time.time()
    assert now + 595 <= int(item(account_id)["nextDueAt"]) <= now + 605
    assert enable(account_id, {"interval": 60})[0] == 200
    again = taken(sent)
    assert len(again) == 4 and again[0]["plannedAt"] - now == pytest.approx(60, abs=5)
    assert {m["generation"] for m in again} == {generation + 2}


def test_keep_alives_older_than_one_interval_are_dropped(env: dict[str, str], sim: AvitoSimulator) -> None:
    account_id = new_account(eternalOnlineEnabled=True, onlineKeepAliveInterval=60)
    generation = int(item(account_id).get("onlineGeneration") or 0)
    late = worker.PlannedMessage(accountId=account_id, plannedAt=T0, generation=generation)
    sim.clear_requests()
    assert worker.run_planned(late, now=T0 + 61) == "skipped"  # a backlog or a redelivery: a newer one is planned
    assert sim.count("GET", r"/messenger/") == 0
    assert worker.run_planned(late, now=T0 + 59) == "done"  # late, but within its interval: still worth it
    assert sim.count("GET", r"/messenger/") == 1


class Remaining(FakeContext):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def test_each_keep_alive_budget_comes_from_the_invocations_remaining_time(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account(eternalOnlineEnabled=True, onlineKeepAliveInterval=60)
    planned = [k for k in tick(now=time.time()).keep_alives if k.account_id == account_id][:1]
    budgets: list[float] = []
    real = worker.keep_alive_item

    def measured(record: dict[str, Any], **kwargs: Any) -> Any:
        budgets.append(deadline.current().seconds)  # the budget the Avito client draws from
        return real(record, **kwargs)

    monkeypatch.setattr(worker, "keep_alive_item", measured)
    assert online_worker.lambda_handler(sqs_event(planned), Remaining(12.0)) == {"batchItemFailures": []}
    assert budgets == [pytest.approx(12.0 - deadline.LAMBDA_MARGIN, abs=0.2)]  # not the 60 s background budget
    assert online_worker.lambda_handler(sqs_event(planned), Remaining(300.0)) == {"batchItemFailures": []}
    assert budgets[1] == get_settings().avito_background_budget  # capped by the configured budget
    answer = online_worker.lambda_handler(sqs_event(planned), Remaining(2.5))  # under a second once the margin is off
    assert answer == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]} and len(budgets) == 2  # SQS redelivers
