"""Live updates: delivery -> frame latency through the local runtime, fan-out cost per message, monthly cost.

``python -m benchmarks.live_updates [--deliveries 200] [--clients 20] [--fanout 10,100,1000]``

1. Latency: the local stack (template.yaml) with the Avito simulator, ``--clients`` WebSocket clients
   connected; the simulator POSTs ``--deliveries`` webhook deliveries one after the other; for each, the
   time from the start of the POST to the arrival of ``avito-new-message`` at each client (and at the last
   of them). Everything runs on this machine: moto, the stream poller (polls every 0.2 s, as Lambda's
   four polls a second), workers, the clients.
2. Fan-out cost: ``WsFanoutFunction``'s work in-process against moto (its management API accepts any
   connection id) for one stored incoming message (two stream records: the message, its chat) at 10, 100
   and 1,000 open connections: management API calls and time per message.
3. Monthly cost of live updates in AWS for 50 operators and 20,000 messages a day, from AWS list prices.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import moto_stack, percentile, quiet_output, table, write_results

# AWS list prices, us-east-1, as published in 2025 (no free tier).
WS_MESSAGE_PRICE = 1.00 / 1_000_000  # API Gateway WebSocket messages (first billion), per 32 KB
WS_CONNECTION_MINUTE_PRICE = 0.25 / 1_000_000
LAMBDA_REQUEST_PRICE = 0.20 / 1_000_000
LAMBDA_GB_SECOND_ARM = 0.0000133334
DYNAMODB_READ_PRICE = 0.125 / 1_000_000
DYNAMODB_WRITE_PRICE = 0.625 / 1_000_000


def _ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1),
    }


def latency(deliveries: int, clients: int) -> dict[str, Any]:
    from avito_service.auth import mint

    from avito_sim import AvitoSimulator
    from tests.support.live import LiveClient, event_for
    from tests.support.stack import loopback_stack

    user, chat = 7401, "u2i-bench-live"
    with tempfile.TemporaryDirectory(prefix="live-bench-") as tmp, contextlib.ExitStack() as exits:
        devnull = exits.enter_context(open(os.devnull, "w"))
        sim = AvitoSimulator()
        sim.start()
        exits.callback(sim.stop)
        sim.add_account("bench-live", "bench-live-secret", user, name="Bench live")
        sim.add_chat(user, chat, item_id=4300000001, item_title="Стол", client_name="Олег", client_user_id=91)
        stack = loopback_stack(sim.base_url, Path(tmp) / "local.log", schedule_seconds=3600)
        with contextlib.redirect_stderr(devnull):
            stack.start()
            exits.callback(stack.stop)
            import requests

            headers = {"Authorization": "Bearer " + mint(stack.jwt_secret or "", sub="bench", role="admin")}
            base = f"{stack.api_url}/api/v1/accounts"
            body = {"name": "Bench live", "clientId": "bench-live", "clientSecret": "bench-live-secret"}
            account = requests.post(base, json=body, headers=headers, timeout=60).json()["data"]
            requests.post(f"{base}/{account['id']}/check-connection", headers=headers, timeout=60)
            requests.post(f"{base}/{account['id']}/webhook", headers=headers, timeout=60)
            live = []
            for index in range(clients):
                token = mint(stack.jwt_secret or "", sub=f"op{index}", role="operator")
                client = LiveClient(stack.ws_url, token, name=f"c{index}")
                exits.callback(client.close)
                client.request({"action": "ping"}, "pong", timeout=60)
                live.append(client)
            for warm in range(3):  # warm workers (webhook, fan-out) before measuring
                message, _ = sim.incoming_message(user, chat, f"warm {warm}")
                for client in live:
                    client.wait_for(event_for("avito-new-message", message_id=message["id"]), timeout=60)
            per_frame, per_delivery, post_seconds = [], [], []
            for index in range(deliveries):
                starts = [len(c.received) for c in live]
                message_id = f"bench-{index:04d}"
                sim.add_message(user, chat, message_id, f"Сообщение {index}")
                started = time.perf_counter()
                [(_, status)] = sim.deliver(user, sim.webhook_value(user, chat, message_id))
                for _retry in range(3):  # no answer within the simulator's 5 s: Avito delivers again
                    if status is not None:
                        break
                    [(_, status)] = sim.deliver(user, sim.webhook_value(user, chat, message_id))
                post_seconds.append(time.perf_counter() - started)
                assert status == 200, status
                arrivals = []
                for client, start in zip(live, starts, strict=True):
                    frame = client.wait_for(event_for("avito-new-message", message_id=message_id), 60, after=start)
                    arrivals.append(next(t for t, f in client.received[start:] if f is frame))
                per_frame += [arrival - started for arrival in arrivals]
                per_delivery.append(max(arrivals) - started)
    return {
        "deliveries": deliveries,
        "clients": clients,
        "webhook_post": _ms(post_seconds),
        "frame_at_each_client": _ms(per_frame),
        "frame_at_all_clients": _ms(per_delivery),
        "within_2s_pct": round(100 * sum(1 for d in per_delivery if d <= 2) / len(per_delivery), 1),
    }


def fanout_cost(sizes: list[int]) -> dict[str, Any]:
    results = {}
    with moto_stack() as created:
        import boto3

        os.environ["CONNECTIONS_TABLE"] = created["ConnectionsTable"]
        os.environ["WEBSOCKET_MANAGEMENT_URL"] = "https://benchws.execute-api.us-east-1.amazonaws.com/prod"
        from avito_service.accounts import service as accounts_service
        from avito_service.accounts.models import AccountCreate
        from avito_service.auth import Identity
        from avito_service.live import fanout
        from avito_service.live import store as connections
        from avito_service.messenger.store import chat_store

        from local_runtime.streams import lambda_record
        from tests.support.events import FakeContext

        # botocore's default endpoint for this service is not one moto's in-process mock routes: name moto's
        streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
        stream_arn = boto3.client("dynamodb").describe_table(TableName=created["MessengerTable"])["Table"][
            "LatestStreamArn"
        ]
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        seen = 0
        opened = 0
        # writers store messages only for an account that exists (deletion is atomic)
        account_id = accounts_service.create_account(
            AccountCreate(name="Bench", clientId="bench-client", clientSecret="bench-secret", userId="1")
        ).id
        for size in sizes:
            while opened < size:
                connections.open_connection(f"conn-{opened:05d}=", Identity(f"op{opened}", "operator", 4_000_000_000))
                opened += 1
            timings, posts = [], []
            for run in range(5):
                chat_store().save_messages(
                    account_id,
                    "1",
                    f"u2i-fan-{size}-{run}",
                    [
                        {
                            "id": f"m-{size}-{run}",
                            "author_id": 2,
                            "created": 1796200000 + run,
                            "type": "text",
                            "content": {"text": "Здравствуйте"},
                        }
                    ],
                )
                iterator = streams.get_shard_iterator(
                    StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
                )
                records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"][seen:]
                seen += len(records)
                event = {"Records": [lambda_record(r, stream_arn, "us-east-1") for r in records]}
                audience = fanout.Audience(list(connections.open_connections()))
                started = time.perf_counter()
                answer = fanout.handle_batch(event, FakeContext(), audience)
                timings.append(time.perf_counter() - started)
                assert answer == {"batchItemFailures": []}, answer
                posts.append(audience.posts)
            results[str(size)] = {
                "records_per_message": len(event["Records"]),
                "management_calls_per_message": posts[-1],
                "ms_per_message_median": round(sorted(timings)[len(timings) // 2] * 1000, 1),
            }
    return results


def monthly_cost(operators: int = 50, messages_per_day: int = 20_000, share_incoming: float = 0.6) -> dict[str, Any]:
    """A model (not a measurement): every operator connected around the clock, no account filter."""
    days = 30
    messages = messages_per_day * days
    frames_per_message = 2 + share_incoming  # new-message + chat-updated (+ notification when incoming)
    frames = messages * frames_per_message * operators
    pings = operators * (60 / 5) * 24 * days  # a ping every 5 minutes keeps a connection past the 10-min idle limit
    connection_minutes = operators * 24 * 60 * days
    connects = operators * (24 / 2) * days  # API Gateway closes a connection after 2 hours
    # fan-out: ~2 stream records per message (message + chat), ~1.5 records per invocation at this rate
    fanout_invocations = messages * 2 / 1.5
    fanout_seconds = 0.05 + frames_per_message * operators * 0.02 / 32 * 1.5  # posts in 32 threads, ~20 ms each
    items = {
        "API Gateway messages (frames to clients)": frames * WS_MESSAGE_PRICE,
        "API Gateway messages (pings and pongs)": 2 * pings * WS_MESSAGE_PRICE,
        "API Gateway connection minutes": connection_minutes * WS_CONNECTION_MINUTE_PRICE,
        "Lambda requests (fan-out, $default, $connect, $disconnect)": (fanout_invocations + pings + 2 * connects)
        * LAMBDA_REQUEST_PRICE,
        "Lambda GB-s (fan-out 512 MB; others ~20 ms)": (
            fanout_invocations * fanout_seconds * 0.5 + (pings + 2 * connects) * 0.02 * 0.5
        )
        * LAMBDA_GB_SECOND_ARM,
        "DynamoDB reads (one connections scan per fan-out, ~1 RRU)": fanout_invocations * DYNAMODB_READ_PRICE,
        "DynamoDB writes (connect, disconnect, subscribe)": 2 * connects * DYNAMODB_WRITE_PRICE,
    }
    return {
        "operators": operators,
        "messages_per_day": messages_per_day,
        "frames_per_month": int(frames),
        "items_usd": {name: round(value, 2) for name, value in items.items()},
        "total_usd": round(sum(items.values()), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--fanout", default="10,100,1000")
    args = parser.parse_args(argv)
    with quiet_output():
        fan = fanout_cost([int(n) for n in args.fanout.split(",")])
    lat = latency(args.deliveries, args.clients)
    cost = monthly_cost()
    print(
        table(
            ["measure", "n", "p50 ms", "p95 ms", "max ms"],
            [
                [name, lat[name]["n"], lat[name]["p50_ms"], lat[name]["p95_ms"], lat[name]["max_ms"]]
                for name in ("webhook_post", "frame_at_each_client", "frame_at_all_clients")
            ],
        )
    )
    print(f"\nall {args.clients} clients within 2 s of the POST: {lat['within_2s_pct']} %\n")
    print(
        table(
            ["connections", "stream records", "management API calls", "ms per message (moto)"],
            [
                [size, v["records_per_message"], v["management_calls_per_message"], v["ms_per_message_median"]]
                for size, v in fan.items()
            ],
        )
    )
    print("\n" + table(["item", "USD / month"], [*cost["items_usd"].items(), ["total", cost["total_usd"]]]))
    path = write_results("live_updates", {"latency": lat, "fanout": fan, "monthly_cost": cost})
    print(f"\nresults: {path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
