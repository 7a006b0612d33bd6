"""Issue 28 part 2, accounts stay connected and complete: the webhook guard (foreign subscriptions shown masked and
replaced, the daily check's warning and alarm metric), nothing missed (a dropped delivery stored and announced
once within the window, unchanged chats never fetched) and the backfill job (200 chats over 30 days, resumed
after a killed worker). Real handlers against the simulator over HTTP; AWS is moto."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import accounts_backfill
import accounts_webhook_get
import accounts_webhook_subscribe
import boto3
import jobs_daily_sync
import jobs_worker
import pytest
import requests
import webhook_receiver
from avito_service.accounts import service
from avito_service.avito.client import AvitoApi
from avito_service.config import get_settings
from avito_service.jobs import backfill
from avito_service.messenger.store import chat_store
from avito_service.online import keepalive, reconciler
from avito_service.webhooks import tokens as webhook_tokens
from boto3.dynamodb.conditions import Key

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.avito import use_simulator
from tests.support.events import FakeContext, call_route
from tests.support.jobs import WorkerContext, announced, job, stored_messages

UID, BIG_UID = 7373, 7374
HOOKS = "https://hooks.example.test"
FOREIGN = "https://crm.other.example/avito/hook/TOPSECRET-token?key=also-secret"
WEBHOOK = "/api/v1/accounts/{id}/webhook"
DAY = 86400


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("cs-cid", "cs-secret", UID, name="Synced")
    simulator.add_account("big-cid", "big-secret", BIG_UID, name="History")
    now = int(time.time())
    for n in range(200):  # 200 chats active in the last 30 days, 3 messages each; 20 more older than the window
        chat_id = f"u2i-h{n:03d}"
        created = now - (n + 1) * 3 * 3600
        simulator.add_chat(BIG_UID, chat_id, item_id=1000 + n, client_name=f"Buyer {n}", created=created - 60)
        for m in range(3):
            simulator.add_message(BIG_UID, chat_id, f"h{n:03d}-m{m}", f"message {m}", created=created + m)
    for n in range(20):
        old = now - 40 * DAY - n * 3600
        simulator.add_chat(BIG_UID, f"u2i-old{n:02d}", created=old - 60)
        simulator.add_message(BIG_UID, f"u2i-old{n:02d}", f"old{n:02d}-m0", "long ago", created=old)
    yield simulator
    simulator.stop()


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    # its caches reset: a fresh container's chat_store() for each test's fresh tables
    use_simulator(sim, monkeypatch, env={"WEBHOOK_BASE_URL": HOOKS}, resets=True, emptied=[UID])
    webhook_tokens.forget_verified()
    return sim


def new_account(user_id: int = UID, client: str = "cs") -> str:
    return create_account(name="Synced", clientId=f"{client}-cid", clientSecret=f"{client}-secret", userId=user_id)


def webhook(method: str, account_id: str, body: dict | None = None) -> tuple[int, dict[str, Any]]:
    module = accounts_webhook_get if method == "GET" else accounts_webhook_subscribe
    return call_route(module, method, WEBHOOK, {"id": account_id}, role="admin", body=body)


def drain_jobs(done: Any, *, kill: Any = None, limit: int = 500) -> list[str]:
    """Feed JobsQueue's messages to the worker until ``done()``; ``kill(message)`` may raise to kill a run."""
    sqs = boto3.client("sqs")
    url = get_settings().jobs_queue_url
    outcomes: list[str] = []
    for _ in range(limit):
        if done():
            return outcomes
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0).get("Messages")
        if not messages:
            continue
        record = {"messageId": messages[0]["MessageId"], "body": messages[0]["Body"], "eventSource": "aws:sqs"}
        try:
            jobs_worker.lambda_handler({"Records": [record]}, WorkerContext())
        except KeyboardInterrupt as exc:  # a killed worker: its message stays on the queue, like after a crash
            outcomes.append(f"killed: {exc}")
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    raise AssertionError(f"jobs not done after {limit} messages: {outcomes}")


# --- the webhook guard --------------------------------------------------------------------------------------


def test_a_foreign_subscription_is_shown_masked_and_replaced(avito: AvitoSimulator) -> None:
    account_id = new_account()
    avito.account(UID).subscriptions.append(FOREIGN)  # another integration subscribed to the same account
    status, body = webhook("POST", account_id)
    assert status == 200 and body["data"]["subscribed"] is True
    assert body["data"]["foreign"] == ["https://crm.other.example…"]
    status, body = webhook("GET", account_id)
    raw = json.dumps(body)
    assert status == 200 and body["data"]["foreign"] == ["https://crm.other.example…"]
    assert "TOPSECRET" not in raw and "also-secret" not in raw and "/avito/hook" not in raw
    assert len(body["data"]["subscriptions"]) == 2
    assert service.get_account(account_id).webhookWarning == "foreign"

    status, body = webhook("POST", account_id, {"replaceForeign": True})
    assert status == 200 and body["data"]["subscribed"] is True and body["data"]["foreign"] == []
    assert FOREIGN not in avito.subscriptions(UID) and len(avito.subscriptions(UID)) == 1
    assert avito.subscriptions(UID)[0].startswith(f"{HOOKS}/{account_id}/")
    assert service.get_account(account_id).webhookWarning is None

    status, body = webhook("POST", account_id, {"replaceForeign": "yes", "other": 1})
    assert status == 422 and body["success"] is False


def test_one_subscription_per_account_a_newer_one_takes_the_deliveries(avito: AvitoSimulator) -> None:
    avito.one_subscription_per_account = True
    account_id = new_account()
    assert webhook("POST", account_id)[0] == 200
    ours = avito.subscriptions(UID)
    token = AvitoApi(service.context_from_item(service.get_item(account_id))).access_token()
    other = requests.post(
        f"{avito.base_url}/messenger/v3/webhook",
        json={"url": FOREIGN},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert other.status_code == 200 and avito.subscriptions(UID) == [FOREIGN] and ours != [FOREIGN]
    status, body = webhook("GET", account_id)
    assert (
        status == 200
        and body["data"]["subscribed"] is False
        and body["data"]["foreign"] == ["https://crm.other.example…"]
    )


def test_the_daily_check_warns_and_counts_the_alarm_metric(
    avito: AvitoSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    fine, hijacked = new_account(), new_account(BIG_UID, "big")
    assert webhook("POST", fine)[0] == 200 and webhook("POST", hijacked)[0] == 200
    avito.account(BIG_UID).subscriptions[:] = [FOREIGN]  # a newer integration replaced ours (one per account)
    capsys.readouterr()
    daily = jobs_daily_sync.lambda_handler({}, FakeContext())
    check = daily["webhookCheck"]["jobId"]
    drain_jobs(lambda: job(check)["status"] in ("done", "failed"))
    assert job(check)["status"] == "done" and job(check)["done"] == 2
    assert service.get_account(fine).webhookWarning is None and service.get_account(fine).webhookCheckedAt
    assert service.get_account(hijacked).webhookWarning == "ours_missing"
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    problems = [e["WebhookGuardProblem"] for e in emitted if "WebhookGuardProblem" in e]
    assert problems in ([1.0], [[1.0]]), emitted  # one account with a problem, one count
    assert "TOPSECRET" not in json.dumps(emitted)

    assert webhook("POST", hijacked, {"replaceForeign": True})[0] == 200  # the admin fixes it
    assert service.get_account(hijacked).webhookWarning is None
    avito.account(BIG_UID).subscriptions.clear()


# --- nothing missed -----------------------------------------------------------------------------------------


def deliver(account_id: str, url: str, value: dict[str, Any]) -> int:
    path = url.removeprefix(HOOKS)
    body = {"id": f"d-{value['id']}", "version": "v3.0.0", "timestamp": value["created"]}
    body["payload"] = {"type": "message", "value": value}
    event = {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": path, "sourceIp": "1.2.3.4"},
            "requestId": "r",
            "stage": "$default",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    return webhook_receiver.lambda_handler(event, FakeContext())["statusCode"]


def message_fetches(sim: AvitoSimulator) -> int:
    return sim.count("GET", r"/messages/?$")


def test_a_dropped_delivery_is_reconciled_within_the_window_once(avito: AvitoSimulator) -> None:
    account_id = new_account()
    assert webhook("POST", account_id)[0] == 200
    url = avito.subscriptions(UID)[0]
    t0 = int(time.time())
    avito.add_chat(UID, "u2i-c1", item_id=5, item_title="Sofa", client_name="Anna", created=t0 - 600)
    for n in range(1, 8):  # a quiet chat: its last message is stored, nothing changes
        avito.add_chat(UID, f"u2i-q{n}", client_name=f"Quiet {n}", created=t0 - 3000 - n)
        avito.add_message(UID, f"u2i-q{n}", f"q{n}-m1", "old", created=t0 - 3000 - n)
    avito.incoming_message(UID, "u2i-c1", "Is it for sale?", message_id="c1-m1")
    assert deliver(account_id, url, avito.webhook_value(UID, "u2i-c1", "c1-m1")) == 200  # delivered
    first = reconciler.run(now=t0)  # the first pass: stores the chats it does not know, fetches nothing old
    assert first.due == 1 and first.reconciled == 1
    assert chat_store().get_chat("u2i-q1").lastMessage.id == "q1-m1"
    assert stored_messages(account_id, "u2i-q1") == []  # history is the backfill's job

    avito.drop_deliveries = 1  # Avito never delivers the next message
    avito.incoming_message(UID, "u2i-c1", "Hello? Still there?", message_id="c1-m2")
    assert [d["id"] for d in avito.dropped_deliveries] == ["c1-m2"]
    assert [m["id"] for m in stored_messages(account_id, "u2i-c1")] == ["c1-m1"]

    assert reconciler.run(now=t0 + 100).due == 0  # passed 100 s ago: not due (every 5 minutes, 240 s apart)
    avito.clear_requests()
    second = reconciler.run(now=t0 + 300)  # the schedule's next run, 5 minutes later: well within 10
    assert second.reconciled == 1 and second.chats_fetched == 1
    assert message_fetches(avito) == 1  # only the chat that changed; the 7 quiet ones cost nothing
    items = stored_messages(account_id, "u2i-c1")
    assert [m["id"] for m in items] == ["c1-m1", "c1-m2"]
    assert announced(items) == ["c1-m1", "c1-m2"]  # m1 by its delivery, m2 by the pass: each stored (so announced) once
    assert chat_store().get_chat("u2i-c1").lastMessage.id == "c1-m2"
    assert chat_store().get_chat("u2i-c1").unreadCount == 2

    # the lost delivery arrives late after all, and the next pass runs: nothing is stored twice
    assert deliver(account_id, url, avito.webhook_value(UID, "u2i-c1", "c1-m2")) == 200
    avito.clear_requests()
    third = reconciler.run(now=t0 + 600)
    assert third.reconciled == 1 and third.chats_fetched == 0 and message_fetches(avito) == 0
    assert avito.count("GET", r"/chats$") == 1  # steady state: one listing call a pass, no message fetch
    assert [m["id"] for m in stored_messages(account_id, "u2i-c1")] == ["c1-m1", "c1-m2"]
    assert chat_store().get_chat("u2i-c1").unreadCount == 2


def test_a_new_chat_whose_first_delivery_was_lost_is_stored_and_announced(avito: AvitoSimulator) -> None:
    account_id = new_account()
    assert webhook("POST", account_id)[0] == 200
    t0 = int(time.time())
    reconciler.run(now=t0)
    avito.drop_deliveries = 1
    avito.add_chat(UID, "u2i-new", client_name="Boris", created=t0 + 10)
    avito.incoming_message(UID, "u2i-new", "Hi!", message_id="new-m1")
    result = reconciler.run(now=t0 + 300)
    assert result.chats_fetched == 1
    items = stored_messages(account_id, "u2i-new")
    assert [m["id"] for m in items] == ["new-m1"] and announced(items) == ["new-m1"]
    assert chat_store().get_chat("u2i-new").clientName == "Boris"


def test_the_keep_alive_listing_reconciles_and_skips_unchanged_chats(avito: AvitoSimulator) -> None:
    account_id = new_account()
    t0 = int(time.time())
    avito.add_chat(UID, "u2i-k1", client_name="Vera", created=t0 - 100)
    avito.add_message(UID, "u2i-k1", "k1-m1", "first", created=t0 - 100)
    assert keepalive.keep_alive(account_id, now=t0).ok  # no webhook: the keep-alive alone keeps it complete
    assert service.get_item(account_id)["reconciledAt"] == t0
    avito.add_message(UID, "u2i-k1", "k1-m2", "second, never delivered")
    avito.clear_requests()
    assert keepalive.keep_alive(account_id, now=t0 + 60).ok
    assert avito.count("GET", r"/chats$") == 1 and message_fetches(avito) == 1
    assert [m["id"] for m in stored_messages(account_id, "u2i-k1")] == ["k1-m1", "k1-m2"]
    avito.clear_requests()
    assert keepalive.keep_alive(account_id, now=t0 + 120).ok
    assert avito.count("GET", r"/chats$") == 1 and message_fetches(avito) == 0  # unchanged: no fetch
    # an eternal-online account its keep-alives reconcile is not due for the scheduled reconciler
    assert not reconciler.is_due({**service.get_item(account_id), "eternalOnlineEnabled": True}, t0 + 200)
    assert reconciler.is_due({**service.get_item(account_id), "eternalOnlineEnabled": True}, t0 + 120 + 240)


# --- history on connect -------------------------------------------------------------------------------------


def test_a_30_day_backfill_of_200_chats_resumes_after_a_killed_worker(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account(BIG_UID, "big")
    status, body = call_route(
        accounts_backfill, "POST", "/api/v1/accounts/{id}/backfill", {"id": account_id}, role="operator", body={}
    )
    assert status == 202 and body["data"]["kind"] == "backfill", body
    job_id = body["data"]["jobId"]

    original, seen = AvitoApi.messages, []

    def messages(self: AvitoApi, user_id: str, chat_id: str, **kwargs: Any) -> list[dict[str, Any]]:
        seen.append(chat_id)
        if len(seen) == 120:
            raise KeyboardInterrupt("the worker was killed")  # nothing catches it, like a kill
        return original(self, user_id, chat_id, **kwargs)

    monkeypatch.setattr(AvitoApi, "messages", messages)
    assert drain_jobs(lambda: len(seen) >= 120) == ["killed: the worker was killed"]
    assert len(seen) == 120
    progress = job(job_id)
    assert progress["status"] == "running" and progress["total"] == 200

    # the message comes back after its visibility timeout, long after the dead worker's lease ended
    table = boto3.resource("dynamodb").Table(get_settings().jobs_table)
    items = table.query(KeyConditionExpression=Key("pk").eq(f"JOB#{job_id}"))["Items"]
    task = next(i for i in items if i["sk"] != "JOB")
    assert int(task["cursor"]["nextChat"]) == 119  # the checkpoint the next run starts from: the 120th chat
    assert 119 - backfill.SHOW_EVERY < progress["done"] <= 119  # the job's count follows within a few chats
    table.update_item(
        Key={"pk": task["pk"], "sk": task["sk"]},
        UpdateExpression="SET leaseUntil = :z",
        ExpressionAttributeValues={":z": 0},
    )
    drain_jobs(lambda: job(job_id)["status"] in ("done", "failed"))
    final = job(job_id)
    assert final["status"] == "done" and final["done"] == final["total"] == 200
    assert len(seen) <= 200 + 2  # resumed at its checkpoint: at most the interrupted chat is read again
    stored = [chat_store().get_chat(f"u2i-h{n:03d}") for n in range(200)]
    assert all(c.accountId == account_id for c in stored)
    for n in (0, 57, 119, 199):
        items = stored_messages(account_id, f"u2i-h{n:03d}")
        assert [m["id"] for m in items] == [f"h{n:03d}-m{m}" for m in range(3)] and announced(items) == []
    assert stored_messages(account_id, "u2i-old00") == []  # older than the window: left alone
    assert avito.count("GET", r"/chats$") == 3  # 200 chats in the window: two full pages and the one that ends it


def test_backfill_days_are_validated_and_unknown_accounts_are_404(avito: AvitoSimulator) -> None:
    account_id = new_account()
    for days in (0, 366, "ten"):
        status, body = call_route(
            accounts_backfill,
            "POST",
            "/api/v1/accounts/{id}/backfill",
            {"id": account_id},
            role="admin",
            body={"days": days},
        )
        assert status == 422 and body["success"] is False, (days, body)
    status, body = call_route(
        accounts_backfill,
        "POST",
        "/api/v1/accounts/{id}/backfill",
        {"id": "00000000-0000-4000-8000-000000000000"},
        role="admin",
        body={"days": 7},
    )
    assert status == 404 and body["error"]["code"] == "account_not_found"
