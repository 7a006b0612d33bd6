"""Webhook throughput: N deliveries (30 % repeats, shuffled, ~50 chats) through webhook_receiver.lambda_handler.

In-process, one thread, moto (``mock_aws``) with the template's tables. Checks exactly-once afterwards:
stored messages == unique messages and the sum of ``unreadCount`` == unique incoming messages.

Reports two rates: end-to-end (what this process achieved, moto included) and service-side
``N / (wall - time inside moto)``. moto's backend (its expression parser, item model, JSON serialiser) does not
exist in production; botocore's request building, validation, signing and response parsing happen outside the
stubber and so stay on the service's side, as they do in a Lambda. Both are also given in CPU seconds, which a
loaded machine distorts less than wall time.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
from typing import Any

from benchmarks._common import create_account, moto_stack, quiet_output, summary_ms, table, write_results
from benchmarks._webhook import delivery_body, function_url_event

USER_ID = 1001
TARGET_PER_S = 300


class _GcClock:
    """Wall time of the garbage collector's passes (a ``gc.callbacks`` entry); moto's in-memory tables make
    the heap, and so every full pass, much larger than in a Lambda talking to DynamoDB. Passes that start
    outside moto are counted in the service side's time (``outside_seconds``), not subtracted."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.seconds = 0.0
        self.outside_seconds = 0.0
        self.passes = 0
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            elapsed = time.perf_counter() - self._t0
            self.seconds += elapsed
            if not self.emulator.inside:
                self.outside_seconds += elapsed
            self.passes += 1


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
    parser.add_argument(
        "--containers",
        type=int,
        default=1,
        help="spread deliveries round-robin over K warm containers' ChatStore memory (seen chats, stored "
        "messages), as concurrent Lambda instances would; the token-hash memory stays shared",
    )
    args = parser.parse_args(argv)
    if not args.stock_moto:
        from local_runtime import moto_fast_tx as _moto_fast_tx

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

        from local_runtime.moto_fast_tx import EmulatorClock

        emulator = EmulatorClock().install()
        collector = _GcClock(emulator)
        gc.callbacks.append(collector)
        latencies, statuses, duplicates_answered = [], {}, 0
        receiver_store = chat_store()  # the one the receiver uses (cached per process, like per container)
        memories = [({}, {}) for _ in range(max(1, args.containers))]
        started, cpu_started = time.perf_counter(), time.process_time()
        for i, event in enumerate(events):
            if args.containers > 1:  # what container i % K has seen (private state, benchmark only)
                receiver_store._seen_chats, receiver_store._stored = memories[i % args.containers]
            t0 = time.perf_counter()
            result = webhook_receiver.lambda_handler(event, context)
            latencies.append(time.perf_counter() - t0)
            statuses[result["statusCode"]] = statuses.get(result["statusCode"], 0) + 1
            if result["statusCode"] == 200 and json.loads(result["body"]).get("duplicate"):
                duplicates_answered += 1
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        gc.callbacks.remove(collector)
        moto_s, moto_cpu, aws_calls = emulator.seconds, emulator.cpu_seconds, emulator.calls
        operations = dict(sorted(emulator.operations.items()))  # before the read-back below adds its Queries

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
    service_s, service_cpu = wall - moto_s, cpu - moto_cpu
    service_rate, service_cpu_rate = args.n / service_s, args.n / service_cpu
    excl = {
        "method": "service side = the timed loop minus the time spent inside moto's botocore stubber "
        "(request building, validation, signing, response parsing, Powertools, pydantic and app code stay in)",
        "aws_calls": aws_calls,
        "aws_calls_per_delivery": round(aws_calls / args.n, 2),
        "aws_calls_by_operation": operations,
        "moto_share": round(moto_s / wall, 3),
        "moto_wall_s": round(moto_s, 3),
        "moto_cpu_s": round(moto_cpu, 3),
        "loop_cpu_s": round(cpu, 3),
        "service_wall_s": round(service_s, 3),
        "service_cpu_s": round(service_cpu, 3),
        "service_ms_per_delivery_excluding_moto": round(service_s / args.n * 1000, 3),
        "service_cpu_ms_per_delivery_excluding_moto": round(service_cpu / args.n * 1000, 3),
        "deliveries_per_s_excluding_moto": round(service_rate, 1),
        "deliveries_per_s_excluding_moto_cpu": round(service_cpu_rate, 1),
        "gc_passes": collector.passes,
        "gc_wall_s": round(collector.seconds, 3),
        "gc_wall_s_outside_moto": round(collector.outside_seconds, 3),
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
    print(
        f"webhook_receiver, {args.n} deliveries ({args.n - unique_n} repeats), {len(chats)} chats, one thread, "
        f"{args.containers} simulated warm container(s)\n"
    )
    print(
        table(
            ["end-to-end deliveries/s", "target", "p50 ms", "p99 ms", "wall s", "HTTP statuses"],
            [(f"{rate:.0f}", f">= {TARGET_PER_S}", lat["p50_ms"], lat["p99_ms"], f"{wall:.2f}", statuses)],
        )
    )
    print()
    met = "yes" if service_rate >= TARGET_PER_S else "**no**"
    print(
        table(
            ["", "wall s", "CPU s", "ms/delivery (wall)", "deliveries/s (wall)", "deliveries/s (CPU)"],
            [
                ("end-to-end (moto in-process)", f"{wall:.2f}", f"{cpu:.2f}", lat["mean_ms"], f"{rate:.0f}", ""),
                ("inside moto (emulator backend)", f"{moto_s:.2f}", f"{moto_cpu:.2f}", "", "", ""),
                (
                    f"**service side = N / (wall - moto)**, target >= {TARGET_PER_S}: {met}",
                    f"{service_s:.2f}",
                    f"{service_cpu:.2f}",
                    excl["service_ms_per_delivery_excluding_moto"],
                    f"**{service_rate:.0f}**",
                    f"{service_cpu_rate:.0f}",
                ),
            ],
        )
    )
    print()
    by_operation = ", ".join(f"{op} {count}" for op, count in operations.items())
    print(
        table(
            ["AWS calls", "per delivery", "by operation", "time inside moto", "GC passes (wall s)"],
            [
                (
                    aws_calls,
                    excl["aws_calls_per_delivery"],
                    by_operation,
                    f"{excl['moto_share']:.0%}",
                    f"{collector.passes} ({collector.seconds:.2f}, {collector.outside_seconds:.2f} outside moto)",
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
        "moto_transactions": "stock" if args.stock_moto else "item-level rollback (local_runtime/moto_fast_tx.py)",
        "n": args.n,
        "containers": args.containers,
        "deliveries_per_s": round(rate, 1),
        "deliveries_per_s_service_side": round(service_rate, 1),
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
