"""Eternal online through the local runtime: the tick plans keep-alives on KeepAliveQueue with DelaySeconds, and
the SQS-triggered worker's keep-alives reach the simulator.

The test controls time instead of waiting for it (issue 13 item 14): the schedule fires only when the test fires
it (``LOCAL_SCHEDULE_SECONDS=manual``), the test moves an account's ``nextDueAt`` straight in the stack's moto
DynamoDB (time passing), pauses the queue's event source when it needs a message to wait, and waits for events
(a keep-alive arriving, the queue drained) rather than for a window of wall-clock time. Everything from the
tick's due query and claim on (the delayed SQS message, the poller, the worker, the Avito call through the
proxy) is the real path. The accounts' interval is the longest (3600 s), so each tick plans one keep-alive
per account and no later moment lingers on the queue; windows of several moments are covered in
tests/integration/test_eternal_online.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from avito_service.auth import mint
from avito_service.clock import from_iso

from avito_sim import AvitoSimulator
from avito_sim.server import RecordedRequest
from local_runtime import LocalStack
from tests.support.proxies import ProxyServer
from tests.support.stack import loopback_stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
A_UID, A_CLIENT, A_SECRET = 7101, "eo-client-a", "eo-secret-a"
B_UID, B_CLIENT, B_SECRET = 7102, "eo-client-b", "eo-secret-b"
INTERVAL = 3600  # longer than the tick's window: one keep-alive per account per tick
DELAY = 5  # how far ahead of "now" the delayed account is made due (SQS holds its message until then)
WAIT_TIMEOUT = 60.0  # only a bound for a broken stack: every wait ends on an event


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account(A_CLIENT, A_SECRET, A_UID, name="Online A")
    simulator.add_account(B_CLIENT, B_SECRET, B_UID, name="Online B")
    simulator.add_chat(A_UID, "u2i-eo-a", item_id=4200000001, client_name="Анна", client_user_id=71)
    simulator.add_message(A_UID, "u2i-eo-a", "eo-a-1", "Ещё продаёте?")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def proxy() -> Iterator[ProxyServer]:
    server = ProxyServer("http", "eo-proxy-user", "eo-proxy-pass").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("eternal-online-logs") / "local.log"


@pytest.fixture(scope="module")
def stack(sim: AvitoSimulator, log_file: Path) -> Iterator[LocalStack]:
    # Schedules fire only when the test says so (the environment variable `make run` users set too).
    local = loopback_stack(sim.base_url, log_file, env={"LOCAL_SCHEDULE_SECONDS": "manual"})
    local.start()
    yield local
    local.stop()


def api(stack: LocalStack, method: str, path: str, **kwargs: Any) -> Any:
    assert stack.jwt_secret
    headers = {"Authorization": "Bearer " + mint(stack.jwt_secret, sub="e2e@example.com", role="admin")}
    response = requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=30, **kwargs)
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert body["success"] is True, body
    return body["data"]


@pytest.fixture(scope="module")
def accounts(stack: LocalStack, sim: AvitoSimulator, proxy: ProxyServer) -> dict[str, str]:
    """Two accounts (A through an authenticated HTTP proxy, B direct), eternal online enabled at 60 s."""
    a = api(
        stack,
        "POST",
        "/api/v1/accounts",
        json={
            "name": "Online A",
            "clientId": A_CLIENT,
            "clientSecret": A_SECRET,
            "userId": str(A_UID),
            **proxy.settings(),
        },
    )
    b = api(
        stack,
        "POST",
        "/api/v1/accounts",
        json={"name": "Online B", "clientId": B_CLIENT, "clientSecret": B_SECRET, "userId": str(B_UID)},
    )
    for account in (a, b):
        enabled = api(
            stack, "POST", f"/api/v1/eternal-online/accounts/{account['id']}/enable", json={"interval": INTERVAL}
        )
        assert enabled["eternalOnlineEnabled"] is True and enabled["onlineKeepAliveInterval"] == INTERVAL
    # enable ran one keep-alive each, at once (and fetched each account's token once)
    assert len(keep_alives(sim, A_UID)) == 1 and len(keep_alives(sim, B_UID)) == 1
    return {"A": a["id"], "B": b["id"]}


# ------------------------------------------------------------------ helpers


def keep_alives(sim: AvitoSimulator, user_id: int) -> list[RecordedRequest]:
    """The keep-alive calls (the newest chats' list, which is also the account's reconciliation) the simulator
    received for an account, answered 200. Nothing else lists these accounts' chats here (schedules are manual)."""
    path = f"/messenger/v2/accounts/{user_id}/chats"
    return [r for r in sim.requests if r.method == "GET" and r.path.rstrip("/") == path and r.status == 200]


def token_requests(sim: AvitoSimulator, client_id: str) -> int:
    return sum(
        1
        for r in sim.requests
        if r.method == "POST"
        and r.path.rstrip("/") == "/token"
        and isinstance(r.body, dict)
        and r.body.get("client_id") == client_id
    )


def table(stack: LocalStack) -> tuple[Any, str]:
    return stack.client("dynamodb"), stack.physical_ids["AccountsTable"]


def profile(stack: LocalStack, account_id: str) -> dict[str, Any]:
    client, name = table(stack)
    key = {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "PROFILE"}}
    return client.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item") or {}


def next_due(stack: LocalStack, account_id: str) -> int | None:
    value = profile(stack, account_id).get("nextDueAt")
    return int(value["N"]) if value else None


def make_due(stack: LocalStack, account_id: str, at: int) -> None:
    """Time passing: the account's next keep-alive is due at ``at`` (unix s) instead of a minute later."""
    client, name = table(stack)
    client.update_item(
        TableName=name,
        Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET nextDueAt = :at",
        ExpressionAttributeValues={":at": {"N": str(at)}},
        ConditionExpression="attribute_exists(pk)",
    )


def wait_for[T](condition: Callable[[], T], timeout: float = WAIT_TIMEOUT, step: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition.__name__}")
        time.sleep(step)


def online_status(stack: LocalStack) -> dict[str, dict[str, Any]]:
    return {entry["accountId"]: entry for entry in api(stack, "GET", "/api/v1/eternal-online/status")}


def fire_tick(stack: LocalStack) -> dict[str, int]:
    return stack.fire_schedule("OnlineTickFunction")


def skipped_in_log(log_file: Path, account_id: str) -> bool:
    lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return any(
        "[OnlineWorkerFunction]" in line and "Keep-alive skipped" in line and account_id in line for line in lines
    )


# ------------------------------------------------------------------ tests


def test_schedule_fires_only_on_demand(stack: LocalStack) -> None:
    [tick] = [s for s in stack.schedules if s.function_id == "OnlineTickFunction"]
    assert tick.expression == "rate(5 minutes)" and tick.period_seconds is None
    assert fire_tick(stack) == {"accountsDue": 0, "keepAlivesPlanned": 0}  # nothing enabled yet


def test_scheduled_keep_alives_reach_the_simulator(
    stack: LocalStack, sim: AvitoSimulator, proxy: ProxyServer, accounts: dict[str, str]
) -> None:
    a_id, b_id = accounts["A"], accounts["B"]
    before = online_status(stack)
    assert set(before) == {a_id, b_id} and all(before[i]["isOnline"] for i in (a_id, b_id))
    proxy.log.clear()

    now = int(time.time())
    a_due, b_due = now, now + DELAY
    make_due(stack, a_id, a_due)
    make_due(stack, b_id, b_due)
    assert fire_tick(stack) == {"accountsDue": 2, "keepAlivesPlanned": 2}
    # The tick claimed both windows: each account's next moment is one interval on, past the window.
    # (A's grid starts at the tick's own second, which may be one past a_due.)
    assert a_due + INTERVAL <= (next_due(stack, a_id) or 0) <= int(time.time()) + INTERVAL
    assert next_due(stack, b_id) == b_due + INTERVAL

    wait_for(lambda: len(keep_alives(sim, A_UID)) >= 2 and len(keep_alives(sim, B_UID)) >= 2)
    a_call, b_call = keep_alives(sim, A_UID)[1], keep_alives(sim, B_UID)[1]
    # A was due: delay 0. B was planned before its moment, and SQS held the message until then (DelaySeconds,
    # whole seconds counted from the tick's second: at most one second early).
    assert a_call.time >= a_due - 0.05
    assert b_call.time >= b_due - 1.0 and b_call.time > a_call.time, (b_call.time, b_due, a_call.time)

    # Through A's proxy; each account's keep-alives reuse the token stored at enable (no token fetch per call).
    assert any(f":{sim.port}" in line for line in proxy.log), proxy.log
    for user_id, client_id in ((A_UID, A_CLIENT), (B_UID, B_CLIENT)):
        assert token_requests(sim, client_id) == 1
        assert len({r.headers.get("authorization") for r in keep_alives(sim, user_id)}) == 1

    stack.wait_event_sources_idle()
    after = online_status(stack)
    for account_id, call in ((a_id, a_call), (b_id, b_call)):
        entry = after[account_id]
        assert entry["isOnline"] is True and entry["lastOnlineError"] is None and entry["interval"] == INTERVAL
        assert from_iso(entry["lastOnlineCheck"]) > from_iso(before[account_id]["lastOnlineCheck"])
        assert abs(from_iso(entry["lastOnlineCheck"]) - call.time) < 2
    assert from_iso(after[b_id]["nextDueAt"]) == b_due + INTERVAL

    # Each due moment is planned once: a second tick finds nothing due, and the drained queue brought nothing else.
    assert fire_tick(stack) == {"accountsDue": 0, "keepAlivesPlanned": 0}
    stack.wait_event_sources_idle()
    assert len(keep_alives(sim, A_UID)) == 2 and len(keep_alives(sim, B_UID)) == 2


def test_disabled_account_gets_no_more_keep_alives(
    stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str], log_file: Path
) -> None:
    a_id, b_id = accounts["A"], accounts["B"]
    stack.wait_event_sources_idle()
    a_count, b_count = len(keep_alives(sim, A_UID)), len(keep_alives(sim, B_UID))

    # Both due now; the worker is held back so that B's keep-alive is on the queue when B is disabled.
    stack.pause_event_sources()
    try:
        now = int(time.time())
        make_due(stack, a_id, now)
        make_due(stack, b_id, now)
        assert fire_tick(stack) == {"accountsDue": 2, "keepAlivesPlanned": 2}
        disabled = api(stack, "POST", f"/api/v1/eternal-online/accounts/{b_id}/disable")
        assert disabled["eternalOnlineEnabled"] is False
        make_due(stack, b_id, now)  # and time passes for B too
        assert "onlinePk" not in profile(stack, b_id)  # out of the due index: no tick plans it
    finally:
        stack.resume_event_sources()

    # The keep-alive queued before the disable reaches the worker, which drops it; A's runs.
    stack.wait_event_sources_idle()
    assert skipped_in_log(log_file, b_id)  # the worker's log lines are written before its invocation returns
    assert len(keep_alives(sim, B_UID)) == b_count
    assert len(keep_alives(sim, A_UID)) == a_count + 1

    # Later ticks plan nothing for B (nor for A, whose next moment is an interval away).
    assert fire_tick(stack) == {"accountsDue": 0, "keepAlivesPlanned": 0}
    stack.wait_event_sources_idle()
    assert len(keep_alives(sim, B_UID)) == b_count and len(keep_alives(sim, A_UID)) == a_count + 1
    assert token_requests(sim, A_CLIENT) == 1 and token_requests(sim, B_CLIENT) == 1
    status = online_status(stack)
    assert list(status) == [a_id] and status[a_id]["isOnline"] is True


def test_the_daily_sync_schedule_fires_locally(stack: LocalStack, accounts: dict[str, str]) -> None:
    """JobsDailySyncFunction's ScheduleV2 event (cron at 04:00 Moscow) is fired here on demand (the stack runs
    with LOCAL_SCHEDULE_SECONDS=manual); its sync-all-stats job runs on the job worker through the local SQS
    poller and syncs every account."""
    [daily] = [s for s in stack.schedules if s.function_id == "JobsDailySyncFunction"]
    assert (daily.expression, daily.timezone) == ("cron(0 4 * * ? *)", "Europe/Moscow")
    assert daily.period_seconds is None  # manual: no timer fires it behind the test's back
    for account_id in accounts.values():
        assert not api(stack, "GET", f"/api/v1/accounts/{account_id}").get("lastSyncAt")

    stack.fire_schedule("JobsDailySyncFunction")

    def both_synced() -> bool:
        return all(
            api(stack, "GET", f"/api/v1/accounts/{account_id}")["lastSyncAt"] for account_id in accounts.values()
        )

    wait_for(both_synced)
