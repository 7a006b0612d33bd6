"""Models over the measurements: keep-alive lag (SQS + the Lambda event source), monthly cost, template settings."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import statistics
from collections import Counter, defaultdict
from typing import Any

from benchmarks._common import (
    TEMPLATE,
    percentile,
)
from benchmarks.eternal.constants import ASSUMPTIONS, HOURS_PER_MONTH, PRICES, TARGET_S

# --- lag model -----------------------------------------------------------------------------------------------------


def simulate_lag(
    keep_alives: list[tuple[str, float, float, int]],
    profiles: list[tuple[list[float], float]],
    *,
    concurrency: int,
    batch: int,
    window: float,
    overhead: float,
    seed: int,
) -> dict[str, Any]:
    """keep_alives: (account, planned_at, visible_at, interval). Returns lag and backlog figures."""
    order = sorted(keep_alives, key=lambda k: k[2])
    rng = random.Random(seed)
    free = [order[0][2]] * concurrency if order else []
    heapq.heapify(free)
    done: list[tuple[str, float, float, int]] = []  # account, planned, completed, interval
    events: list[tuple[float, int]] = []
    batches: Counter[int] = Counter()
    durations: list[float] = []
    busy: list[tuple[float, int]] = []
    i, n = 0, len(order)
    while i < n:
        slot_free = heapq.heappop(free)
        first = max(slot_free, order[i][2])
        full_at = order[i + batch - 1][2] if i + batch - 1 < n else math.inf
        ready = max(first, min(first + window, full_at))
        j = i
        while j < n and j - i < batch and order[j][2] <= ready:
            j += 1
        ends, duration = rng.choice(profiles)
        k = j - i
        if k < len(ends):
            duration = ends[k - 1] + (duration - ends[-1])
            ends = ends[:k]
        start = ready + overhead
        for m in range(k):
            account, planned, visible, interval = order[i + m]
            done.append((account, planned, start + ends[m], interval))
            events.append((visible, 1))
            events.append((start, -1))
        busy.append((start, 1))
        busy.append((start + duration, -1))
        batches[k] += 1
        durations.append(duration)
        heapq.heappush(free, start + duration)
        i = j
    lags = [c - p for _, p, c, _ in done]
    gaps: list[float] = []
    by_account: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for account, _p, completed, interval in done:
        by_account[account].append((completed, interval))
    for runs in by_account.values():
        runs.sort()
        gaps.extend(abs(b[0] - a[0] - a[1]) for a, b in itertools.pairwise(runs))
    return {
        "keep_alives": len(done),
        "lag_s": {
            "p50": round(statistics.median(lags), 2),
            "p99": round(percentile(lags, 99), 2),
            "max": round(max(lags), 2),
            "mean": round(statistics.fmean(lags), 2),
        },
        "within_15s": round(sum(1 for v in lags if abs(v) <= TARGET_S) / len(lags), 4),
        "interval_error_s": {
            "p50": round(statistics.median(gaps), 2) if gaps else None,
            "p99": round(percentile(gaps, 99), 2) if gaps else None,
            "max": round(max(gaps), 2) if gaps else None,
            "within_15s": round(sum(1 for g in gaps if g <= TARGET_S) / len(gaps), 4) if gaps else None,
        },
        "peak_backlog": peak(events),
        "peak_concurrency": peak(busy),
        "invocations": sum(batches.values()),
        "mean_batch": round(len(done) / max(sum(batches.values()), 1), 2),
        "mean_invocation_s": round(statistics.fmean(durations), 4),
    }


def peak(events: list[tuple[float, int]]) -> int:
    level = top = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # at equal times, leave before arriving
        level += delta
        top = max(top, level)
    return top


def worker_profiles(worker: dict[str, Any], kind: str) -> list[tuple[list[float], float]]:
    """Invocation profiles (completion offsets, duration): ``measured`` here or modelled for ``lambda``."""
    return [(p["ends"], p["wall_s"]) for p in worker["profiles"][kind]]


# --- cost model ----------------------------------------------------------------------------------------------------


def monthly_cost(
    hour: dict[str, Any],
    worker: dict[str, Any],
    lag: dict[str, Any],
    settings: dict[str, Any],
    *,
    accounts: int,
    account_bytes: int,
) -> dict[str, Any]:
    """Monthly cost of the fleet; account writes priced at the fleet's item size (``account_bytes``)."""
    p = PRICES
    per_hour = {k: v * 12 / len(hour["ticks"]) for k, v in hour["totals"].items()}
    ka_month = per_hour["keep_alives"] * HOURS_PER_MONTH
    ticks_month = 12 * HOURS_PER_MONTH  # rate(5 minutes)
    tick_s = statistics.fmean(t["clock_s"] for t in hour["ticks"])
    worker_invocations = ka_month / lag["mean_batch"]
    worker_s = lag["mean_invocation_s"]
    lambda_requests = ticks_month + worker_invocations
    gb_s = ticks_month * tick_s * settings["tick_memory_mb"] / 1024
    gb_s += worker_invocations * worker_s * settings["worker_memory_mb"] / 1024
    sqs_requests = per_hour["send_message_batch_calls"] * HOURS_PER_MONTH + 2 * worker_invocations
    calls = worker["aws_calls_per_keep_alive"]
    account_rru = math.ceil(account_bytes / 4096)  # consistent GetItem: 1 RRU per 4 KB
    account_wru = 2 * math.ceil(account_bytes / 1024)  # table + byCreatedAt (projection ALL: every change)
    chat_wru = math.ceil(max(worker["chat_item_bytes"], 1) / 1024)
    worker_rru = sum(v for k, v in calls.items() if k.startswith("dynamodb.GetItem")) * account_rru
    worker_wru = calls.get("dynamodb.UpdateItem(Accounts)", 0) * account_wru
    worker_wru += calls.get("dynamodb.UpdateItem(Messenger)", 0) * chat_wru
    rru_month = per_hour["rru"] * HOURS_PER_MONTH + worker_rru * ka_month
    wru_month = per_hour["wru"] * HOURS_PER_MONTH + worker_wru * ka_month
    containers = max(1, lag["peak_concurrency"])
    secret_reads = containers * accounts * HOURS_PER_MONTH / ASSUMPTIONS["worker_container_lifetime_h"]
    log_gb = (
        (worker["log_bytes_per_invocation"] + ASSUMPTIONS["lambda_platform_log_bytes_per_invocation"])
        * worker_invocations
        / 2**30
    )
    lines = [  # (item, quantity, unit price, price as published)
        ("Lambda requests (tick + worker)", lambda_requests, p["lambda_per_1m_requests"] / 1e6, "$0.20 / 1M"),
        ("Lambda GB-s (arm64)", gb_s, p["lambda_per_gb_s_arm64"], "$0.0000133334 / GB-s"),
        (
            "SQS requests (send batches, receive, delete batches)",
            sqs_requests,
            p["sqs_standard_per_1m_requests"] / 1e6,
            "$0.40 / 1M",
        ),
        ("DynamoDB read request units", rru_month, p["dynamodb_on_demand_per_1m_rru"] / 1e6, "$0.125 / 1M"),
        ("DynamoDB write request units", wru_month, p["dynamodb_on_demand_per_1m_wru"] / 1e6, "$0.625 / 1M"),
        ("Secrets Manager GetSecretValue", secret_reads, p["secrets_manager_per_10k_api_calls"] / 1e4, "$0.05 / 10k"),
        ("CloudWatch Logs ingestion (GB)", log_gb, p["cloudwatch_logs_per_gb_ingested"], "$0.50 / GB"),
        ("Secrets Manager secrets stored", accounts, p["secrets_manager_per_secret_month"], "$0.40 / secret"),
    ]
    items = [
        {"item": name, "quantity": qty, "unit_price": price, "price": label, "usd": qty * price}
        for name, qty, price, label in lines
    ]
    return {
        "keep_alives_per_month": ka_month,
        "tick_invocations_per_month": ticks_month,
        "tick_modelled_s": round(tick_s, 2),
        "worker_invocations_per_month": worker_invocations,
        "worker_modelled_s": worker_s,
        "account_item_bytes": account_bytes,
        "per_keep_alive": {"worker_rru": worker_rru, "worker_wru": round(worker_wru, 3)},
        "per_hour_tick": {"rru": per_hour["rru"], "wru": per_hour["wru"]},
        "worker_containers_assumed": containers,
        "items": items,
        "total_usd": sum(i["usd"] for i in items),
        "total_without_secret_storage_usd": sum(i["usd"] for i in items[:-1]),
    }


# --- settings from the template ------------------------------------------------------------------------------------


def template_settings() -> dict[str, Any]:
    from local_runtime.template import load_template

    template = load_template(TEMPLATE)
    defaults = (template.document.get("Globals") or {}).get("Function") or {}
    worker = template.resource("OnlineWorkerFunction")["Properties"]
    tick = template.resource("OnlineTickFunction")["Properties"]
    source = worker["Events"]["Queue"]["Properties"]
    scaling = source.get("ScalingConfig") or {}
    return {
        "tick_memory_mb": int(tick.get("MemorySize", defaults.get("MemorySize", 128))),
        "tick_timeout_s": int(tick.get("Timeout", defaults.get("Timeout", 3))),
        "window_s": int(tick["Environment"]["Variables"].get("SCHEDULE_WINDOW_SECONDS", 300)),
        "worker_memory_mb": int(worker.get("MemorySize", defaults.get("MemorySize", 128))),
        "worker_timeout_s": int(worker.get("Timeout", defaults.get("Timeout", 3))),
        "batch_size": int(source.get("BatchSize", 10)),
        "batching_window_s": float(source.get("MaximumBatchingWindowInSeconds", 0)),
        "max_concurrency": int(scaling.get("MaximumConcurrency") or worker.get("ReservedConcurrentExecutions") or 1000),
        "accounts_table": template.resource("AccountsTable")["Properties"],
    }
