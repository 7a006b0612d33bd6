"""Issue 28: Avito's 429 on the way of a backfill and of a reconciliation pass.

Avito documents no Messenger limit but may answer 429 (avito-api.md, "Rate limits and errors"). The simulator's
``throttle`` answers 429 beyond N Messenger reads a (scaled) minute per account, with or without Retry-After (the
benchmark's switch; here 429s come at fixed points, as faults, so no test depends on this machine's pace). With
``AVITO_MAX_RETRIES=0`` the client does not wait a 429 out itself, so every 429 takes the pause path: the task
saves its cursor, continues in a delayed message (moto's queue holds it back), and the step Avito refused runs
again. The assertions are on the outcome (every chat and message stored once, each chat's messages read once,
the job done or failed with its reason), never on the timing. Real handlers; Avito is the simulator over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import accounts_backfill
import boto3
import jobs_worker
import pytest
import requests
from avito_service.accounts import service
from avito_service.config import get_settings
from avito_service.jobs import runner
from avito_service.messenger.store import chat_store
from avito_service.online import reconciler

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.avito import use_simulator
from tests.support.events import call_route
from tests.support.jobs import WorkerContext, announced, job, stored_messages

UID = 7475
CHATS = 20  # one listing page (20 in the window + 20 older ones < 100), then one message fetch a chat
SCALE = 0.03  # the simulator's "minute" is 1.8 s: its Retry-After says 1 or 2 s
DAY = 86400


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator(time_scale=SCALE)
    simulator.start()
    simulator.add_account("bt-cid", "bt-secret", UID, name="Throttled")
    now = int(time.time())
    for n in range(CHATS):
        created = now - (n + 1) * 6 * 3600
        simulator.add_chat(UID, f"u2i-r{n:02d}", client_name=f"Buyer {n}", created=created - 60)
        for m in range(3):
            simulator.add_message(UID, f"u2i-r{n:02d}", f"r{n:02d}-m{m}", f"message {m}", created=created + m)
    for n in range(20):
        old = now - 40 * DAY - n * 3600
        simulator.add_chat(UID, f"u2i-old{n:02d}", created=old - 60)
        simulator.add_message(UID, f"u2i-old{n:02d}", f"old{n:02d}-m0", "long ago", created=old)
    yield simulator
    simulator.stop()


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[AvitoSimulator]:
    # AVITO_MAX_RETRIES=0: every 429 reaches the job (the pause path, not the client's wait)
    env = {"WEBHOOK_BASE_URL": "https://hooks.example.test", "AVITO_MAX_RETRIES": "0"}
    yield use_simulator(sim, monkeypatch, env=env, resets=True)  # its caches reset: a new chat_store(), none seen
    sim.throttle(0, 60.0)
    sim.clear_faults()


def run_jobs(job_id: str, monkeypatch: pytest.MonkeyPatch, limit: int = 200) -> list[str]:
    """Feed JobsQueue to the real worker until the job is over; what each task run did (``runner.run_task``)."""
    outcomes: list[str] = []
    run_task = runner.run_task

    def recorded(message: dict[str, Any], seconds: float) -> str:
        outcomes.append(run_task(message, seconds))
        return outcomes[-1]

    monkeypatch.setattr(runner, "run_task", recorded)
    sqs, url = boto3.client("sqs"), get_settings().jobs_queue_url
    for _ in range(limit):
        if job(job_id)["status"] in ("done", "failed"):
            return outcomes
        # a paused task's continuation is delayed until Avito's Retry-After ends: the queue holds it back
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages")
        if not received:
            continue
        record = {"messageId": received[0]["MessageId"], "body": received[0]["Body"], "eventSource": "aws:sqs"}
        answer = jobs_worker.lambda_handler({"Records": [record]}, WorkerContext())
        assert answer["batchItemFailures"] == [], answer  # the worker never raised: a 429 is a pause
        sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
    raise AssertionError(f"job not over after {limit} messages: {outcomes}")


def start_backfill(account_id: str) -> str:
    status, body = call_route(
        accounts_backfill, "POST", "/api/v1/accounts/{id}/backfill", {"id": account_id}, role="operator", body={}
    )
    assert status == 202, body
    return body["data"]["jobId"]


def fetched_once_each(sim: AvitoSimulator) -> dict[str, int]:
    """Answered (200) message reads per chat: a chat read twice would be a chat repeated."""
    counts: dict[str, int] = {}
    for r in sim.requests:
        if r.method == "GET" and r.path.endswith("/messages/") and r.status == 200:
            chat_id = r.path.split("/chats/")[1].split("/")[0]
            counts[chat_id] = counts.get(chat_id, 0) + 1
    return counts


def assert_history_complete(sim: AvitoSimulator, account_id: str) -> None:
    assert fetched_once_each(sim) == {f"u2i-r{n:02d}": 1 for n in range(CHATS)}  # none lost, none read twice
    for n in range(CHATS):
        items = stored_messages(account_id, f"u2i-r{n:02d}")
        assert [m["id"] for m in items] == [f"r{n:02d}-m{m}" for m in range(3)], n  # each once
        assert announced(items) == []  # history is never announced
    assert stored_messages(account_id, "u2i-old00") == []  # older than the window
    assert chat_store().get_chat(f"u2i-r{CHATS - 1:02d}").accountId == account_id


MESSAGES = rf"^/messenger/v3/accounts/{UID}/chats/{{chat}}/messages/$"
LISTING = rf"^/messenger/v2/accounts/{UID}/chats$"


def test_a_backfill_meeting_429_with_retry_after_pauses_resumes_and_finishes(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = create_account(name="Throttled", clientId="bt-cid", clientSecret="bt-secret", userId=UID)
    # Avito's 429 at fixed points, so the test does not depend on this machine's pace: the listing once, one
    # chat's messages twice in a row, a later chat's once (Retry-After: 1 s each)
    avito.add_fault(LISTING, "GET", status=429, retry_after=1, times=1)
    avito.add_fault(MESSAGES.format(chat="u2i-r05"), "GET", status=429, retry_after=1, times=2)
    avito.add_fault(MESSAGES.format(chat="u2i-r12"), "GET", status=429, retry_after=1, times=1)
    job_id = start_backfill(account_id)
    outcomes = run_jobs(job_id, monkeypatch)
    assert outcomes == ["paused"] * 4 + ["finished"], outcomes  # each 429 a pause, then it went on
    final = job(job_id)
    assert final["status"] == "done" and final["done"] == final["total"] == CHATS and final.get("error") is None
    answers = [r.status for r in avito.requests if r.path.endswith(f"/{UID}/chats")]
    assert answers == [429, 200]  # the refused listing was asked again once, the window's chats listed once
    assert_history_complete(avito, account_id)


def test_a_backfill_meeting_429_without_retry_after_waits_its_own_delay(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = create_account(name="Throttled", clientId="bt-cid", clientSecret="bt-secret", userId=UID)
    monkeypatch.setattr(runner, "RETRY_DELAY", 1)  # what a 429 without Retry-After waits (30 s in production)
    avito.add_fault(MESSAGES.format(chat="u2i-r07"), "GET", status=429, times=1)
    job_id = start_backfill(account_id)
    outcomes = run_jobs(job_id, monkeypatch)
    assert outcomes == ["paused", "finished"], outcomes
    final = job(job_id)
    assert final["status"] == "done" and final["done"] == final["total"] == CHATS
    assert_history_complete(avito, account_id)


def test_the_simulator_throttle_answers_429_with_retry_after_beyond_its_rate(avito: AvitoSimulator) -> None:
    """The switch the benchmark's ``--throttle`` uses: N Messenger reads a (scaled) minute, then 429."""
    account_id = create_account(name="Throttled", clientId="bt-cid", clientSecret="bt-secret", userId=UID)
    from avito_service.avito.client import AvitoApi

    client = AvitoApi(service.load_context(account_id))
    token = client.access_token()
    avito.throttle(2, 3600.0)  # a scaled hour: nothing is let through again during the test
    answers = [
        requests.get(
            f"{avito.base_url}/messenger/v2/accounts/{UID}/chats",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429] and avito.rate_limited == 1
    assert 100 <= int(answers[2].headers["Retry-After"]) <= 108  # 3,600 s x 0.03: when a call gets through again
    avito.throttle_retry_after = False
    again = requests.get(
        f"{avito.base_url}/messenger/v2/accounts/{UID}/chats", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert again.status_code == 429 and "Retry-After" not in again.headers
    avito.throttle(0, 60.0)
    assert requests.get(again.url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200


def test_a_backfill_avito_never_lets_through_fails_with_its_reason(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = create_account(name="Throttled", clientId="bt-cid", clientSecret="bt-secret", userId=UID)
    monkeypatch.setattr(runner, "MAX_STALLS", 3)
    avito.add_fault(LISTING, "GET", status=429, retry_after=1, times=None)
    job_id = start_backfill(account_id)
    outcomes = run_jobs(job_id, monkeypatch)
    assert outcomes == ["paused", "paused", "failed"], outcomes
    final = job(job_id)
    assert final["status"] == "failed" and "429" in final["error"], final
    assert final["total"] == 0 and stored_messages(account_id, "u2i-r00") == []  # nothing listed, nothing stored


def test_a_reconciliation_pass_meeting_429_loses_nothing_and_the_next_one_catches_up(avito: AvitoSimulator) -> None:
    account_id = create_account(name="Throttled", clientId="bt-cid", clientSecret="bt-secret", userId=UID)
    service.record_fields(account_id, {"webhookSubscribed": True}, bump_version=False)
    t0 = int(time.time())
    assert reconciler.run(now=t0).reconciled == 1  # the first pass knows the chats
    avito.drop_deliveries = 1  # Avito never delivers this message
    avito.incoming_message(UID, "u2i-r00", "Are you there?", message_id="r00-lost")

    avito.add_fault(LISTING, "GET", status=429, retry_after=1, times=1)
    failed = reconciler.run(now=t0 + 300)
    assert failed.due == 1 and failed.failed == 1 and failed.reconciled == 0
    assert service.get_item(account_id)["reconciledAt"] == t0  # the pass did not count: the next one is due
    assert [m["id"] for m in stored_messages(account_id, "u2i-r00")] == []

    caught_up = reconciler.run(now=t0 + 600)  # the next run (its Retry-After long over in the schedule's time)
    assert caught_up.reconciled == 1 and caught_up.chats_fetched == 1
    items = stored_messages(account_id, "u2i-r00")
    assert "r00-lost" in [m["id"] for m in items] and announced(items).count("r00-lost") == 1
    again = reconciler.run(now=t0 + 900)
    assert again.reconciled == 1 and again.chats_fetched == 0  # once stored, never fetched or stored again
    assert [m["id"] for m in stored_messages(account_id, "u2i-r00")].count("r00-lost") == 1
