"""The keep-alive worker measured: the simulator in its own process, counted calls, SQS events, the summary."""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import multiprocessing as mp
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from typing import Any

from avito_service.dynamo import to_wire

from benchmarks._common import (
    TEMPLATE,
    apply_created,
    percentile,
    quiet_output,
    set_lambda_env,
)
from benchmarks.eternal.constants import ASSUMPTIONS, INTERVALS, SIM_UID0
from benchmarks.eternal.table import item_size
from tests.support.caches import reset_caches

# --- the worker ----------------------------------------------------------------------------------------------------


def simulator_main(conn: Any, accounts: int, latency: float) -> None:
    """Child process: the Avito simulator with ``accounts`` accounts (0-3 unread chats each)."""
    from avito_sim import AvitoSimulator

    sim = AvitoSimulator(latency=latency)
    for n in range(accounts):
        user_id = SIM_UID0 + n
        sim.add_account(f"eo-bench-{n}", f"eo-secret-{n}", user_id, name=f"Shop {n}")
        for c in range(n % 4):
            chat_id = f"u2i-eo-{n}-{c}"
            sim.add_chat(user_id, chat_id, item_id=5000 + c, item_title=f"Sofa {c}", client_name="Anna")
            sim.add_message(user_id, chat_id, f"m-eo-{n}-{c}", "Is it still for sale?")
    conn.send(sim.start())
    while True:
        command = conn.recv()
        if command[0] == "count":
            conn.send(sim.count(command[1], command[2]))
        else:
            break
    sim.stop()


class CountingSink:
    """Where the function's stdout goes (JSON logs, EMF metrics): counts the bytes CloudWatch would ingest."""

    def __init__(self) -> None:
        self.bytes = 0
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.bytes += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass


class CallCounter:
    """Counts AWS calls per (service, operation, table) and per thread; times each call."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.local = threading.local()
        self._lock = threading.Lock()

    def install(self, client: Any, tables: dict[str, str]) -> None:
        service = client.meta.service_model.service_id.hyphenize()

        def before(model: Any, params: dict[str, Any], **_: Any) -> None:
            label = f"{service}.{model.name}"
            if service == "dynamodb":
                request = json.loads(params.get("body") or b"{}")
                names = {request.get("TableName")} | set(request.get("RequestItems", {}))
                label += "(" + ",".join(sorted(tables.get(n, str(n)) for n in names if n)) + ")"
            self.local.started = (label, time.perf_counter())
            self.local.count = getattr(self.local, "count", 0) + 1
            with self._lock:
                self.calls[label] += 1

        def after(**_: Any) -> None:
            label, started = self.local.started
            took = time.perf_counter() - started
            self.local.aws_seconds = getattr(self.local, "aws_seconds", 0.0) + took
            with self._lock:
                self.seconds[label].append(took)

        client.meta.events.register(f"before-call.{service}", before, unique_id=f"eo-count-{service}")
        client.meta.events.register(f"after-call.{service}", after, unique_id=f"eo-count-after-{service}")


def sqs_event(messages: list[dict[str, Any]], start: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"msg-{start + n}",
                "receiptHandle": f"rh-{start + n}",
                "body": json.dumps(m),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:KeepAliveQueue",
                "awsRegion": "us-east-1",
            }
            for n, m in enumerate(messages)
        ]
    }


def measure_worker(args: argparse.Namespace, settings: dict[str, Any]) -> dict[str, Any]:
    from local_runtime.moto_process import MotoProcess
    from local_runtime.resources import create_resources
    from local_runtime.template import load_template

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    simulator = ctx.Process(target=simulator_main, args=(child, args.worker_accounts, args.sim_latency), daemon=True)
    simulator.start()
    moto = MotoProcess()
    moto.spawn()
    try:
        endpoint = moto.wait_ready()
        sim_url = parent.recv()
        set_lambda_env(
            AWS_ENDPOINT_URL=endpoint,
            AVITO_API_URL=sim_url,
            AVITO_MAX_RETRIES="1",  # the worker's template environment
            AWS_LAMBDA_FUNCTION_NAME="online-worker",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(settings["worker_memory_mb"]),
        )
        created = create_resources(load_template(TEMPLATE), endpoint)
        apply_created(created)
        reset_caches()
        return _run_worker(args, settings, created, parent)
    finally:
        with contextlib.suppress(Exception):
            parent.send(("stop",))
        simulator.join(timeout=5)
        moto.stop()


def _run_worker(args: argparse.Namespace, settings: dict[str, Any], created: dict[str, str], sim: Any) -> dict:
    import online_worker
    from avito_service import aws
    from avito_service.accounts import service
    from avito_service.accounts.models import AccountCreate
    from avito_service.avito import tokens
    from avito_service.observability import logger
    from avito_service.online import worker

    from tests.support.events import FakeContext

    tokens.forget_in_memory()
    account_ids = []
    with quiet_output():
        for n in range(args.worker_accounts):
            body = AccountCreate(
                name=f"Shop {n}",
                clientId=f"eo-bench-{n}",
                clientSecret=f"eo-secret-{n}",
                userId=str(SIM_UID0 + n),
                eternalOnlineEnabled=True,
                onlineKeepAliveInterval=INTERVALS[n % len(INTERVALS)],
            )
            account_ids.append(service.create_account(body).id)

    counter = CallCounter()
    tables = {created["AccountsTable"]: "Accounts", created["MessengerTable"]: "Messenger"}
    counter.install(aws.dynamodb_resource().meta.client, tables)
    counter.install(aws.secrets_client(), tables)

    records: list[dict[str, Any]] = []
    state = {"start": 0.0}
    original = worker.handle_record

    def timed(record: Any) -> Any:
        begin, calls0 = time.perf_counter(), getattr(counter.local, "count", 0)
        aws0 = getattr(counter.local, "aws_seconds", 0.0)
        outcome = "error"
        try:
            outcome = str(original(record))
            return outcome
        finally:
            end = time.perf_counter()
            records.append(
                {
                    "start": begin - state["start"],
                    "end": end - state["start"],
                    "seconds": end - begin,
                    "aws_calls": getattr(counter.local, "count", 0) - calls0,
                    "aws_seconds": getattr(counter.local, "aws_seconds", 0.0) - aws0,
                    "outcome": outcome,
                }
            )

    batch = settings["batch_size"]
    context = FakeContext(function_name="online-worker", memory_limit_in_mb=settings["worker_memory_mb"])
    sink = CountingSink()

    def run(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        invocations = []
        for start in range(0, len(messages), batch):
            event = sqs_event(messages[start : start + batch], start)
            records.clear()
            log0 = sink.bytes
            cpu0 = time.process_time()
            state["start"] = time.perf_counter()
            answer = online_worker.lambda_handler(event, context)
            wall = time.perf_counter() - state["start"]
            invocations.append(
                {
                    "records": len(event["Records"]),
                    "wall_s": wall,
                    "cpu_s": time.process_time() - cpu0,
                    "log_bytes": sink.bytes - log0,
                    "failures": len(answer.get("batchItemFailures", [])),
                    "ends": sorted(r["end"] for r in records),
                    "record_seconds": [r["seconds"] for r in records],
                    "record_aws_calls": [r["aws_calls"] for r in records],
                    "records_detail": sorted(
                        (r["start"], r["seconds"], r["aws_calls"], r["aws_seconds"]) for r in records
                    ),
                    "outcomes": Counter(r["outcome"] for r in records),
                }
            )
        return invocations

    planned_at = int(time.time())
    warm = [{"accountId": a, "plannedAt": planned_at, "generation": 0} for a in account_ids]
    rng = random.Random(args.seed)
    sample = [
        {"accountId": account_ids[n % len(account_ids)], "plannedAt": planned_at, "generation": 0}
        for n in range(args.worker_sample)
    ]
    rng.shuffle(sample)
    worker.handle_record = timed
    handler = logger.registered_handler
    previous = handler.setStream(sink)
    try:
        with contextlib.redirect_stdout(sink):  # type: ignore[type-var]
            warm_up = run(warm)
            counter.calls.clear()
            counter.seconds.clear()
            t0 = time.perf_counter()
            measured = run(sample)
            total_wall = time.perf_counter() - t0
    finally:
        worker.handle_record = original
        handler.setStream(previous)
    calls, seconds = Counter(counter.calls), {k: list(v) for k, v in counter.seconds.items()}
    sim.send(("count", "GET", r"^/messenger/v2/accounts/\d+/chats$"))
    chats_calls = sim.recv()
    sim.send(("count", "POST", r"^/token$"))
    token_calls = sim.recv()
    chat_sizes = [
        item_size(to_wire(i)) for i in aws.table(created["MessengerTable"]).scan(Limit=50)["Items"] if i["sk"] == "CHAT"
    ]
    account_sizes = [item_size(to_wire(service.account_store().get(a))) for a in account_ids[:20]]
    return summarise_worker(
        args,
        measured=measured,
        warm_up=warm_up,
        calls=calls,
        seconds=seconds,
        total_wall=total_wall,
        chats_calls=chats_calls,
        token_calls=token_calls,
        chat_sizes=chat_sizes,
        account_sizes=account_sizes,
    )


def summarise_worker(
    args: argparse.Namespace,
    *,
    measured: list[dict[str, Any]],
    warm_up: list[dict[str, Any]],
    calls: Counter[str],
    seconds: dict[str, list[float]],
    total_wall: float,
    chats_calls: int,
    token_calls: int,
    chat_sizes: list[int],
    account_sizes: list[int],
) -> dict[str, Any]:
    keep_alives = sum(i["records"] for i in measured)
    walls = [i["wall_s"] for i in measured]
    cpus = [i["cpu_s"] for i in measured]
    services = [s for i in measured for s in i["record_seconds"]]
    outcomes: Counter[str] = Counter()
    for i in measured:
        outcomes.update(i["outcomes"])
    from avito_service.online.worker import MAX_PARALLEL

    factor = args.lambda_cpu_factor
    full = [i for i in measured if i["records"] == max(x["records"] for x in measured)]
    lambda_profiles = [lambda_invocation(i, MAX_PARALLEL, ASSUMPTIONS["rtt_s"]["GetItem"], factor) for i in full]
    modelled = [p["wall_s"] for p in lambda_profiles]
    ddb_seconds = [s for label, values in seconds.items() if label.startswith("dynamodb") for s in values]
    return {
        "accounts": args.worker_accounts,
        "keep_alives": keep_alives,
        "invocations": len(measured),
        "warm_up_invocations": len(warm_up),
        "simulator_latency_s": args.sim_latency,
        "outcomes": dict(outcomes),
        "batch_item_failures": sum(i["failures"] for i in measured),
        "wall_s_total": round(total_wall, 2),
        "invocation_wall_ms": {"p50": ms(statistics.median(walls)), "p99": ms(percentile(walls, 99))},
        "invocation_cpu_ms": {"p50": ms(statistics.median(cpus)), "p99": ms(percentile(cpus, 99))},
        "invocation_modelled_lambda_ms": {
            "p50": ms(statistics.median(modelled)),
            "p99": ms(percentile(modelled, 99)),
            "mean": ms(statistics.fmean(modelled)),
        },
        "cpu_bound_share_at_512mb": round(sum(1 for p in lambda_profiles if p["cpu_bound"]) / len(full), 3),
        "keep_alive_service_ms": {
            "p50": ms(statistics.median(services)),
            "p99": ms(percentile(services, 99)),
            "max": ms(max(services)),
        },
        "keep_alives_per_s_per_invocation": round(keep_alives / sum(walls), 1),
        "keep_alives_per_s_per_invocation_modelled": round(
            sum(len(p["ends"]) for p in lambda_profiles) / sum(modelled), 1
        ),
        "aws_calls_per_keep_alive": {k: round(v / keep_alives, 3) for k, v in sorted(calls.items())},
        "dynamodb_call_ms_to_moto_server": {
            "p50": ms(statistics.median(ddb_seconds)) if ddb_seconds else None,
            "p99": ms(percentile(ddb_seconds, 99)) if ddb_seconds else None,
        },
        "log_bytes_per_invocation": round(statistics.fmean(i["log_bytes"] for i in measured)),
        "simulator_chat_listings": chats_calls,
        "simulator_token_requests": token_calls,
        "account_item_bytes": round(statistics.fmean(account_sizes)),
        "chat_item_bytes": round(statistics.fmean(chat_sizes)) if chat_sizes else 0,
        "unread_chats_per_keep_alive": round(
            sum((n % args.worker_accounts) % 4 for n in range(args.worker_sample)) / max(args.worker_sample, 1), 2
        ),
        "profiles": {
            "measured": [{"ends": i["ends"], "wall_s": i["wall_s"]} for i in full],
            "lambda": lambda_profiles,
        },
    }


def lambda_invocation(invocation: dict[str, Any], parallel: int, rtt: float, cpu_factor: float) -> dict[str, Any]:
    """One measured invocation as a 512 MB Lambda would run it: each keep-alive's time with the moto server's
    answer times replaced by ``rtt`` per call, re-run on ``parallel`` threads; then stretched if its CPU time x
    ``cpu_factor`` exceeds that (CPU-bound)."""
    detail = invocation["records_detail"]
    first = detail[0][0]
    tail = invocation["wall_s"] - max(start + took for start, took, *_ in detail)
    threads = [first] * parallel
    ends = []
    for _start, took, calls, aws_seconds in detail:
        begin = heapq.heappop(threads)
        end = begin + max(took - aws_seconds, 0.0) + calls * rtt
        ends.append(end)
        heapq.heappush(threads, end)
    wall = max(ends) + max(tail, 0.0)
    cpu = invocation["cpu_s"] * cpu_factor
    scale = max(1.0, cpu / wall)
    return {"ends": sorted(e * scale for e in ends), "wall_s": wall * scale, "cpu_bound": scale > 1.0}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
