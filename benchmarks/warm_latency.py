"""Warm latency, in-process against moto: p50/p99 of GET /api/v1/accounts/{id}, GET /api/v1/chats (~100 stored
chats) and one webhook delivery, each called ``--calls`` times after one warm-up call."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from benchmarks._common import create_account, moto_stack, quiet_output, summary_ms, table, write_results
from benchmarks._webhook import delivery_body, function_url_event

USER_ID = 1001


def timed(fn: Callable[[int], dict[str, Any]], calls: int) -> tuple[list[float], dict[int, int]]:
    fn(-1)  # warm-up
    samples, statuses = [], {}
    for i in range(calls):
        t0 = time.perf_counter()
        result = fn(i)
        samples.append(time.perf_counter() - t0)
        statuses[result["statusCode"]] = statuses.get(result["statusCode"], 0) + 1
    return samples, statuses


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument(
        "--stock-moto", action="store_true", help="keep moto's whole-table copy per transaction (O(table size))"
    )
    args = parser.parse_args(argv)
    if not args.stock_moto:
        from tests.support import moto_fast_tx as _moto_fast_tx

        _moto_fast_tx.install()

    with moto_stack(), quiet_output():
        import accounts_get
        import chats_list
        import webhook_receiver
        from avito_service.webhooks.tokens import issue_token

        from tests.support.events import FakeContext, api_event

        account = create_account()
        token = issue_token(account.id)
        ctx = FakeContext()
        # ~100 stored chats, one incoming message each, stored through the receiver itself
        for c in range(args.chats):
            body = delivery_body(
                f"seed-{c}",
                f"u2i-warm-{c:03d}",
                user_id=USER_ID,
                author_id=700_000 + c,
                created=1_795_000_000 + c,
                text="hi",
            )
            assert (
                webhook_receiver.lambda_handler(function_url_event(account.id, token, body), ctx)["statusCode"] == 200
            )

        get_event = api_event(
            "GET",
            f"/api/v1/accounts/{account.id}",
            resource="/api/v1/accounts/{id}",
            path_parameters={"id": account.id},
        )
        list_event = api_event("GET", "/api/v1/chats", query={"limit": "50"})

        def deliver(i: int) -> dict[str, Any]:
            body = delivery_body(
                f"warm-{i}",
                f"u2i-warm-{i % args.chats:03d}",
                user_id=USER_ID,
                author_id=800_000,
                created=1_796_000_000 + i,
                text="warm",
            )
            return webhook_receiver.lambda_handler(function_url_event(account.id, token, body), ctx)

        cases = {
            "GET /api/v1/accounts/{id} (accounts_get)": lambda i: accounts_get.lambda_handler(get_event, ctx),
            f"GET /api/v1/chats?limit=50 ({args.chats} chats, chats_list)": lambda i: chats_list.lambda_handler(
                list_event, ctx
            ),
            "POST webhook delivery, new message (webhook_receiver)": deliver,
        }
        results = {}
        for name, fn in cases.items():
            samples, statuses = timed(fn, args.calls)
            results[name] = {**summary_ms(samples), "statuses": statuses}

    print(f"warm latency, in-process, moto, {args.calls} calls each\n")
    print(
        table(
            ["call", "p50 ms", "p99 ms", "mean ms", "statuses"],
            [(k, v["p50_ms"], v["p99_ms"], v["mean_ms"], v["statuses"]) for k, v in results.items()],
        )
    )
    data = {
        "moto_transactions": "stock" if args.stock_moto else "item-level rollback (tests/support/moto_fast_tx.py)",
        "calls": args.calls,
        "stored_chats": args.chats,
        "results": results,
    }
    write_results("warm_latency", data)
    return data


if __name__ == "__main__":
    main()
