"""Eternal online through the local runtime: the tick fires by itself (LOCAL_SCHEDULE_SECONDS shortened), plans
keep-alives on KeepAliveQueue with DelaySeconds, and the SQS-triggered worker's keep-alives reach the simulator.

60 s is the shortest interval, so instead of waiting, the test moves an account's ``nextDueAt`` straight in the
stack's moto DynamoDB (time passing); everything from there on (the schedule, the tick's due query and claim,
the delayed SQS message, the poller, the worker, the Avito call through the proxy) is the real path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

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
SCHEDULE_SECONDS = 2
A_UID, A_CLIENT, A_SECRET = 7101, "eo-client-a", "eo-secret-a"
B_UID, B_CLIENT, B_SECRET = 7102, "eo-client-b", "eo-secret-b"
INTERVAL = 60
WINDOW = 300  # SCHEDULE_WINDOW_SECONDS of OnlineTickFunction
DELAY = 5  # how far ahead of "now" the delayed account is made due (the tick plans it before that)
DISABLE_DELAY = 7  # room for the claim (<= one period) and the disable call before B's queued keep-alive runs
LATE_TOLERANCE = 8.0  # long poll (1 s) + batching window (1 s) + a worker start on a busy machine
WAIT_TIMEOUT = 20.0

T = TypeVar("T")


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
    # The period comes from the environment variable the issue names, not from schedule_seconds=.
    local = loopback_stack(sim.base_url, log_file, env={"LOCAL_SCHEDULE_SECONDS": str(SCHEDULE_SECONDS)})
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
    """The keep-alive calls (unread chats list) the simulator received for an account, answered 200."""
    path = f"/messenger/v2/accounts/{user_id}/chats"
    return [
        r
        for r in sim.requests
        if r.method == "GET" and r.path.rstrip("/") == path and r.query.get("unread_only") == "true" and r.status == 200
    ]


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


def skipped_in_log(log_file: Path, account_id: str) -> bool:
    lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return any(
        "[OnlineWorkerFunction]" in line and "Keep-alive skipped" in line and account_id in line for line in lines
    )


# ------------------------------------------------------------------ tests


def test_schedule_period_comes_from_local_schedule_seconds(stack: LocalStack) -> None:
    [tick] = [s for s in stack.schedules if s.function_id == "OnlineTickFunction"]
    assert tick.expression == "rate(5 minutes)" and tick.period_seconds == SCHEDULE_SECONDS


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
    b_claimed_at: list[float] = []

    def both_arrived() -> bool:
        if not b_claimed_at and next_due(stack, b_id) != b_due:
            b_claimed_at.append(time.time())  # a tick claimed B's window: its keep-alive is on the queue now
        return len(keep_alives(sim, A_UID)) >= 2 and len(keep_alives(sim, B_UID)) >= 2

    wait_for(both_arrived, timeout=WAIT_TIMEOUT + DELAY)
    a_call, b_call = keep_alives(sim, A_UID)[1], keep_alives(sim, B_UID)[1]

    # A was past due: planned for the next tick, delay 0.
    assert a_due - 0.05 <= a_call.time <= a_due + LATE_TOLERANCE
    # B was planned by a tick well before its moment, and SQS held the message until then (DelaySeconds).
    assert b_claimed_at and b_claimed_at[0] <= b_due - 1.5, (b_claimed_at, b_due)
    assert b_due - 0.05 <= b_call.time <= b_due + LATE_TOLERANCE, (b_call.time, b_due)

    # Through A's proxy; each account's keep-alives reuse the token stored at enable (no token fetch per call).
    assert any(f":{sim.port}" in line for line in proxy.log), proxy.log
    for user_id, client_id in ((A_UID, A_CLIENT), (B_UID, B_CLIENT)):
        assert token_requests(sim, client_id) == 1
        assert len({r.headers.get("authorization") for r in keep_alives(sim, user_id)}) == 1

    after = online_status(stack)
    for account_id, call in ((a_id, a_call), (b_id, b_call)):
        entry = after[account_id]
        assert entry["isOnline"] is True and entry["lastOnlineError"] is None and entry["interval"] == INTERVAL
        assert from_iso(entry["lastOnlineCheck"]) > from_iso(before[account_id]["lastOnlineCheck"])
        assert abs(from_iso(entry["lastOnlineCheck"]) - call.time) < 2
    # Each claim moved nextDueAt to the first moment past the tick's 5-minute window, on the account's own
    # 60 s grid (every 2 s tick slides the window, so later moments get planned one by one).
    horizon = time.time() + WINDOW
    b_next = from_iso(after[b_id]["nextDueAt"])
    assert b_due + WINDOW <= b_next <= horizon + INTERVAL and (b_next - b_due) % INTERVAL == 0
    assert a_due + WINDOW <= from_iso(after[a_id]["nextDueAt"]) <= horizon + INTERVAL

    # Ticks kept firing every 2 s meanwhile, but each due moment was planned once: nothing else turns up
    # (a second plan of either moment would be visible by now plus one poll and batching window).
    time.sleep(SCHEDULE_SECONDS + 1)
    assert len(keep_alives(sim, A_UID)) == 2 and len(keep_alives(sim, B_UID)) == 2


def test_disabled_account_gets_no_more_keep_alives(
    stack: LocalStack, sim: AvitoSimulator, accounts: dict[str, str], log_file: Path
) -> None:
    a_id, b_id = accounts["A"], accounts["B"]
    a_count, b_count = len(keep_alives(sim, A_UID)), len(keep_alives(sim, B_UID))

    now = int(time.time())
    a_due, b_due = now, now + DISABLE_DELAY
    make_due(stack, a_id, a_due)
    make_due(stack, b_id, b_due)
    wait_for(lambda: next_due(stack, b_id) != b_due)  # B's next keep-alive is planned and waiting on the queue
    disabled = api(stack, "POST", f"/api/v1/eternal-online/accounts/{b_id}/disable")
    assert disabled["eternalOnlineEnabled"] is False
    disabled_at = time.time()
    assert disabled_at < b_due - 0.5, "too slow: B's queued keep-alive may have run before the disable"
    make_due(stack, b_id, int(disabled_at))  # and time passes for B too
    assert "onlinePk" not in profile(stack, b_id)  # out of the due index: no tick plans it

    wait_for(lambda: len(keep_alives(sim, A_UID)) > a_count)
    # The keep-alive queued before the disable reaches the worker at its moment, which drops it.
    wait_for(lambda: skipped_in_log(log_file, b_id), timeout=DISABLE_DELAY + WAIT_TIMEOUT)
    # At least a couple of ticks since the disable, and one more poll after the skip.
    time.sleep(max(disabled_at + 2 * SCHEDULE_SECONDS + 1, time.time() + SCHEDULE_SECONDS) - time.time())

    assert len(keep_alives(sim, B_UID)) == b_count
    assert len(keep_alives(sim, A_UID)) == a_count + 1
    assert token_requests(sim, A_CLIENT) == 1 and token_requests(sim, B_CLIENT) == 1
    status = online_status(stack)
    assert list(status) == [a_id] and status[a_id]["isOnline"] is True


def test_the_daily_sync_schedule_fires_locally(stack: LocalStack, accounts: dict[str, str]) -> None:
    """JobsDailySyncFunction's ScheduleV2 event (cron at 04:00 Moscow) fires every LOCAL_SCHEDULE_SECONDS here;
    its sync-all-stats job runs on the job worker through the local SQS poller and syncs every account."""
    [daily] = [s for s in stack.schedules if s.function_id == "JobsDailySyncFunction"]
    assert (daily.expression, daily.timezone) == ("cron(0 4 * * ? *)", "Europe/Moscow")

    def both_synced() -> bool:
        return all(
            api(stack, "GET", f"/api/v1/accounts/{account_id}")["lastSyncAt"] for account_id in accounts.values()
        )

    wait_for(both_synced)
