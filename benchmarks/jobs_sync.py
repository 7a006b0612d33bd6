"""Background sync benchmarks (issue #16).

1. One account with 10,000 active items against the simulator with Avito's limits enforced (items list 25 a
   minute, CPA 1 a minute): a sync-stats that turns into a job, run by two workers. The limit windows of the
   simulator and of the service run scaled by ``SCALE`` (``AVITO_LIMITS_TIME_SCALE``), so the wall time is
   reported both as measured and on the simulated clock (measured / SCALE for the part bound by the limits).
2. The daily sync, 1,000 accounts x 300 items: measured in-process (moto, the simulator) on ``SAMPLE`` accounts,
   per-account worker time and calls scaled up to 1,000; DynamoDB units and the monthly cost are a model of the
   calls the code makes (written out below), at AWS list prices.

Run: ``PYTHONPATH=.:layers/shared:functions .venv/bin/python -m benchmarks.jobs_sync``
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCALE = 0.05
SAMPLE = 40
RESULTS = Path(__file__).resolve().parent / "results" / "jobs_sync.json"
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    from benchmarks._common import use_moto_env

    use_moto_env()
    from moto import mock_aws
    from moto.dynamodb.responses import DynamoHandler

    from local_runtime import moto_fast_tx
    from tests.conftest import _atomic

    DynamoHandler.call_action = _atomic(DynamoHandler.call_action)  # DynamoDB's per-item atomicity (conftest)
    moto_fast_tx.install()

    from avito_sim import AvitoSimulator
    from local_runtime.resources import create_resources
    from local_runtime.template import load_template
    from tests.integration import test_jobs as harness
    from tests.support.caches import reset_caches

    results: dict[str, Any] = {"machine": platform.platform(), "python": platform.python_version()}
    results["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    with mock_aws():
        created = create_resources(load_template(ROOT / "template.yaml"))
        for name, key in (
            ("ACCOUNTS_TABLE", "AccountsTable"),
            ("MESSENGER_TABLE", "MessengerTable"),
            ("AVITO_LIMITS_TABLE", "AvitoLimitsTable"),
            ("JOBS_TABLE", "JobsTable"),
            ("JOBS_QUEUE_URL", "JobsQueue"),
        ):
            os.environ[name] = created[key]
        sim = AvitoSimulator(rate_limits=True, time_scale=SCALE)
        sim.start()
        os.environ.update(
            {
                "AVITO_API_URL": sim.base_url,
                "AVITO_LIMITS_TIME_SCALE": str(SCALE),
                "SYNC_INLINE_SECONDS": "1",
                "JOBS_MAX_WAIT_SECONDS": "10",
            }
        )
        reset_caches()
        from avito_service.accounts import service
        from avito_service.accounts.stats import avito_today

        today, yesterday = avito_today(), avito_today() - timedelta(days=1)
        stats = {today.isoformat(): (2, 1, 0), yesterday.isoformat(): (1, 0, 1)}

        # --- 1. one account, 10,000 items --------------------------------------------------------------
        sim.add_account("bench-big", "bench-big-secret", 1, balance_real=5.0, cpa_balance=10)
        sim.add_items(1, 10_000, 7_000_000_000, stats=stats)
        big = harness.new_account("bench-big", "bench-big-secret", 1)
        started = time.monotonic()
        status, body = harness.sync(big, days=7)
        job_id = body["data"]["jobId"]
        harness.run_workers(harness.finished(job_id), workers=2, timeout=600)
        wall = time.monotonic() - started
        account = service.get_account(big)
        item_calls = harness.item_list_times(sim)
        window = 60 * SCALE
        results["big_account"] = {
            "items": 10_000,
            "first_answer": status,
            "wall_seconds_measured": round(wall, 1),
            "limit_windows_used": round((item_calls[-1] - item_calls[0]) / window, 2),
            "wall_minutes_on_avitos_clock": round((item_calls[-1] - item_calls[0]) / SCALE / 60, 2),
            "item_list_calls": len(item_calls),
            "stats_calls": sim.count("POST", r"^/stats/v1/"),
            "avito_calls": len(sim.requests),
            "most_item_calls_in_any_minute": harness.most_in_any_window(item_calls, window),
            "avito_429s": sim.rate_limited,
            "figures_equal_simulator": (account.adsCount, account.viewsCount, account.contactsCount)
            == (10_000, 30_000, 10_000),
        }
        print(json.dumps(results["big_account"], indent=2))

        # --- 2. the daily sync, SAMPLE accounts x 300 items, scaled to 1,000 ----------------------------
        sim.clear_requests()
        for n in range(SAMPLE):
            uid = 100 + n
            sim.add_account(f"bench-{n}", f"bench-secret-{n}", uid, balance_real=1.0, cpa_balance=1)
            sim.add_items(uid, 300, 8_000_000_000 + n * 1000, stats=stats)
            harness.new_account(f"bench-{n}", f"bench-secret-{n}", uid)
        service.delete_account(big)
        import jobs_worker
        from avito_service.jobs import service as jobs_service
        from avito_service.jobs.models import JobKind

        busy: list[float] = []
        original = jobs_worker.lambda_handler

        def timed(event: Any, context: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(event, context)
            finally:
                busy.append(time.perf_counter() - began)

        harness.jobs_worker.lambda_handler = timed
        started = time.monotonic()
        accepted = jobs_service.start_bulk(JobKind.SYNC_ALL_STATS, trigger="schedule")
        planned = time.monotonic() - started
        harness.run_workers(harness.finished(accepted.jobId), workers=2, timeout=600)
        wall = time.monotonic() - started
        job = harness.job(accepted.jobId)
        per_account_s = sum(busy) / SAMPLE
        calls_per_account = len(sim.requests) / SAMPLE
        results["daily_sync_sample"] = {
            "accounts": SAMPLE,
            "items_each": 300,
            "job": {k: job[k] for k in ("status", "done", "failed", "total")},
            "plan_seconds": round(planned, 2),
            "wall_seconds": round(wall, 1),
            "worker_seconds_per_account": round(per_account_s, 3),
            "avito_calls_per_account": calls_per_account,
            "avito_429s": sim.rate_limited,
        }
        print(json.dumps(results["daily_sync_sample"], indent=2))
        sim.stop()

    results["daily_sync_1000_model"] = model(per_account_s, calls_per_account)
    print(json.dumps(results["daily_sync_1000_model"], indent=2))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def model(worker_seconds_per_account: float, avito_calls: float) -> dict[str, Any]:
    """1,000 accounts x 300 items, once a day, 30 days; us-east-1 list prices (2025), no free tier.

    Per account (300 items: 3 full pages + 1 empty page, 2 stats calls of 200 and 100 ids, balance, CPA):
    - DynamoDB reads (RRU): limiter GetItem (strongly consistent, 1 RRU) per Avito call; job header
      read 2, task claim 0 (an update), pages query 2, account context 1, token 1, account item (kept
      CPA) 0 -> avito_calls + 6.
    - DynamoDB writes (WRU): limiter UpdateItem on items and CPA calls (5); task put at planning 1; claim 1;
      job header 'running' attempt 1; 3 page puts (~1 KB each) 3; 9 cursor saves (task item ~1.5 KB: 2 each)
      18; finish transaction (2 items, x2 for transactions) 4; snapshot 1; account update with its
      byCreatedAt projection (~1.2 KB, 2 + 2) 4; SQS message planning 0 -> 38.
    - Lambda: the worker (512 MB) for the measured in-process seconds per account, which include moto's
      DynamoDB (slower than DynamoDB) and the simulator (local, ~instant: real Avito adds ~0.1-0.3 s a call,
      added below at 0.2 s per call); the planner once per day.
    """
    accounts, days = 1000, 30
    avito_latency = 0.2
    seconds = worker_seconds_per_account + avito_calls * avito_latency
    gb_s_day = accounts * seconds * 0.5 + 30 * 0.5  # + the planning function, 30 s at 512 MB, generously
    rru_day = accounts * (avito_calls + 6)
    wru_day = accounts * 38
    sqs_day = accounts * 3  # send, receive, delete (no continuation: 4 item pages fit one minute's budget)
    prices = {"gb_s": 0.0000133334, "request": 0.20 / 1e6, "rru": 0.125 / 1e6, "wru": 0.625 / 1e6, "sqs": 0.40 / 1e6}
    monthly = {
        "lambda_gb_s": gb_s_day * days * prices["gb_s"],
        "lambda_requests": (accounts + 1) * days * prices["request"],
        "dynamodb_reads": rru_day * days * prices["rru"],
        "dynamodb_writes": wru_day * days * prices["wru"],
        "sqs": sqs_day * days * prices["sqs"],
    }
    # Wall time: bounded by the worker's concurrency (JobsConcurrency, default 5), not by Avito (each account
    # has its own budget and needs 4 item calls, well inside 25 a minute).
    concurrency = 5
    return {
        "worker_seconds_per_account_with_avito_latency": round(seconds, 2),
        "wall_minutes_at_concurrency_5": round(accounts * seconds / concurrency / 60, 1),
        "lambda_gb_s_per_day": round(gb_s_day),
        "dynamodb_rru_per_day": int(rru_day),
        "dynamodb_wru_per_day": int(wru_day),
        "monthly_usd": {k: round(v, 2) for k, v in monthly.items()},
        "monthly_usd_total": round(sum(monthly.values()), 2),
    }


if __name__ == "__main__":
    main()
