"""Background jobs in-process: a 10,000-item account synced under Avito's limits by two concurrent workers, a job
killed mid-way resuming from its cursor, job states and counts, bulk jobs with per-account outcomes, the shared
limits themselves and the daily schedule.

Avito is the simulator with its limits enforced (items list 25 a minute per account, CPA 1 a minute). Both the
simulator and the service's limiter run with their windows scaled by ``SCALE`` (``AVITO_LIMITS_TIME_SCALE``):
a "minute" is 1.8 s of real time, so "never more than 25 item-list calls in any minute" is checked on that
scaled minute from the simulator's own arrival times.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import accounts_check_all
import accounts_sync_all
import accounts_sync_stats
import boto3
import jobs_daily_sync
import jobs_get
import jobs_worker
import pytest
from avito_service import clock
from avito_service.accounts import service
from avito_service.accounts.stats import avito_today
from avito_service.avito import limits, tokens
from avito_service.avito.client import AvitoApi
from avito_service.avito.limits import BudgetExhausted
from avito_service.config import get_settings
from avito_service.jobs import runner
from avito_service.jobs import service as jobs_service
from avito_service.jobs.models import JobKind, JobStatus, SyncCursor
from avito_service.jobs.store import job_key, job_store

from avito_sim import AvitoSimulator
from local_runtime.functions import load_function_specs
from local_runtime.intrinsics import Resolver, StackContext
from local_runtime.schedules import load_schedules, scheduled_event
from local_runtime.template import load_template
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, call_route

ROOT = Path(__file__).resolve().parents[2]
SCALE = 0.03  # one Avito "minute" = 1.8 s
MINUTE = 60 * SCALE
BIG_UID, SMALL_UID, WRONG_UID = 8801, 8802, 8803
BIG_ITEMS = 10_000
FIRST_ITEM = 5_000_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator(rate_limits=True, time_scale=SCALE)
    simulator.start()
    today, yesterday = avito_today(), avito_today() - timedelta(days=1)
    stats = {today.isoformat(): (2, 1, 0), yesterday.isoformat(): (1, 0, 1)}
    simulator.add_account("big-cid", "big-secret", BIG_UID, name="Big", balance_real=10.5, cpa_balance=300)
    simulator.add_items(BIG_UID, BIG_ITEMS, FIRST_ITEM, stats=stats)
    simulator.add_account("small-cid", "small-secret", SMALL_UID, name="Small", balance_real=1.25, cpa_balance=7)
    simulator.add_items(SMALL_UID, 1_000, FIRST_ITEM + 100_000, stats=stats)
    simulator.add_account("wrong-cid", "wrong-secret", WRONG_UID, name="Wrong")
    yield simulator
    simulator.stop()


@pytest.fixture
def env(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_LIMITS_TIME_SCALE", str(SCALE))
    monkeypatch.setenv("SYNC_INLINE_SECONDS", "1")
    monkeypatch.setenv("JOBS_MAX_WAIT_SECONDS", "10")
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "5")
    reset_caches()
    tokens.forget_in_memory()
    sim.clear_requests()
    sim.clear_faults()
    sim.rate_limited = 0
    yield aws_env
    sim.clear_faults()


class WorkerContext(FakeContext):
    """A worker invocation with the template's 300 s timeout ahead of it."""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def new_account(client_id: str, secret: str, user_id: int | None) -> str:
    return create_account(name=f"Shop {client_id}", clientId=client_id, clientSecret=secret, userId=user_id)


def job(job_id: str, role: str = "director") -> dict[str, Any]:
    status, body = call_route(jobs_get, "GET", "/api/v1/jobs/{jobId}", {"jobId": job_id}, role=role)
    assert status == 200, body
    return body["data"]


def run_workers(
    done: Callable[[], bool], workers: int = 2, timeout: float = 120.0, receipts: list[str] | None = None
) -> list[str]:
    """Poll JobsQueue from ``workers`` threads like the SQS event source (batch size 1) until ``done()``.

    A worker that dies leaves its message in flight (its receipt handle goes to ``receipts``)."""
    sqs = boto3.client("sqs")
    url = get_settings().jobs_queue_url
    stop, problems = threading.Event(), []

    def work() -> None:
        while not stop.is_set():
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0).get("Messages")
            if not messages:
                time.sleep(0.02)
                continue
            record = {"messageId": messages[0]["MessageId"], "body": messages[0]["Body"], "eventSource": "aws:sqs"}
            try:
                result = jobs_worker.lambda_handler({"Records": [record]}, WorkerContext())
            except BaseException as exc:  # a killed worker: the message stays, like after a crash
                problems.append(repr(exc))
                if receipts is not None:
                    receipts.append(messages[0]["ReceiptHandle"])
                continue
            if result["batchItemFailures"]:
                problems.append(f"failed: {messages[0]['Body']}")
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not done():
            assert time.monotonic() < deadline, f"jobs did not finish in {timeout} s: {problems}"
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return problems


def finished(*job_ids: str) -> Callable[[], bool]:
    return lambda: all(job(j)["status"] in ("done", "failed") for j in job_ids)


def item_list_times(sim: AvitoSimulator) -> list[float]:
    return sorted(r.time for r in sim.requests if r.method == "GET" and r.path == "/core/v1/items")


def pages_read(sim: AvitoSimulator) -> list[int]:
    """The item-list pages Avito was asked for, in the order it was asked."""
    return [int(r.query["page"]) for r in sim.requests if r.method == "GET" and r.path == "/core/v1/items"]


def task_cursor(job_id: str, account_id: str, order: int = 0) -> SyncCursor:
    task = job_store().task(job_id, order, account_id)
    assert task is not None and task.get("cursor"), task
    return SyncCursor.model_validate(task["cursor"])


def most_in_any_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def sync(account_id: str, days: int = 7, role: str = "operator") -> tuple[int, dict[str, Any]]:
    return call_route(
        accounts_sync_stats,
        "POST",
        "/api/v1/accounts/{id}/sync-stats",
        {"id": account_id},
        body={"days": days},
        role=role,
    )


# --- a 10,000-item account under Avito's limits -----------------------------------------------------------


def test_ten_thousand_items_sync_completely_within_avitos_limits_across_two_workers(
    env: dict[str, str], sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "JOIN_POLL_SECONDS", 1)
    account_id = new_account("big-cid", "big-secret", BIG_UID)
    status, body = sync(account_id)
    assert status == 202, body  # far more than SYNC_INLINE_SECONDS of work: a job
    first = body["data"]
    assert first["status"] == "running" and first["kind"] == "sync-stats" and first["total"] == 1
    # a bulk job over the same account at once: its task joins the running sync instead of syncing again
    status, body = call_route(accounts_sync_all, "POST", "/api/v1/accounts/sync-all-stats", {}, body={"days": 7})
    assert status == 202, body
    second = body["data"]
    assert second["status"] == "queued" and second["total"] == 0  # the worker sets it up

    problems = run_workers(finished(first["jobId"], second["jobId"]), workers=2, timeout=180)
    assert problems == []

    for job_id in (first["jobId"], second["jobId"]):
        data = job(job_id)
        assert (data["status"], data["done"], data["failed"], data["total"]) == ("done", 1, 0, 1), data
        assert data["outcomes"] == [
            {"accountId": account_id, "status": "done", "error": None, "connectionStatus": None}
        ]
    account = service.get_account(account_id)
    assert account.adsCount == BIG_ITEMS
    assert (account.viewsCount, account.contactsCount, account.favoritesCount) == (30_000, 10_000, 10_000)
    assert (account.viewsToday, account.contactsToday) == (20_000, 10_000)
    assert (account.balanceReal, account.cpaBalance) == (1050, 300)

    times = item_list_times(sim)
    assert sorted(set(pages_read(sim))) == list(range(1, BIG_ITEMS // 100 + 2))  # every page, and the empty last
    assert most_in_any_window(times, MINUTE) <= 25
    assert sim.rate_limited == 0  # no 429 from Avito: the shared budget kept it
    stats_calls = [r for r in sim.requests if r.path.startswith("/stats/v1/")]
    assert len(stats_calls) >= BIG_ITEMS // 200 and max(len(r.body["itemIds"]) for r in stats_calls) == 200
    # One sync: each page and batch once, but for a call that timed out after it was sent (Avito counted it, its
    # answer was lost, the step was repeated): the job records each, and only those may be made twice.
    timeouts = task_cursor(first["jobId"], account_id).timeouts
    assert len(times) + len(stats_calls) <= BIG_ITEMS // 100 + 1 + BIG_ITEMS // 200 + timeouts, timeouts
    assert sim.count("POST", r"^/cpa/v3/balanceInfo$") <= 1


def test_a_sync_starts_no_step_that_its_own_time_would_cut_short(
    env: dict[str, str], sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The synchronous sync's budget is nearly spent when its next step is due, and Avito's answers have been
    slow: the step is left to the job (nothing sent), instead of sending a page request that the budget's end
    cuts off after Avito counted it, and the job reading that page a second time (102 item-list calls for 101
    pages, seen under load in the 10,000-item test)."""
    monkeypatch.setenv("SYNC_INLINE_SECONDS", "4")
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    sim.add_fault(r"/accounts/\d+/balance", "GET", 200, delay=2.5, action="delay_after_effect")  # ~1.5 s left
    sim.add_fault(r"^/core/v1/items$", "GET", 200, delay=2.5, action="delay_after_effect")  # page 1: longer
    status, body = sync(account_id)
    assert status == 202, body
    job_id = body["data"]["jobId"]
    assert run_workers(finished(job_id), workers=1) == []
    assert pages_read(sim) == list(range(1, 12))  # each page once
    assert task_cursor(job_id, account_id).timeouts == 0
    assert job(job_id)["status"] == "done" and service.get_account(account_id).adsCount == 1_000


def test_a_page_read_twice_is_one_whose_call_timed_out_and_the_job_records_it(
    env: dict[str, str], sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Avito answers page 1 later than the synchronous sync's budget lasts: the call is cut, Avito has counted
    it, and the job reads the page again (at least once, never lost); the task's cursor counts that timeout,
    which is what the 10,000-item test allows for."""
    monkeypatch.setenv("SYNC_INLINE_SECONDS", "3")
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    sim.add_fault(r"^/core/v1/items$", "GET", 200, delay=5, action="delay_after_effect")
    status, body = sync(account_id)
    assert status == 202, body
    job_id = body["data"]["jobId"]
    assert run_workers(finished(job_id), workers=1) == []
    assert pages_read(sim) == [1, *range(1, 12)]
    assert task_cursor(job_id, account_id).timeouts == 1
    assert job(job_id)["status"] == "done" and service.get_account(account_id).adsCount == 1_000


def test_a_job_killed_mid_way_resumes_from_its_cursor(
    env: dict[str, str], sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    accepted = jobs_service.start_bulk(runner.JobKind.SYNC_ALL_STATS, days=7)
    original, killed = AvitoApi.items_page, []

    def items_page(self: AvitoApi, page: int, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        if page == 5 and not killed:
            killed.append(page)
            raise KeyboardInterrupt("the worker was killed")  # not an Exception: nothing catches it, like a kill
        return original(self, page, *args, **kwargs)

    monkeypatch.setattr(AvitoApi, "items_page", items_page)
    receipts: list[str] = []
    problems = run_workers(lambda: bool(killed), workers=1, receipts=receipts)
    assert problems and "killed" in problems[0]
    tasks = boto3.resource("dynamodb").Table(get_settings().jobs_table)
    task_item = next(i for i in tasks.scan()["Items"] if i["sk"].startswith("TASK#"))
    assert task_item["cursor"]["phase"] == "items" and int(task_item["cursor"]["nextPage"]) == 5
    assert job(accepted.jobId)["status"] == "running"

    # the message comes back after its visibility timeout (30 min), long after the dead worker's lease ended
    tasks.update_item(
        Key={"pk": task_item["pk"], "sk": task_item["sk"]},
        UpdateExpression="SET leaseUntil = :z",
        ExpressionAttributeValues={":z": 0},
    )
    message = boto3.client("sqs").receive_message(QueueUrl=get_settings().jobs_queue_url).get("Messages")
    assert not message and receipts  # the dead worker's message is in flight until its visibility timeout
    runner.enqueue(accepted.jobId, [(0, account_id)])  # ... and then SQS delivers it again
    assert run_workers(finished(accepted.jobId), workers=1) == []

    pages = [int(r.query["page"]) for r in sim.requests if r.path == "/core/v1/items"]
    assert pages == list(range(1, 12))  # pages 1-4 before the kill, 5-11 after: none fetched twice
    account = service.get_account(account_id)
    assert (account.adsCount, account.viewsCount, account.viewsToday) == (1_000, 3_000, 2_000)
    assert job(accepted.jobId)["status"] == "done"


# --- job states, counts and bulk jobs ----------------------------------------------------------------------


def test_bulk_sync_counts_and_per_account_outcomes(env: dict[str, str], sim: AvitoSimulator) -> None:
    small = new_account("small-cid", "small-secret", SMALL_UID)
    wrong = new_account("wrong-cid", "not-the-secret", WRONG_UID)
    gone = new_account("gone-cid", "gone-secret", 8899)
    status, body = call_route(accounts_sync_all, "POST", "/api/v1/accounts/sync-all-stats", {}, body={"days": 3})
    assert status == 202, body
    job_id = body["data"]["jobId"]
    assert (body["data"]["status"], body["data"]["total"]) == ("queued", 0)
    assert job(job_id)["accountIds"] == []  # the worker sets the job up, not the request
    assert runner.set_up(job_id, "") == "set up"  # (the queued set-up message is then stale and skipped)
    queued = job(job_id)
    assert (queued["status"], queued["done"], queued["failed"], queued["total"]) == ("queued", 0, 0, 3)
    assert queued["accountIds"] == [small, wrong, gone] and queued["kind"] == "sync-all-stats"
    assert {o["status"] for o in queued["outcomes"]} == {"queued"} and queued["trigger"] == "api"
    service.delete_account(gone)

    assert run_workers(finished(job_id)) == []
    data = job(job_id)
    assert (data["status"], data["done"], data["failed"], data["total"]) == ("done", 1, 2, 3), data
    outcomes = {o["accountId"]: o for o in data["outcomes"]}
    assert outcomes[small]["status"] == "done" and outcomes[small]["error"] is None
    assert outcomes[wrong]["status"] == "failed" and "refused" in outcomes[wrong]["error"]
    assert outcomes[gone] == {
        "accountId": gone,
        "status": "failed",
        "error": "The account no longer exists.",
        "connectionStatus": None,
    }
    assert data["error"] == "2 of 3 accounts failed; see outcomes."
    assert "not-the-secret" not in json.dumps(data)
    assert service.get_account(small).adsCount == 1_000


def test_check_all_connections_job(env: dict[str, str], sim: AvitoSimulator) -> None:
    good = new_account("small-cid", "small-secret", None)
    bad = new_account("wrong-cid", "not-the-secret", WRONG_UID)
    status, body = call_route(accounts_check_all, "POST", "/api/v1/accounts/check-all-connections", {})
    assert status == 202, body
    job_id = body["data"]["jobId"]
    assert run_workers(finished(job_id)) == []
    data = job(job_id, role="director")
    assert (data["kind"], data["status"], data["done"], data["failed"]) == ("check-all-connections", "done", 1, 1)
    outcomes = {o["accountId"]: o for o in data["outcomes"]}
    assert outcomes[good]["connectionStatus"] == "connected" and outcomes[good]["status"] == "done"
    assert outcomes[bad]["connectionStatus"] == "auth_error" and outcomes[bad]["status"] == "failed"
    assert service.get_account(good).userId == str(SMALL_UID)  # the check stored what it found


def test_single_account_job_that_fails_is_failed_with_the_reason(env: dict[str, str], sim: AvitoSimulator) -> None:
    wrong = new_account("wrong-cid", "not-the-secret", WRONG_UID)
    accepted = jobs_service.hand_off(wrong, SyncCursor(days=3), {}, 0)
    assert run_workers(finished(accepted.jobId)) == []
    data = job(accepted.jobId)
    assert (data["status"], data["done"], data["failed"]) == ("failed", 0, 1)
    assert "refused" in data["error"]


def test_bulk_jobs_are_admin_only_and_unknown_jobs_404(env: dict[str, str]) -> None:
    for module, path in (
        (accounts_check_all, "/api/v1/accounts/check-all-connections"),
        (accounts_sync_all, "/api/v1/accounts/sync-all-stats"),
    ):
        status, body = call_route(module, "POST", path, {}, role="operator")
        assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = call_route(accounts_sync_all, "POST", "/api/v1/accounts/sync-all-stats", {}, body={"days": 0})
    assert status == 422 and body["error"]["details"][0]["field"] == "days"
    status, body = call_route(jobs_get, "GET", "/api/v1/jobs/{jobId}", {"jobId": "no-such-job"})
    assert status == 404 and body["error"]["code"] == "not_found"
    # a job over no accounts is done as soon as the worker has set it up
    status, body = call_route(accounts_check_all, "POST", "/api/v1/accounts/check-all-connections", {})
    assert status == 202 and body["data"]["status"] == "queued"
    assert run_workers(finished(body["data"]["jobId"])) == []
    assert (job(body["data"]["jobId"])["status"], job(body["data"]["jobId"])["total"]) == ("done", 0)


def test_small_sync_still_answers_200(
    env: dict[str, str], sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNC_INLINE_SECONDS", "20")
    monkeypatch.setenv("AVITO_LIMITS_TIME_SCALE", "1")  # Avito's real minute for the CPA balance
    reset_caches()
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    status, body = sync(account_id, days=3)
    assert status == 200, body
    assert body["data"]["adsCount"] == 1_000 and body["data"]["cpaBalance"] == 7
    # CPA allows one call a minute: a second sync right away keeps the stored CPA balance, it does not wait
    sim.account(SMALL_UID).cpa_balance = 8
    status, body = sync(account_id, days=3)
    assert status == 200 and body["data"]["cpaBalance"] == 7
    assert sim.count("POST", r"^/cpa/v3/balanceInfo$") == 1 and sim.rate_limited == 0
    sim.account(SMALL_UID).cpa_balance = 7


# --- the shared limits themselves --------------------------------------------------------------------------


def test_retry_after_is_shared_with_other_containers(env: dict[str, str], sim: AvitoSimulator) -> None:
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    sim.add_fault(r"^/core/v1/accounts/self$", status=429, retry_after=30, times=1)
    first = AvitoApi(service.load_context(account_id))
    first.settings = type(first.settings)(**{**first.settings.__dict__, "avito_max_retries": 0})
    with pytest.raises(Exception, match="429"):
        first.account_self()
    limits.clear_cache()  # another container: nothing in memory, only the shared table
    other = AvitoApi(service.load_context(account_id))
    with pytest.raises(BudgetExhausted) as raised:
        other.account_self()
    assert 25 < raised.value.retry_in <= 30 and raised.value.status == 429
    assert sim.count("GET", r"^/core/v1/accounts/self$") == 1  # the second container did not call Avito


def test_the_sliding_log_never_lets_more_than_the_limit_through_in_a_window(env: dict[str, str]) -> None:
    budget = limits.shared_limits()
    taken: list[float] = []
    lock = threading.Lock()

    def take() -> None:  # the times the slots were logged at, not when this thread got to run again
        for _ in range(20):
            slot = budget.acquire("acc-1", "core.items", max_wait=10)
            with lock:
                taken.append(slot.logged_at)

    threads = [threading.Thread(target=take) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 60 and most_in_any_window(sorted(taken), MINUTE) <= 25
    real_minute = limits.AvitoLimits(limits.DynamoStore(get_settings().avito_limits_table))  # 60 s windows
    for _ in range(25):
        real_minute.acquire("acc-2", "core.items", max_wait=0)
    with pytest.raises(BudgetExhausted):
        real_minute.acquire("acc-2", "core.items", max_wait=0)
    real_minute.acquire("acc-3", "core.items", max_wait=0)  # another account has its own budget


def test_a_slow_call_holds_its_slot_until_a_window_after_its_answer(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Avito counts a call when it arrives, somewhere between its send and its answer: a slot logged only at the
    send would let a later, faster call into the same minute of Avito's as a slow one (seen under a busy machine)."""
    moment = [1_000.0]
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    real_minute = limits.AvitoLimits(limits.DynamoStore(get_settings().avito_limits_table))  # 60 s windows
    slots = [real_minute.acquire("acc-slow", "core.items", max_wait=0) for _ in range(25)]
    for slot in slots[1:]:
        real_minute.answered("acc-slow", "core.items", slot)  # answered at once
    moment[0] = 1_030.0
    real_minute.answered("acc-slow", "core.items", slots[0])  # this one took 30 s
    moment[0] = 1_062.0  # a window (and the margin) after the sends: 24 slots are free again, not 25
    for _ in range(24):
        real_minute.acquire("acc-slow", "core.items", max_wait=0)
    with pytest.raises(BudgetExhausted) as raised:
        real_minute.acquire("acc-slow", "core.items", max_wait=0)
    assert 28 < raised.value.retry_in <= 30  # the slow call's slot frees a window after its answer (1,091)


# --- the daily schedule ------------------------------------------------------------------------------------


def test_daily_sync_schedule_is_in_the_template_and_fires_a_job(env: dict[str, str], sim: AvitoSimulator) -> None:
    template = load_template(ROOT / "template.yaml")
    assert template.parameters["DailySyncSchedule"] == "cron(0 4 * * ? *)"
    assert template.parameters["DailySyncTimezone"] == "Europe/Moscow"
    context = StackContext()
    resolver = Resolver(template, context)
    resolver.register_physical_id("JwtSecret", env["JwtSecret"])
    schedules = {s.key: s for s in load_schedules(load_function_specs(resolver), resolver)}
    daily = schedules["JobsDailySyncFunction.Daily"]
    assert daily.expression == "cron(0 4 * * ? *)"
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    answer = jobs_daily_sync.lambda_handler(scheduled_event(daily, context), FakeContext())
    assert answer["kind"] == "sync-all-stats" and answer["total"] == 0  # set up by the worker
    assert run_workers(finished(answer["jobId"])) == []
    data = job(answer["jobId"])
    assert data["trigger"] == "schedule" and data["status"] == "done" and data["total"] == 1
    assert service.get_account(account_id).lastSyncAt
    header = boto3.resource("dynamodb").Table(get_settings().jobs_table).get_item(Key=job_key(answer["jobId"]))
    assert int(header["Item"]["ttl"]) > time.time() + 29 * 86400


# --- issue #22 item 7: one sync per account, bulk set-up in the worker, paged outcomes, no endless pausing -------


def queued_bodies() -> list[str]:
    sqs = boto3.client("sqs")
    url = get_settings().jobs_queue_url
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_a_second_sync_of_the_same_account_joins_the_running_job(
    env: dict[str, str], sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "JOIN_POLL_SECONDS", 1)
    monkeypatch.setenv("SYNC_INLINE_SECONDS", "0.1")  # the first sync hands itself off to a job at once
    get_settings.cache_clear()
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    status, body = sync(account_id)
    assert status == 202, body
    first = body["data"]["jobId"]
    calls = len(sim.requests)

    status, body = sync(account_id, role="director")  # a second sync-stats while the first runs
    assert status == 202 and body["data"]["jobId"] == first and body["data"]["status"] == "running"
    assert len(sim.requests) == calls  # it called Avito for nothing

    daily = jobs_daily_sync.lambda_handler({}, FakeContext())  # the daily sync over every account, meanwhile
    assert run_workers(finished(first, daily["jobId"]), workers=2) == []
    assert job(first)["outcomes"][0]["status"] == "done"
    daily_job = job(daily["jobId"])
    assert daily_job["status"] == "done" and daily_job["outcomes"][0] == {
        "accountId": account_id,
        "status": "done",
        "error": None,
        "connectionStatus": None,
    }
    pages = [int(r.query["page"]) for r in sim.requests if r.path == "/core/v1/items"]
    assert pages == list(range(1, 12))  # 1,000 items: 11 pages, each fetched once: one sync, not three
    assert service.get_account(account_id).adsCount == 1_000

    status, body = sync(account_id)  # the sync is over: the next one is a new sync, not the old job
    assert status in (200, 202) and body["data"].get("jobId") != first


def test_bulk_jobs_are_set_up_by_the_worker_a_page_at_a_time(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "SETUP_PAGE", 2)
    ids = [new_account(f"setup-{n}", "secret", None) for n in range(5)]

    def no_listing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the request listed the accounts")

    real_listing = service.list_accounts
    monkeypatch.setattr(service, "list_accounts", no_listing)
    status, body = call_route(accounts_check_all, "POST", "/api/v1/accounts/check-all-connections", {})
    assert status == 202 and (body["data"]["status"], body["data"]["total"]) == ("queued", 0)
    job_id = body["data"]["jobId"]
    assert queued_bodies() == [f'{{"jobId": "{job_id}", "setup": ""}}']  # one message, no tasks
    monkeypatch.setattr(service, "list_accounts", real_listing)

    store = job_store()
    real_advance = store.advance_setup
    crashed: list[bool] = []

    def crash_once(*args: Any, **kwargs: Any) -> bool:
        if not crashed:
            crashed.append(True)
            raise RuntimeError("the worker died after queueing the first page")
        return real_advance(*args, **kwargs)

    monkeypatch.setattr(store, "advance_setup", crash_once)
    with pytest.raises(RuntimeError):
        runner.set_up(job_id, "")
    assert runner.set_up(job_id, "") == "set up"  # SQS delivers the step again: the same page, tasks once
    assert job(job_id)["total"] == 2
    assert runner.set_up(job_id, "") == "skipped"  # a stale repeat of a step already done
    while (header := store.header(job_id)) and header.get("settingUp"):
        assert job(job_id)["status"] == "queued"  # never done while accounts are still to come
        runner.set_up(job_id, header["setupCursor"])
    data = job(job_id)
    assert data["total"] == 5 and sorted(data["accountIds"]) == sorted(ids)
    assert [o["accountId"] for o in data["outcomes"]] == data["accountIds"]

    assert run_workers(finished(job_id)) == []
    data = job(job_id)
    assert data["status"] in ("done", "failed") and data["done"] + data["failed"] == 5


def test_job_outcomes_are_paged(env: dict[str, str]) -> None:
    ids = [new_account(f"paged-{n}", "secret", None) for n in range(5)]
    accepted = jobs_service.start_bulk(JobKind.CHECK_ALL_CONNECTIONS)
    while (header := job_store().header(accepted.jobId)) and header.get("settingUp"):
        runner.set_up(accepted.jobId, header["setupCursor"])

    def page(**query: str) -> dict[str, Any]:
        status, body = call_route(
            jobs_get, "GET", "/api/v1/jobs/{jobId}", {"jobId": accepted.jobId}, query=query, role="director"
        )
        assert status == 200, body
        return body

    seen, cursor, sizes = [], None, []
    while True:
        body = page(limit="2", **({"cursor": cursor} if cursor else {}))
        assert body["data"]["total"] == 5 and body["data"]["accountIds"] == [
            o["accountId"] for o in body["data"]["outcomes"]
        ]
        sizes.append(len(body["data"]["outcomes"]))
        seen.extend(body["data"]["accountIds"])
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert sizes == [2, 2, 1] and sorted(seen) == sorted(ids) and len(set(seen)) == 5
    whole = page(limit="5")
    assert len(whole["data"]["outcomes"]) == 5 and whole["nextCursor"] is None  # exactly a page: no empty next one
    assert page()["data"]["accountIds"] == seen  # default limit 50: every outcome, in order
    status, body = call_route(
        jobs_get, "GET", "/api/v1/jobs/{jobId}", {"jobId": accepted.jobId}, query={"cursor": "bogus"}
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "cursor"


def test_a_task_that_pauses_without_progress_fails_with_a_clear_error(env: dict[str, str]) -> None:
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    cursor = SyncCursor(days=3, phase="items", userId=str(SMALL_UID), today=avito_today().isoformat())
    accepted = jobs_service.hand_off(account_id, cursor, {}, 0)
    limits.shared_limits().retry_after(account_id, "core.items", 3600)  # Avito's items budget never frees up
    message = {"jobId": accepted.jobId, "order": 0, "accountId": account_id}
    outcomes = [runner.run_task(message, 5.0) for _ in range(runner.MAX_STALLS)]
    assert outcomes == ["paused"] * (runner.MAX_STALLS - 1) + ["failed"]
    data = job(accepted.jobId)
    assert data["status"] == "failed" and data["outcomes"][0]["status"] == "failed"
    assert "no progress" in data["error"] and "items" in data["error"]
    assert runner.run_task(message, 5.0) == "skipped"  # over: a late message does nothing


def test_a_sync_whose_request_died_half_way_is_resumed_by_the_worker(
    env: dict[str, str], sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 504 (or a crash) mid-request must not leave a job that never finishes, nor the account locked."""
    monkeypatch.setattr(jobs_service, "INLINE_LEASE_SECONDS", 0.5)
    monkeypatch.setattr(jobs_service, "INLINE_WATCHDOG_SECONDS", 1)
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    job_id, running = jobs_service.start_sync(account_id, 3, "inline-request-that-died")  # ... and nothing more
    assert running is None and job(job_id)["status"] == "running"
    status, body = sync(account_id)  # meanwhile the account's sync is that job
    assert status == 202 and body["data"]["jobId"] == job_id
    assert run_workers(finished(job_id), workers=1) == []
    assert job(job_id)["status"] == "done" and service.get_account(account_id).adsCount == 1_000
    assert job_store().sync_holder(account_id) is None  # the lock is released


def test_a_joined_task_takes_the_outcome_even_when_the_lock_is_free_again(
    env: dict[str, str], sim: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The joined sync finishes and lets the account's lock go between two looks of the task that joined it:
    the task takes the outcome; it does not take the free lock and sync the account a second time."""
    account_id = new_account("small-cid", "small-secret", SMALL_UID)
    first = jobs_service.hand_off(account_id, SyncCursor(days=3), {}, 0)
    store = job_store()
    assert store.lock_sync(account_id, first.jobId, 0, until=time.time() + 100) is None
    bulk = jobs_service.start_bulk(JobKind.SYNC_ALL_STATS, days=3)
    assert runner.set_up(bulk.jobId, "") == "set up"
    message = {"jobId": bulk.jobId, "order": 0, "accountId": account_id}
    assert runner.run_task(message, 5.0) == "joined"
    real_task = store.task

    def look_then_the_other_ends(*args: Any) -> Any:
        seen = real_task(*args)  # "running" ...
        store.finish(first.jobId, 0, account_id, JobStatus.DONE, {})  # ... and right after, the joined sync ends
        store.unlock_sync(account_id, first.jobId)  # and lets the lock go
        monkeypatch.setattr(store, "task", real_task)
        return seen

    monkeypatch.setattr(store, "task", look_then_the_other_ends)
    sim.clear_requests()
    assert runner.run_task(message, 5.0) == "joined"  # it saw "running": it waits, it does not take the free lock
    assert runner.run_task(message, 5.0) == "finished"  # and then takes the outcome
    assert sim.requests == [] and job(bulk.jobId)["outcomes"][0]["status"] == "done"
    assert store.sync_holder(account_id) is None
