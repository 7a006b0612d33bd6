"""Chat workflow (issue 25): delivery -> ``avito-chat-assigned`` latency and waiting alerts' lateness through the
local stack, and the workflow's monthly cost.

``python -m benchmarks.workflow [--per-minute 1000] [--seconds 60] [--accounts 9] [--operators 13]``

1. The local stack (template.yaml, moto, the stream poller, the one-time schedules poller) with the Avito simulator,
   ``--accounts`` accounts subscribed to webhooks, their routing set (round robin on the even ones, least busy with a
   cap of 200 on the odd ones) and ``waitAlertMinutes: [1]`` (a short threshold for the run), ``--operators``
   operators connected over WebSocket (available: a live connection, not away) and one director.
2. After one warm-up delivery per account (not measured), the simulator POSTs ``--per-minute`` deliveries a minute
   for ``--seconds`` seconds, each a client's first message in a new chat, spread evenly over the accounts, from a
   pool of 8 senders paced to the planned moments.
3. For each chat: the time from the start of its delivery POST to its ``avito-chat-assigned`` frame (assignee set) at
   an operator's connection; and, since nobody answers, the lateness of its ``avito-chat-waiting`` frame at the
   director after the threshold (``awaitingReplySince + 1 min``). Goals: assignment p95 <= 1 s, alerts p95 <= 10 s.
4. Monthly cost of the workflow in AWS per 10,000 waiting chats and per 1,000 new chats a day, from list prices.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._common import machine, percentile, table, write_results

# AWS list prices, us-east-1, as published in 2025 (no free tier).
SCHEDULER_INVOCATION_PRICE = 1.00 / 1_000_000  # EventBridge Scheduler, per invocation (schedules themselves free)
LAMBDA_REQUEST_PRICE = 0.20 / 1_000_000
LAMBDA_GB_SECOND_ARM = 0.0000133334
DYNAMODB_READ_PRICE = 0.125 / 1_000_000  # per read request unit (on demand)
DYNAMODB_WRITE_PRICE = 0.625 / 1_000_000  # per write request unit (on demand)
WS_MESSAGE_PRICE = 1.00 / 1_000_000

THRESHOLD_MINUTES = 1
CHAT_WRITE_UNITS = 14  # a chat item (~2 KB: 2 units) and its copies in up to 6 indexes (DEPLOYMENT.md)
SENDERS = 8


def _stats(values: list[float], unit: float = 1000.0) -> dict[str, float]:
    scaled = [v * unit for v in values]
    if not scaled:
        return {"n": 0}
    return {
        "n": len(scaled),
        "p50": round(percentile(scaled, 50), 1),
        "p95": round(percentile(scaled, 95), 1),
        "max": round(max(scaled), 1),
    }


def _load() -> str:
    with contextlib.suppress(OSError):
        return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()
    return "?"


def run(per_minute: int, seconds: int, accounts: int, operators: int) -> dict[str, Any]:
    import requests
    from avito_service.auth import mint

    from avito_sim import AvitoSimulator
    from tests.support.live import LiveClient
    from tests.support.stack import loopback_stack

    with tempfile.TemporaryDirectory(prefix="workflow-bench-") as tmp, contextlib.ExitStack() as exits:
        devnull = exits.enter_context(open(os.devnull, "w"))
        sim = AvitoSimulator()
        sim.start()
        exits.callback(sim.stop)
        stack = loopback_stack(sim.base_url, Path(tmp) / "local.log", schedule_seconds=3600)
        with contextlib.redirect_stderr(devnull):
            stack.start()
            exits.callback(stack.stop)
        secret = stack.jwt_secret or ""
        headers = {"Authorization": "Bearer " + mint(secret, sub="bench-admin", role="admin")}
        base = f"{stack.api_url}/api/v1/accounts"
        users: list[int] = []
        for index in range(accounts):
            user = 7500 + index
            sim.add_account(f"wf-{index}", f"wf-secret-{index}", user, name=f"Магазин {index}")
            body = {"name": f"Магазин {index}", "clientId": f"wf-{index}", "clientSecret": f"wf-secret-{index}"}
            account = requests.post(base, json=body, headers=headers, timeout=60).json()["data"]
            requests.post(f"{base}/{account['id']}/check-connection", headers=headers, timeout=60)
            requests.post(f"{base}/{account['id']}/webhook", headers=headers, timeout=60).raise_for_status()
            routing = {"mode": "round_robin"} if index % 2 == 0 else {"mode": "least_busy", "maxOpenPerOperator": 200}
            answer = requests.put(
                f"{base}/{account['id']}/routing",
                json={**routing, "waitAlertMinutes": [THRESHOLD_MINUTES]},
                headers=headers,
                timeout=60,
            )
            answer.raise_for_status()
            users.append(user)
        clients = []
        for index in range(operators):
            token = mint(secret, sub=f"wf-op{index}", role="operator")
            client = LiveClient(stack.ws_url, token, name=f"op{index}")
            exits.callback(client.close)
            client.request({"action": "ping"}, "pong", timeout=60)
            clients.append(client)
        director = LiveClient(stack.ws_url, mint(secret, sub="wf-director", role="director"), name="director")
        exits.callback(director.close)
        director.request({"action": "ping"}, "pong", timeout=60)
        observer = clients[0]  # avito-chat-assigned goes to everyone who sees the account
        for user in users:  # warm the functions (webhook, fan-out, alert) on every account before measuring
            chat_id = f"u2i-warm-{user}"
            sim.add_chat(user, chat_id, item_id=4300000000 + user, item_title="Стул", client_name="Разминка")
            sim.incoming_message(user, chat_id, "Разминка")
            observer.wait_for(
                lambda f, c=chat_id: f.get("event") == "avito-chat-assigned" and f["data"].get("chatId") == c,
                timeout=300,
            )

        total = per_minute * seconds // 60
        interval = 60.0 / per_minute
        plan = []
        for index in range(total):
            user = users[index % accounts]
            chat_id = f"u2i-wf-{index:05d}"
            sim.add_chat(user, chat_id, item_id=4400000000 + index, item_title="Диван", client_name="Покупатель")
            plan.append((user, chat_id, f"wf-m-{index:05d}"))
        started: dict[str, float] = {}
        created: dict[str, int] = {}
        post_seconds: list[float] = []
        failed: list[str] = []
        lock = threading.Lock()

        def send(user: int, chat_id: str, message_id: str) -> None:
            stamp = int(time.time())
            sim.add_message(user, chat_id, message_id, "Здравствуйте, ещё продаёте?", created=stamp)
            value = sim.webhook_value(user, chat_id, message_id)
            begin = time.perf_counter()
            with lock:
                started[chat_id], created[chat_id] = begin, stamp
            [(_, status)] = sim.deliver(user, value)
            with lock:
                post_seconds.append(time.perf_counter() - begin)
                if status != 200:
                    failed.append(chat_id)

        clock_offset = time.time() - time.perf_counter()
        load_before = _load()
        t0 = time.perf_counter() + 1
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            futures = []
            for index, item in enumerate(plan):
                delay = t0 + index * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(send, *item))
            for future in futures:
                future.result()
        sent_seconds = time.perf_counter() - t0
        load_during = _load()

        def assigned() -> dict[str, tuple[float, str]]:
            found: dict[str, tuple[float, str]] = {}
            for arrival, frame in list(observer.received):
                data = frame.get("data") or {}
                if frame.get("event") == "avito-chat-assigned" and data.get("assignee") and data["chatId"] in started:
                    found.setdefault(data["chatId"], (arrival, data["assignee"]["userId"]))
            return found

        def waiting() -> dict[str, float]:
            found: dict[str, float] = {}
            for arrival, frame in list(director.received):
                data = frame.get("data") or {}
                if frame.get("event") == "avito-chat-waiting" and data.get("chatId") in started:
                    found.setdefault(data["chatId"], arrival)
            return found

        deadline = time.monotonic() + THRESHOLD_MINUTES * 60 + 180
        while time.monotonic() < deadline and (len(assigned()) < total or len(waiting()) < total):
            time.sleep(1)
        got_assigned, got_waiting = assigned(), waiting()
        to_assignment = [arrival - started[chat] for chat, (arrival, _) in got_assigned.items()]
        lateness = [
            arrival + clock_offset - (created[chat] + THRESHOLD_MINUTES * 60) for chat, arrival in got_waiting.items()
        ]
        per_operator: dict[str, int] = {}
        for _, who in got_assigned.values():
            per_operator[who] = per_operator.get(who, 0) + 1
        spread = {"min": min(per_operator.values(), default=0), "max": max(per_operator.values(), default=0)}
    return {
        "deliveries": total,
        "per_minute_planned": per_minute,
        "per_minute_sent": round(total / sent_seconds * 60, 1),
        "accounts": accounts,
        "operators": operators,
        "threshold_minutes": THRESHOLD_MINUTES,
        "delivery_failed": len(failed),
        "webhook_post_ms": _stats(post_seconds),
        "delivery_to_assigned_ms": _stats(to_assignment),
        "assigned_within_1s_pct": round(100 * sum(1 for d in to_assignment if d <= 1) / max(1, len(to_assignment)), 1),
        "not_assigned": total - len(got_assigned),
        "alert_lateness_s": _stats(lateness, unit=1.0),
        "alerts_missing": total - len(got_waiting),
        "chats_per_operator": spread,
        "load_before": load_before,
        "load_during": load_during,
        "load_after": _load(),
    }


def monthly_cost(waiting_chats: int = 10_000, new_chats_per_day: int = 1_000, operators: int = 13) -> dict[str, Any]:
    """A model (not a measurement) of what the workflow adds, from the counted calls of the code:

    - a waiting period: one schedule per threshold reached (3 by default: create free, one Scheduler invocation,
      one WorkflowAlertFunction run of ~50 ms at 512 MB, one conditional UpdateItem of the chat item ~1 KB: 1 WRU;
      its stream record runs the fan-out once more: 1 GetItem of the routing, a frame per viewer; the alert
      function reads the routing too, to alert only at thresholds still set);
    - a new chat: the workflow's GetItem (1 RRU, consistent) + UpdateItem (<= 14 WRU) after the message's
      transaction, the fan-out's auto-assignment (routing GetItem, presence
      BatchGetItem, round-robin ADD or least-busy COUNT queries, the assignment UpdateItem + GSIs), one
      ``avito-chat-assigned`` frame per viewer;
    - an operator's offline grace: one schedule per last disconnect (~12 a day: API Gateway's 2-hour limit).
    """
    days = 30
    thresholds = 3
    period_runs = waiting_chats * thresholds
    new_chats = new_chats_per_day * days
    grace = operators * 12 * days
    lambda_gb_s = (period_runs + grace) * 0.05 * 0.5 + new_chats * 0.05 * 0.5  # alert runs; assignment in fan-out
    items = {
        "Scheduler invocations (alerts, offline grace)": (period_runs + grace) * SCHEDULER_INVOCATION_PRICE,
        "Lambda requests (WorkflowAlertFunction)": (period_runs + grace) * LAMBDA_REQUEST_PRICE,
        "Lambda GB-s (alert runs; assignment in the fan-out)": lambda_gb_s * LAMBDA_GB_SECOND_ARM,
        "DynamoDB writes (<=14 WRU a chat write: ~2 KB x the table and up to 6 index copies)": (
            period_runs * CHAT_WRITE_UNITS + new_chats * 2 * CHAT_WRITE_UNITS + grace * 1
        )
        * DYNAMODB_WRITE_PRICE,
        "DynamoDB reads (per new chat: chat, routing, presence, load ~16 RRU; per alert: routing twice)": (
            new_chats * 16 + period_runs * 2
        )
        * DYNAMODB_READ_PRICE,
        "WebSocket frames (assigned + waiting to ~operators + 2 supervisors)": (
            new_chats * (operators + 2) + period_runs * 3
        )
        * WS_MESSAGE_PRICE,
    }
    return {
        "waiting_chats_per_month": waiting_chats,
        "new_chats_per_day": new_chats_per_day,
        "items_usd": {name: round(value, 2) for name, value in items.items()},
        "total_usd": round(sum(items.values()), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-minute", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--accounts", type=int, default=9)
    parser.add_argument("--operators", type=int, default=13)
    args = parser.parse_args(argv)
    result = run(args.per_minute, args.seconds, args.accounts, args.operators)
    cost = monthly_cost(operators=args.operators)
    a, w, p = result["delivery_to_assigned_ms"], result["alert_lateness_s"], result["webhook_post_ms"]

    def row(name: str, stats: dict[str, float], goal: str) -> list[Any]:
        return [name, stats.get("n"), stats.get("p50"), stats.get("p95"), stats.get("max"), goal]

    print(
        table(
            ["measure", "n", "p50", "p95", "max", "goal"],
            [
                ["webhook POST (ms)", p.get("n"), p.get("p50"), p.get("p95"), p.get("max"), "-"],
                [
                    "delivery -> avito-chat-assigned (ms)",
                    a.get("n"),
                    a.get("p50"),
                    a.get("p95"),
                    a.get("max"),
                    "p95 <= 1000",
                ],
                [
                    "alert lateness after threshold (s)",
                    w.get("n"),
                    w.get("p50"),
                    w.get("p95"),
                    w.get("max"),
                    "p95 <= 10",
                ],
            ],
        )
    )
    print(
        f"\n{result['deliveries']} deliveries at {result['per_minute_sent']}/min over {result['accounts']} accounts, "
        f"{result['operators']} operators; not assigned {result['not_assigned']}, alerts missing "
        f"{result['alerts_missing']}, failed POSTs {result['delivery_failed']}; chats per operator "
        f"{result['chats_per_operator']}; load {result['load_before']} -> {result['load_during']} -> "
        f"{result['load_after']}\n"
    )
    print(table(["item", "USD / month"], [*cost["items_usd"].items(), ["total", cost["total_usd"]]]))
    path = write_results("workflow", {"run": result, "monthly_cost": cost, "host": machine()})
    print(f"\nresults: {path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
