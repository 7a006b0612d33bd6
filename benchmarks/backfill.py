"""History on connect (issue 28): the backfill of an account with 1,000 chats, measured end to end.

What runs: the real ``POST /api/v1/accounts/{id}/backfill`` handler creates the job; the real job worker
(``jobs_worker.lambda_handler``, its 300 s timeout as ``get_remaining_time_in_millis``) takes the job's SQS
messages from moto's queue until the job is done, continuations included. Avito is the simulator over real HTTP
with ``--latency`` seconds per request, reached through the account's own proxy (a real pproxy HTTP proxy with a
login on loopback, as a proxied account is in production). The account has ``--chats`` chats with ``--messages``
messages each, all active within the 30-day window, plus 20 older chats the backfill must leave alone.

Reported: the wall time from the handler's 202 to the job's ``done``; the time inside moto (its CPU time for every
DynamoDB request: emulator work a real DynamoDB does elsewhere) and the rest, the service's own time plus Avito's
latency; the Avito calls by kind from the simulator's request log, the calls in the busiest 60 s and the average
per minute (Avito documents no Messenger limit: compared with the documented per-account limits of other APIs
and with ``avito/limits.py``); DynamoDB requests by operation (moto's request log), and from them and the time the
one-off cost on AWS. ``--throttle N`` makes the simulator answer 429 (Retry-After) beyond N Messenger calls a
minute per account (``AvitoSimulator.throttle``), to show the pause path's cost in time.

moto's Query walks the whole table (``Table.query`` iterates ``all_items()``): with 4,000 messages stored the
emulator, not the service, would dominate. Unless ``--stock-moto``, a table Query reads only its partition, what
DynamoDB does (``benchmarks/search.py``'s patch, which also counts moto's CPU time).

Run: ``PYTHONPATH=.:layers/shared:functions .venv/bin/python -m benchmarks.backfill`` (``--chats 100`` for a quick
look). Results: ``benchmarks/results/backfill.json``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import time
from typing import Any

from benchmarks._common import create_account, moto_stack, quiet_output, reset_caches, table, write_results
from local_runtime import moto_fast_tx

USER = 8201
DAY = 86400
OLD_CHATS = 20
# us-east-1 on-demand list prices, December 2026 (DEPLOYMENT.md's)
WRU, RRU = 0.625e-6, 0.125e-6
LAMBDA_GB_SECOND, LAMBDA_REQUEST, SQS_REQUEST = 0.0000166667, 0.20e-6, 0.40e-6
WORKER_GB = 0.5  # the worker's MemorySize (template Globals: 512 MB)
DYNAMO_MS = 8.0  # a DynamoDB request from Lambda in the same region, for the time on AWS
AVITO_SECONDS = 0.15  # an Avito Messenger read from AWS (~100-150 ms), for the time on AWS


def count_dynamo_operations() -> collections.Counter[str]:
    """DynamoDB requests by operation as moto receives them, and the items of each transaction (its WRUs)."""
    from moto.dynamodb.responses import DynamoHandler

    counted: collections.Counter[str] = collections.Counter()
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        operation = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
        counted[operation] += 1
        if operation == "TransactWriteItems":
            counted["transactionItems"] += len(json.loads(self.body or "{}").get("TransactItems", []))
        return original(self)

    DynamoHandler.call_action = call_action
    return counted


class WorkerContext:
    function_name = "JobsWorkerFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:JobsWorkerFunction"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000  # the worker's Timeout


def seed(sim: Any, chats: int, messages: int) -> None:
    now = int(time.time())
    for n in range(chats):  # one chat every 40 minutes back from now: 1,000 chats span ~28 days
        created = now - 600 - n * 2400
        sim.add_chat(USER, f"u2i-b{n:04d}", item_id=10_000 + n, client_name=f"Buyer {n}", created=created - 60)
        for m in range(messages):
            sim.add_message(USER, f"u2i-b{n:04d}", f"b{n:04d}-m{m}", f"history {m}", created=created + m)
    for n in range(OLD_CHATS):
        old = now - 40 * DAY - n * 3600
        sim.add_chat(USER, f"u2i-old{n:02d}", created=old - 60)
        sim.add_message(USER, f"u2i-old{n:02d}", f"old{n:02d}-m0", "long ago", created=old)


def run_backfill(sim: Any, proxy: Any, chats: int, messages: int, moto_cpu: dict[str, float]) -> dict[str, Any]:
    import accounts_backfill
    import boto3
    import jobs_worker
    from avito_service.config import get_settings
    from avito_service.jobs.service import get_job
    from avito_service.messenger.store import chat_store

    from tests.support.events import call_route

    account = create_account(name="History", client_id="bf-cid", user_id=str(USER), **proxy.settings())
    sim.clear_requests()
    proxied_before = len(proxy.log)
    sqs, url = boto3.client("sqs"), get_settings().jobs_queue_url
    in_moto, started, cpu = moto_cpu["seconds"], time.perf_counter(), time.process_time()
    status, body = call_route(
        accounts_backfill, "POST", "/api/v1/accounts/{id}/backfill", {"id": account.id}, role="operator", body={}
    )
    assert status == 202, body
    job_id = body["data"]["jobId"]
    invocations = 0
    while get_job(job_id)[0].status not in ("done", "failed"):
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages")
        if not received:
            continue  # a continuation delayed by a 429's Retry-After: moto's queue holds it back until then
        message = received[0]
        record = {"messageId": message["MessageId"], "body": message["Body"], "eventSource": "aws:sqs"}
        answer = jobs_worker.lambda_handler({"Records": [record]}, WorkerContext())
        assert not answer.get("batchItemFailures"), answer  # the worker raised: the benchmark would measure retries
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        invocations += 1
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    emulator = moto_cpu["seconds"] - in_moto
    job = get_job(job_id)[0]
    stored = sum(1 for n in range(chats) if chat_store().get_chat(f"u2i-b{n:04d}") is not None)
    ours = [r for r in sim.requests if f"/accounts/{USER}/" in r.path]
    listings = sum(1 for r in ours if r.path.rstrip("/").endswith("/chats"))
    fetches = sum(1 for r in ours if r.path.endswith("/messages/"))
    throttled = sum(1 for r in ours if r.status == 429)
    times = sorted(r.time for r in ours)
    busiest = max((sum(1 for t in times if s <= t < s + 60) for s in times), default=0)
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "chatsStored": stored,
        "seconds": round(wall, 1),
        "secondsInMoto": round(emulator, 1),
        "secondsOutsideMoto": round(wall - emulator, 1),
        "cpuSecondsOutsideMoto": round(cpu - emulator, 1),  # this process: the service, botocore, requests
        "workerInvocations": invocations,
        "avitoCalls": len(ours),
        "listings": listings,
        "messageFetches": fetches,
        "answered429": throttled,
        "avitoCallsInBusiestMinute": busiest,
        "avitoCallsPerMinuteAverage": round(len(ours) / span * 60, 1) if span else None,
        "proxiedConnections": len(proxy.log) - proxied_before,
    }


def cost(result: dict[str, Any], operations: collections.Counter[str]) -> dict[str, Any]:
    """The one-off AWS cost of the run, from its DynamoDB requests and the worker's time on AWS, modelled as Avito's
    answers (``AVITO_SECONDS`` a call), DynamoDB's (``DYNAMO_MS`` a request) and this process's CPU time outside
    moto (the service, botocore, requests, the simulator: an upper bound of the service's own CPU). The wall time
    here is not used: on a loaded machine it is mostly waiting for a core."""
    writes = sum(operations[op] for op in ("PutItem", "UpdateItem", "DeleteItem")) + 2 * operations["transactionItems"]
    reads = sum(operations[op] for op in ("GetItem", "Query")) + 20 * operations["BatchGetItem"]  # upper bounds
    dynamo_requests = sum(v for k, v in operations.items() if k != "transactionItems")
    on_aws = result["avitoCalls"] * AVITO_SECONDS + dynamo_requests * DYNAMO_MS / 1000 + result["cpuSecondsOutsideMoto"]
    dollars = (
        writes * WRU
        + reads * RRU
        + on_aws * WORKER_GB * LAMBDA_GB_SECOND
        + result["workerInvocations"] * (LAMBDA_REQUEST + 3 * SQS_REQUEST)
    )
    return {
        "dynamoRequests": dynamo_requests,
        "writeUnits": writes,
        "readUnitsAtMost": reads,
        "workerSecondsOnAwsModelled": round(on_aws, 1),
        "dollars": round(dollars, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--chats", type=int, default=1000, help="chats active in the window (Avito lists 1,100 at most)"
    )
    parser.add_argument("--messages", type=int, default=3, help="messages per chat")
    parser.add_argument("--latency", type=float, default=0.1, help="the simulator's seconds per request")
    parser.add_argument("--throttle", type=int, default=0, help="Messenger calls a minute before the simulator's 429")
    parser.add_argument("--stock-moto", action="store_true", help="moto's own Query (walks the whole table)")
    parser.add_argument("--results-name", default="backfill", help="benchmarks/results/<name>.json")
    args = parser.parse_args()

    from avito_sim import AvitoSimulator
    from benchmarks.search import patch_moto
    from tests.support.proxies import ProxyServer

    moto_fast_tx.install()  # moto's transactions copy whole tables: without this the emulator dominates
    moto_cpu = patch_moto(partition_reads=not args.stock_moto)
    operations = count_dynamo_operations()
    sim = AvitoSimulator(latency=args.latency)
    if args.throttle:
        sim.throttle(args.throttle, 60.0)
    sim.start()
    sim.add_account("bf-cid", "bench-secret", USER, name="History")
    seed(sim, args.chats, args.messages)
    proxy = ProxyServer("http", "bench-proxy", "bench-proxy-password").start()
    try:
        with moto_stack():
            os.environ["AVITO_API_URL"] = sim.base_url
            os.environ["PROXY_NETWORKS"] = "local"  # the proxy is on loopback
            reset_caches()
            with quiet_output() if not os.environ.get("BENCH_LOGS") else contextlib.nullcontext():
                operations.clear()
                result = run_backfill(sim, proxy, args.chats, args.messages, moto_cpu)
            spent = cost(result, operations)
    finally:
        proxy.stop()
        sim.stop()
    print(table(["figure", "value"], [[k, v] for k, v in {**result, **spent}.items()]))
    print("DynamoDB requests:", dict(operations))
    path = write_results(
        args.results_name,
        {"args": vars(args), "backfill": result, "dynamoOperations": dict(operations), "cost": spent},
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
