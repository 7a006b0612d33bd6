"""Webhook throughput: N deliveries (30 % repeats, shuffled, ~50 chats) through webhook_receiver.lambda_handler.

In-process, one thread, moto (``mock_aws``) with the template's tables. Checks exactly-once afterwards:
stored messages == unique messages and the sum of ``unreadCount`` == unique incoming messages.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from benchmarks._common import create_account, moto_stack, quiet_output, summary_ms, table, write_results
from benchmarks._webhook import delivery_body, function_url_event

USER_ID = 1001
TARGET_PER_S = 300


def build_deliveries(n: int, duplicate_share: float, chats: int, seed: int) -> tuple[list[dict], int, int]:
    """Bodies in delivery order; returns (deliveries, unique messages, unique incoming messages)."""
    rng = random.Random(seed)
    unique_n = round(n * (1 - duplicate_share))
    base_ts = 1_795_700_000
    uniques = []
    for i in range(unique_n):
        incoming = rng.random() < 0.8
        uniques.append(
            {
                "message_id": f"m{i:06d}{rng.getrandbits(32):08x}",
                "chat_id": f"u2i-bench-{rng.randrange(chats):03d}",
                "author_id": 500_000 + rng.randrange(chats) if incoming else USER_ID,
                "created": base_ts + i * 7 + rng.randrange(5),
                "text": f"message {i}",
                "incoming": incoming,
            }
        )
    order = list(uniques)
    rng.shuffle(order)  # out-of-order arrival
    # repeats of earlier deliveries, each inserted somewhere after its first delivery
    for _ in range(n - unique_n):
        first = rng.randrange(len(order))
        order.insert(rng.randrange(first + 1, len(order) + 1), order[first])
    return order, unique_n, sum(1 for m in uniques if m["incoming"])


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--duplicates", type=float, default=0.3)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--stock-moto", action="store_true", help="keep moto's whole-table copy per transaction (O(table size))"
    )
    args = parser.parse_args(argv)
    if not args.stock_moto:
        from benchmarks import _moto_fast_tx

        _moto_fast_tx.install()

    with moto_stack(), quiet_output():
        import webhook_receiver
        from avito_service.messenger.store import chat_store
        from avito_service.webhooks.tokens import issue_token

        from tests.support.events import FakeContext

        account = create_account()
        token = issue_token(account.id)
        order, unique_n, unique_in = build_deliveries(args.n, args.duplicates, args.chats, args.seed)
        events = [
            function_url_event(
                account.id,
                token,
                delivery_body(
                    m["message_id"],
                    m["chat_id"],
                    user_id=USER_ID,
                    author_id=m["author_id"],
                    created=m["created"],
                    text=m["text"],
                ),
            )
            for m in order
        ]
        context = FakeContext(function_name="webhook-receiver")
        # one warm-up request (a probe: stores nothing) so the first timed call is a warm call
        webhook_receiver.lambda_handler(function_url_event(account.id, token, "{}"), context)

        from benchmarks._moto_fast_tx import EmulatorClock

        emulator = EmulatorClock().install()
        latencies, statuses, duplicates_answered = [], {}, 0
        started = time.perf_counter()
        for event in events:
            t0 = time.perf_counter()
            result = webhook_receiver.lambda_handler(event, context)
            latencies.append(time.perf_counter() - t0)
            statuses[result["statusCode"]] = statuses.get(result["statusCode"], 0) + 1
            if result["statusCode"] == 200 and json.loads(result["body"]).get("duplicate"):
                duplicates_answered += 1
        wall = time.perf_counter() - started
        moto_s, aws_calls = emulator.seconds, emulator.calls

        store = chat_store()
        chats, cursor = [], None
        while True:
            page, cursor = store.list_chats(account.id, False, 100, cursor)
            chats.extend(page)
            if not cursor:
                break
        stored_messages = 0
        for chat in chats:
            cursor = None
            while True:
                msgs, cursor = store.list_messages(chat.id, 100, cursor)
                stored_messages += len(msgs)
                if not cursor:
                    break
        unread_sum = sum(c.unreadCount for c in chats)

    rate = args.n / wall
    service_s = wall - moto_s
    excl = {
        "aws_calls": aws_calls,
        "aws_calls_per_delivery": round(aws_calls / args.n, 2),
        "moto_share": round(moto_s / wall, 3),
        "service_ms_per_delivery_excluding_moto": round(service_s / args.n * 1000, 3),
        "deliveries_per_s_excluding_moto": round(args.n / service_s, 1),
    }
    lat = summary_ms(latencies)
    checks = {
        "stored_messages": stored_messages,
        "unique_messages": unique_n,
        "messages_ok": stored_messages == unique_n,
        "unread_sum": unread_sum,
        "unique_incoming": unique_in,
        "unread_ok": unread_sum == unique_in,
        "duplicates_answered": duplicates_answered,
        "duplicates_sent": args.n - unique_n,
        "chats": len(chats),
        "statuses": statuses,
    }
    print(f"webhook_receiver, {args.n} deliveries ({args.n - unique_n} repeats), {len(chats)} chats, one thread\n")
    print(
        table(
            ["deliveries/s", "target", "p50 ms", "p99 ms", "wall s", "HTTP statuses"],
            [(f"{rate:.0f}", f">= {TARGET_PER_S}", lat["p50_ms"], lat["p99_ms"], f"{wall:.2f}", statuses)],
        )
    )
    print()
    print(
        table(
            ["AWS calls/delivery", "time inside moto", "service ms/delivery excl. moto", "deliveries/s excl. moto"],
            [
                (
                    excl["aws_calls_per_delivery"],
                    f"{excl['moto_share']:.0%}",
                    excl["service_ms_per_delivery_excluding_moto"],
                    excl["deliveries_per_s_excluding_moto"],
                )
            ],
        )
    )
    print()
    print(
        table(
            ["check", "stored", "expected", "ok"],
            [
                ("messages stored == unique messages", stored_messages, unique_n, checks["messages_ok"]),
                ("sum unreadCount == unique incoming", unread_sum, unique_in, checks["unread_ok"]),
                (
                    "answered duplicate:true == repeats sent",
                    duplicates_answered,
                    args.n - unique_n,
                    duplicates_answered == args.n - unique_n,
                ),
            ],
        )
    )
    data = {
        "moto_transactions": "stock" if args.stock_moto else "item-level rollback (benchmarks/_moto_fast_tx.py)",
        "n": args.n,
        "deliveries_per_s": round(rate, 1),
        "target_per_s": TARGET_PER_S,
        "wall_s": round(wall, 3),
        "latency": lat,
        "excluding_emulator": excl,
        "exactly_once": checks,
    }
    write_results("webhook_throughput", data)
    return data


if __name__ == "__main__":
    main()
