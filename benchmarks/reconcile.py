"""Nothing missed and history on connect (issue 28): the reconciliation's Avito calls per account per hour at steady
state, and the backfill time of 1,000 chats.

Measured (in-process moto for AWS, the simulator over real HTTP for Avito with ``--latency`` per request):

1. Reconciliation, one simulated hour: an account with a webhook and ``--chats-steady`` chats, the real
   ``online.reconciler.run(now=T0 + k*300)`` for k = 0..12 (the schedule's 5 minutes). First a quiet hour (no new
   message), then an hour in which ``--lost`` deliveries are dropped by the simulator. Counted from the
   simulator's own request log: chat listings and message fetches per hour. Goal: no message fetch for an
   unchanged chat (a quiet hour has none), one fetch per chat with a lost message.
2. The same hour for an eternal-online account whose keep-alives run every 300 s: the keep-alive's listing is the
   reconciliation, so it costs no call beyond the keep-alive itself.
3. With ``--chats N``: a backfill of N chats (3 messages each, all within 30 days; the measured 1,000-chat
   backfill, through the account's proxy, with its cost, is ``benchmarks/backfill.py``): the real job worker
   (``jobs_worker.lambda_handler``) on the job's SQS messages until done; wall time, Avito calls and the calls'
   rate. Avito documents no Messenger limit; the client honours a 429's Retry-After across containers
   (``avito/limits.py``), which the simulator does not send here, so the time is the service's own pace.

Run: ``PYTHONPATH=.:layers/shared:functions .venv/bin/python -m benchmarks.reconcile`` (``--chats 200`` adds a
small backfill). Results: ``benchmarks/results/reconcile.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from benchmarks._common import create_account, moto_stack, quiet_output, reset_caches, table, write_results
from local_runtime import moto_fast_tx

T_USER, E_USER, B_USER = 8101, 8102, 8103


def _calls(sim: Any, user_id: int) -> dict[str, int]:
    base = f"/messenger/v2/accounts/{user_id}/chats"
    listings = sum(1 for r in sim.requests if r.method == "GET" and r.path.rstrip("/") == base)
    fetches = sum(
        1 for r in sim.requests if r.method == "GET" and r.path.endswith("/messages/") and str(user_id) in r.path
    )
    return {"listings": listings, "messageFetches": fetches}


def reconciliation_hour(sim: Any, chats: int, lost: int) -> dict[str, Any]:
    from avito_service.accounts import service
    from avito_service.online import keepalive, reconciler

    t0 = int(time.time())
    for n in range(chats):
        sim.add_chat(T_USER, f"u2i-t{n}", created=t0 - 7200 - n)
        sim.add_message(T_USER, f"u2i-t{n}", f"t{n}-m0", "hello", created=t0 - 7200 - n)
        sim.add_chat(E_USER, f"u2i-e{n}", created=t0 - 7200 - n)
        sim.add_message(E_USER, f"u2i-e{n}", f"e{n}-m0", "hello", created=t0 - 7200 - n)
    hooked = create_account(name="Hooked", client_id="t-cid", user_id=str(T_USER))
    online = create_account(name="Online", client_id="e-cid", user_id=str(E_USER))
    service.record_fields(hooked.id, {"webhookSubscribed": True}, bump_version=False)
    reconciler.run(now=t0)  # the first pass after connecting: stores the chats it does not know
    keepalive.keep_alive(online.id, now=t0)
    out: dict[str, Any] = {}
    for label, drop in (("quietHour", 0), ("hourWithLostDeliveries", lost)):
        sim.clear_requests()
        start = t0 + (300 * 13 if drop else 0)
        for k in range(1, 13):
            if drop and k in range(2, 2 + drop):
                sim.drop_deliveries = 1
                sim.incoming_message(T_USER, f"u2i-t{k * 7 % chats}", "lost", message_id=f"lost-t-{k}")
                sim.drop_deliveries = 1
                sim.incoming_message(E_USER, f"u2i-e{k * 7 % chats}", "lost", message_id=f"lost-e-{k}")
            reconciler.run(now=start + 300 * k)
            keepalive.keep_alive(online.id, now=start + 300 * k)
        out[label] = {"webhookAccount": _calls(sim, T_USER), "eternalOnlineAccount": _calls(sim, E_USER)}
    return out


def backfill(sim: Any, chats: int) -> dict[str, Any]:
    import boto3
    import jobs_worker
    from avito_service.config import get_settings
    from avito_service.jobs.service import get_job, start_backfill

    now = int(time.time())
    for n in range(chats):
        created = now - 3600 - n * 600
        sim.add_chat(B_USER, f"u2i-b{n}", created=created - 60)
        for m in range(3):
            sim.add_message(B_USER, f"u2i-b{n}", f"b{n}-m{m}", "history", created=created + m)
    account = create_account(name="History", client_id="b-cid", user_id=str(B_USER))
    sim.clear_requests()

    class Context:
        function_name = "bench"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:bench"
        aws_request_id = "bench"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 300_000

    started = time.perf_counter()
    job_id = start_backfill(account.id, 30).jobId
    sqs = boto3.client("sqs")
    url = get_settings().jobs_queue_url
    invocations = 0
    while get_job(job_id)[0].status not in ("done", "failed"):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0).get("Messages")
        if not messages:
            continue
        record = {"messageId": messages[0]["MessageId"], "body": messages[0]["Body"], "eventSource": "aws:sqs"}
        jobs_worker.lambda_handler({"Records": [record]}, Context())
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        invocations += 1
    seconds = time.perf_counter() - started
    job = get_job(job_id)[0]
    calls = _calls(sim, B_USER)
    times = sorted(r.time for r in sim.requests if str(B_USER) in r.path)
    busiest = max((sum(1 for t in times if s <= t < s + 60) for s in times), default=0)
    return {
        "chats": chats,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "seconds": round(seconds, 1),
        "workerInvocations": invocations,
        **calls,
        "avitoCallsInBusiestMinute": busiest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=0, help="chats of a backfilled account (0: no backfill)")
    parser.add_argument("--chats-steady", type=int, default=100, help="chats of the reconciled accounts")
    parser.add_argument("--lost", type=int, default=3, help="deliveries dropped in the second hour")
    parser.add_argument("--latency", type=float, default=0.05, help="the simulator's seconds per request")
    args = parser.parse_args()

    from avito_sim import AvitoSimulator

    moto_fast_tx.install()  # moto's transactions copy whole tables: without this the emulator dominates
    sim = AvitoSimulator(latency=args.latency)
    sim.start()
    sim.add_account("t-cid", "bench-secret", T_USER)
    sim.add_account("e-cid", "bench-secret", E_USER)
    sim.add_account("b-cid", "bench-secret", B_USER)
    try:
        with moto_stack():
            os.environ["AVITO_API_URL"] = sim.base_url
            os.environ["WEBHOOK_BASE_URL"] = "https://hooks.example.test"
            reset_caches()
            with quiet_output():
                steady = reconciliation_hour(sim, args.chats_steady, args.lost)
                history = backfill(sim, args.chats) if args.chats else None
    finally:
        sim.stop()
    rows = [
        [hour, who, calls["listings"], calls["messageFetches"]]
        for hour, accounts in steady.items()
        for who, calls in accounts.items()
    ]
    print(table(["hour", "account", "chat listings", "message fetches"], rows))
    if history:
        print(json.dumps(history, indent=2))
    path = write_results(
        "reconcile",
        {"args": vars(args), "reconciliationPerAccountHour": steady, "backfill": history},
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
