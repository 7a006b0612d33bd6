"""Warm latency of GET /api/v1/accounts/{id}, GET /api/v1/chats?limit=50 (~100 stored chats) and one webhook
delivery, each called ``--calls`` times after a warm-up: first in-process against moto (the handlers called
directly), then through the local runtime over HTTP (``local_runtime.LocalStack``: HTTP server, the runtime's
authorizer, one worker process per function, moto server over HTTP); ``--no-http`` skips the second part."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import create_account, moto_stack, quiet_output, summary_ms, table, write_results
from benchmarks._webhook import delivery_body, function_url_event

USER_ID = 1001
HTTP_CLIENT_ID, HTTP_CLIENT_SECRET = "bench-http-client", "bench-http-secret"
HEADERS = ["call", "p50 ms", "p99 ms", "mean ms", "statuses"]


def timed(fn: Callable[[int], int], calls: int, warmup: int = 1) -> tuple[list[float], dict[int, int]]:
    """``fn(i)`` returns an HTTP status; warm-up calls get negative ``i`` and are not counted."""
    for w in range(warmup):
        fn(-1 - w)
    samples, statuses = [], {}
    for i in range(calls):
        t0 = time.perf_counter()
        status = fn(i)
        samples.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
    return samples, statuses


def measure(cases: dict[str, Callable[[int], int]], calls: int, warmup: int) -> dict[str, dict[str, Any]]:
    results = {}
    for name, fn in cases.items():
        samples, statuses = timed(fn, calls, warmup)
        third = max(1, len(samples) // 3)
        slowest = sorted(range(len(samples)), key=samples.__getitem__)[-5:][::-1]
        results[name] = {
            **summary_ms(samples),
            "warmup_calls": warmup,
            "statuses": statuses,
            # drift over the run (a growing table) and the tail: where the slowest calls fell
            "p50_ms_by_thirds": [summary_ms(samples[k : k + third])["p50_ms"] for k in range(0, third * 3, third)],
            "slowest": [{"call": i, "ms": round(samples[i] * 1000, 3)} for i in slowest],
        }
    return results


def print_table(title: str, results: dict[str, dict[str, Any]]) -> None:
    print(f"{title}\n")
    print(table(HEADERS, [(k, v["p50_ms"], v["p99_ms"], v["mean_ms"], v["statuses"]) for k, v in results.items()]))
    print(flush=True)


def seed_body(c: int) -> str:
    """One incoming message in chat ``c`` (the ~100 stored chats)."""
    return delivery_body(
        f"seed-{c}", f"u2i-warm-{c:03d}", user_id=USER_ID, author_id=700_000 + c, created=1_795_000_000 + c, text="hi"
    )


def warm_body(i: int, chats: int) -> str:
    """A new message (never seen before) in one of the stored chats: the measured webhook delivery."""
    return delivery_body(
        f"warm-{i}",
        f"u2i-warm-{i % chats:03d}",
        user_id=USER_ID,
        author_id=800_000,
        created=1_796_000_000 + i,
        text="warm",
    )


# ---------------------------------------------------------------------------------------------- in-process


def run_in_process(calls: int, chats: int, stock_moto: bool) -> dict[str, dict[str, Any]]:
    if not stock_moto:
        from local_runtime import moto_fast_tx as _moto_fast_tx

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
        for c in range(chats):
            event = function_url_event(account.id, token, seed_body(c))
            assert webhook_receiver.lambda_handler(event, ctx)["statusCode"] == 200

        get_event = api_event(
            "GET",
            f"/api/v1/accounts/{account.id}",
            resource="/api/v1/accounts/{id}",
            path_parameters={"id": account.id},
        )
        list_event = api_event("GET", "/api/v1/chats", query={"limit": "50"})

        def deliver(i: int) -> int:
            event = function_url_event(account.id, token, warm_body(i, chats))
            return int(webhook_receiver.lambda_handler(event, ctx)["statusCode"])

        cases: dict[str, Callable[[int], int]] = {
            "GET /api/v1/accounts/{id} (accounts_get)": lambda i: int(
                accounts_get.lambda_handler(get_event, ctx)["statusCode"]
            ),
            f"GET /api/v1/chats?limit=50 ({chats} chats, chats_list)": lambda i: int(
                chats_list.lambda_handler(list_event, ctx)["statusCode"]
            ),
            "POST webhook delivery, new message (webhook_receiver)": deliver,
        }
        return measure(cases, calls, warmup=1)


# ---------------------------------------------------------------------------------------------- over HTTP


@contextlib.contextmanager
def saved_environ() -> Iterator[None]:
    """The in-process part rewrites os.environ (Lambda env, moto); give the local runtime the original back."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _connections(session: Any) -> int:
    """TCP connections the session opened (1 per host when keep-alive works)."""
    pools = session.get_adapter("http://").poolmanager.pools
    keys = pools.keys()  # RecentlyUsedContainer: no __iter__
    return sum(pools[key].num_connections for key in keys)


def _messenger_items(stack: Any) -> int:
    table_name = stack.physical_ids["MessengerTable"]
    return int(stack.client("dynamodb").describe_table(TableName=table_name)["Table"]["ItemCount"])


def run_http(calls: int, chats: int, warmup: int) -> dict[str, Any]:
    from avito_sim import AvitoSimulator

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="warm-latency-") as tmp, contextlib.ExitStack() as exits:
        log_file = Path(tmp) / "local.log"
        # The runtime's log sink copies every worker line to stderr; keep them in the log file only.
        devnull = exits.enter_context(open(os.devnull, "w"))
        sim = AvitoSimulator()
        sim.start()
        exits.callback(sim.stop)
        sim.add_account(HTTP_CLIENT_ID, HTTP_CLIENT_SECRET, USER_ID, name="Bench HTTP shop")
        from tests.support.stack import loopback_stack

        stack = loopback_stack(sim.base_url, log_file, schedule_seconds=3600)
        with contextlib.redirect_stderr(devnull):
            stack.start()
        exits.callback(stack.stop)
        try:
            result = _measure_http(stack, sim, calls, chats, warmup)
        except BaseException:
            tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
            print("local runtime log (last lines):\n" + "\n".join(tail), file=sys.stderr)
            raise
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return result


def _measure_http(stack: Any, sim: Any, calls: int, chats: int, warmup: int) -> dict[str, Any]:
    import requests
    from avito_service.auth import mint

    session = requests.Session()
    session.trust_env = False  # no proxy from the environment for 127.0.0.1
    session.headers["Authorization"] = "Bearer " + mint(stack.jwt_secret, sub="bench@example.com", role="admin")
    api = stack.api_url

    def ok(response: Any, status: int = 200) -> Any:
        assert response.status_code == status, (response.status_code, response.text[:500])
        return response.json()["data"]

    account = ok(
        session.post(
            f"{api}/api/v1/accounts",
            json={
                "name": "Bench HTTP shop",
                "clientId": HTTP_CLIENT_ID,
                "clientSecret": HTTP_CLIENT_SECRET,
                "userId": str(USER_ID),
            },
            timeout=30,
        ),
        201,
    )
    account_id = account["id"]
    assert ok(session.post(f"{api}/api/v1/accounts/{account_id}/webhook", timeout=30))["subscribed"] is True
    [url] = sim.subscriptions(USER_ID)  # <Function URL>/<accountId>/<token>, as Avito would call it
    assert url.startswith(stack.webhook_url + "/")

    hook = requests.Session()  # Avito's side: no Authorization header
    hook.trust_env = False
    json_type = {"Content-Type": "application/json"}
    for c in range(chats):
        response = hook.post(url, data=seed_body(c).encode(), headers=json_type, timeout=30)
        assert response.status_code == 200, (response.status_code, response.text[:500])
    items_before = _messenger_items(stack)

    def get_account(i: int) -> int:
        return int(session.get(f"{api}/api/v1/accounts/{account_id}", timeout=30).status_code)

    def list_chats(i: int) -> int:
        return int(session.get(f"{api}/api/v1/chats", params={"limit": "50"}, timeout=30).status_code)

    def deliver(i: int) -> int:
        return int(hook.post(url, data=warm_body(i, chats).encode(), headers=json_type, timeout=30).status_code)

    cases: dict[str, Callable[[int], int]] = {
        "GET /api/v1/accounts/{id} (API server, authorizer, accounts_get worker)": get_account,
        f"GET /api/v1/chats?limit=50 ({chats} chats; chats_list worker)": list_chats,
        "POST webhook delivery to the Function URL, new message (webhook_receiver worker)": deliver,
    }
    results = measure(cases, calls, warmup)
    return {
        "results": results,
        "tcp_connections_opened": {"api": _connections(session), "function_url": _connections(hook)},
        "messenger_table_items": {"before_measuring": items_before, "after": _messenger_items(stack)},
    }


# ---------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument(
        "--stock-moto",
        action="store_true",
        help="in-process part: keep moto's whole-table copy per transaction (O(table size))",
    )
    parser.add_argument("--no-http", action="store_true", help="skip the part through the local runtime over HTTP")
    parser.add_argument("--http-warmup", type=int, default=5, help="warm-up calls per case over HTTP (default 5)")
    args = parser.parse_args(argv)

    load_before = [round(x, 2) for x in os.getloadavg()]
    started_utc = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    started = time.perf_counter()
    with saved_environ():
        in_process = run_in_process(args.calls, args.chats, args.stock_moto)
    in_process_s = round(time.perf_counter() - started, 1)
    print_table(f"warm latency, in-process, moto, {args.calls} calls each ({in_process_s} s)", in_process)
    data: dict[str, Any] = {
        "moto_transactions": "stock" if args.stock_moto else "item-level rollback (local_runtime/moto_fast_tx.py)",
        "calls": args.calls,
        "stored_chats": args.chats,
        "results": in_process,
        "in_process_wall_s": in_process_s,
    }

    if not args.no_http:
        with saved_environ():
            http = run_http(args.calls, args.chats, args.http_warmup)
        print_table(
            f"warm latency, through the local runtime over HTTP, {args.calls} calls each after {args.http_warmup} "
            f"warm-up calls ({http['wall_s']} s)",
            http["results"],
        )
        print(
            f"TCP connections opened: {http['tcp_connections_opened']}; "
            f"MessengerTable items: {http['messenger_table_items']}"
        )
        data["http"] = {
            "path": "requests.Session (keep-alive) -> local_runtime HTTP server (werkzeug, threaded) -> API Gateway "
            "emulation with the runtime's TOKEN authorizer (ReauthorizeEvery 300: the authorizer function runs on "
            "the warm-up call, later calls hit its cache) or the Function URL emulation -> one worker process per "
            "function (event over a pipe) -> boto3 -> moto server (stock moto 5, own process) over HTTP",
            "moto_transactions": "stock (whole-table deepcopy per TransactWriteItems, in the moto server process)",
            "warmup_calls": args.http_warmup,
            **http,
        }
    data["load_average_1_5_15_min"] = {"start": load_before, "end": [round(x, 2) for x in os.getloadavg()]}
    data["started"] = started_utc
    data["total_wall_s"] = round(time.perf_counter() - started, 1)
    print(f"load average at start {load_before}, at end {data['load_average_1_5_15_min']['end']}")
    write_results("warm_latency", data)
    return data


if __name__ == "__main__":
    main()
