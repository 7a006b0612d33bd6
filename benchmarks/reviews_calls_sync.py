"""What the daily sync's reviews-and-calls task adds per 1,000 accounts (issue #29).

Measured in-process (moto, the simulator over HTTP) on ``SAMPLE`` accounts, two days in a row: day 1 stores an
account's history (``HISTORY_REVIEWS`` reviews, ``CALLS_PER_DAY`` calls), day 2 finds ``NEW_REVIEWS`` new reviews
and ``CALLS_PER_DAY`` new calls, the steady state. Counted per account and day: Avito calls by endpoint, DynamoDB
requests by operation and table (botocore's own event hook), worker time. The monthly cost is a model of those
counts at AWS list prices (us-east-1, on-demand), written out in ``cost`` below; DynamoDB units assume items
under 1 KB (a stored review is ~0.6 KB), a transactional write costs 2 units per item.

Run: ``PYTHONPATH=.:layers/shared:functions .venv/bin/python -m benchmarks.reviews_calls_sync``
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SAMPLE = 10
HISTORY_REVIEWS = 60
NEW_REVIEWS = 2
CALLS_PER_DAY = 5
RESULTS = Path(__file__).resolve().parent / "results" / "reviews_calls_sync.json"
ROOT = Path(__file__).resolve().parent.parent

# AWS list prices, us-east-1 (USD)
LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_REQUEST = 0.20 / 1e6
DYNAMO_WRITE_UNIT = 0.625 / 1e6  # on-demand write request unit
DYNAMO_READ_UNIT = 0.125 / 1e6  # on-demand read request unit (strongly consistent; eventual is half)
SQS_REQUEST = 0.40 / 1e6
WORKER_GB = 0.5


def main() -> None:
    from benchmarks._common import use_moto_env

    use_moto_env()
    from moto import mock_aws

    from avito_sim import AvitoSimulator

    with AvitoSimulator() as sim, mock_aws():
        results = run(sim)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


def run(sim: Any) -> dict[str, Any]:
    import boto3

    from benchmarks._common import apply_created
    from local_runtime.resources import create_resources
    from local_runtime.template import load_template

    created = create_resources(load_template(ROOT / "template.yaml"))
    apply_created(created)
    os.environ["AVITO_API_URL"] = sim.base_url

    from avito_service import aws
    from avito_service.accounts import service as accounts
    from avito_service.accounts.models import AccountCreate
    from avito_service.config import get_settings
    from avito_service.reviews import daily

    get_settings.cache_clear()
    aws.clear_caches()
    now = int(time.time())
    account_ids = []
    for index in range(SAMPLE):
        user_id = 50_000 + index
        sim.add_account(f"bench-{index}", "secret", user_id)
        for number in range(HISTORY_REVIEWS):
            sim.add_review(user_id, 1 + number % 5, f"review {number}", created=now - 86_400 * 30 + number * 60)
        for number in range(CALLS_PER_DAY):
            sim.add_call(user_id, f"7916000{number:04d}", call_time=now - 3_600 - number * 60)
        body = AccountCreate(
            name=f"Shop {index}", clientId=f"bench-{index}", clientSecret="secret", userId=str(user_id)
        )
        account_ids.append(accounts.create_account(body).id)

    dynamo: Counter[str] = Counter()

    def count(event_name: str, **kwargs: Any) -> None:
        params = kwargs.get("params") or {}
        table = params.get("TableName") or ("transaction" if "TransactItems" in params else "?")
        name = next((k for k, v in created.items() if v == table), table)
        dynamo[f"{event_name.rsplit('.', 1)[-1]} {name}"] += 1

    boto3.DEFAULT_SESSION = None
    aws.dynamodb_resource().meta.client.meta.events.register("provide-client-params.dynamodb.*", count)

    days = {}
    for day in (1, 2):
        if day == 2:
            for index in range(SAMPLE):
                user_id = 50_000 + index
                for number in range(NEW_REVIEWS):
                    sim.add_review(user_id, 2, f"new {number}", created=now + 10 + number)
                for number in range(CALLS_PER_DAY):
                    sim.add_call(user_id, f"7926000{number:04d}", call_time=now - 300 - number)
        sim.clear_requests()
        dynamo.clear()
        started = time.perf_counter()
        moment = now - 600 if day == 1 else now  # day 2's calls came after day 1's sync
        synced = [daily.sync_account(account_id, max_wait=0, now=moment) for account_id in account_ids]
        elapsed = time.perf_counter() - started
        avito = Counter(
            r.path.rstrip("/").rsplit("/", 1)[-1] if "ratings" not in r.path else r.path for r in sim.requests
        )
        days[f"day{day}"] = {
            "avito_calls_per_account": {k: v / SAMPLE for k, v in sorted(avito.items())},
            "dynamodb_requests_per_account": {k: v / SAMPLE for k, v in sorted(dynamo.items())},
            "new_reviews_per_account": sum(s.newReviews for s in synced) / SAMPLE,
            "new_calls_per_account": sum(s.newCalls for s in synced) / SAMPLE,
            "worker_seconds_per_account": round(elapsed / SAMPLE, 4),
        }
    return {
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores (shared with other work)",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "sample_accounts": SAMPLE,
        "history_reviews": HISTORY_REVIEWS,
        "new_reviews_per_day": NEW_REVIEWS,
        "calls_per_day": CALLS_PER_DAY,
        **days,
        "cost_per_1000_accounts_per_month": cost(days["day2"]),
    }


def cost(day: dict[str, Any]) -> dict[str, Any]:
    """The steady state (day 2) for 1,000 accounts x 30 days, at list prices: a model of the counted requests.

    DynamoDB units per request: a transactional put of a new review/call 2 items x 2 = 4 WRU; an update or put
    1 WRU; a review partition Query ~ (reviews x 0.6 KB / 4 KB) x 0.5 RRU; a consistent GetItem 1 RRU. The
    Avito-limits slot of each call tracking request (GetItem + UpdateItem, twice) is counted among the requests.
    Jobs: per account one task item written ~4 times (create, claim, finish, counters) and one SQS message
    (send, receive, delete)."""
    accounts_month = 1000 * 30
    requests = day["dynamodb_requests_per_account"]
    writes = sum(v for k, v in requests.items() if k.split()[0] in ("PutItem", "UpdateItem", "DeleteItem"))
    transactions = sum(v for k, v in requests.items() if k.startswith("TransactWriteItems"))
    reads = sum(v for k, v in requests.items() if k.split()[0] in ("GetItem", "Query"))
    partition_query_rru = (HISTORY_REVIEWS + NEW_REVIEWS) * 0.6 / 4 * 0.5
    wru = writes + transactions * 4 + 4  # + the job's task writes
    rru = reads + partition_query_rru
    dynamo_cost = accounts_month * (wru * DYNAMO_WRITE_UNIT + rru * DYNAMO_READ_UNIT)
    lambda_cost = accounts_month * (day["worker_seconds_per_account"] * WORKER_GB * LAMBDA_GB_SECOND + LAMBDA_REQUEST)
    sqs_cost = accounts_month * 3 * SQS_REQUEST
    return {
        "model": "counted requests x list prices (us-east-1); worker time as measured here, in-process with moto",
        "wru_per_account_day": round(wru, 2),
        "rru_per_account_day": round(rru, 2),
        "avito_calls_per_account_day": sum(day["avito_calls_per_account"].values()),
        "dynamodb_usd": round(dynamo_cost, 3),
        "lambda_usd": round(lambda_cost, 3),
        "sqs_usd": round(sqs_cost, 3),
        "total_usd": round(dynamo_cost + lambda_cost + sqs_cost, 3),
    }


if __name__ == "__main__":
    main()
