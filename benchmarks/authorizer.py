"""Authorizer latency (issue 24): what verifying a Cognito access token adds, cold and warm, against the HS256 path
in the same run, and proof that cached keys mean no network call per request.

The authorizer function (``functions/authorizer.py``, the whole ``lambda_handler`` as API Gateway invokes it) runs
in-process against moto (``mock_aws``) with the template's resources: the user pool, its app client and groups,
UsersTable. A first admin is created and signed in with a password (moto issues RS256 access tokens). The pool's
keys (fetched once from moto) are served by a small HTTP server on 127.0.0.1 that counts its requests, and
``COGNITO_JWKS_URL`` points at it, so every key fetch the authorizer makes is a real HTTP request, counted.

Paths, each timed per invocation with ``time.perf_counter``:

- **hs256**: a first-round HS256 token (signing key from Secrets Manager, cached by Powertools for 300 s).
- **cognito warm**: the Cognito token with the pool's keys cached (``PyJWKClient``, a day) and the user's record
  cached (``auth.USER_CACHE_SECONDS``, 25 s): what nearly every request pays.
- **cognito, user re-read**: keys cached, the user's record read again (one DynamoDB GetItem, against moto here):
  what the first request of a user pays every 25 s per container (revocation's bound).
- **cognito cold**: the keys not cached (a fresh ``PyJWKClient``: one HTTP fetch of the keys) and the user's record
  read: what the first Cognito request of a new container pays once.

hs256 and cognito warm are interleaved call by call, so the machine's noise falls on both alike; the ratios are the
robust figures. Locally the key server is on loopback; Cognito's real ``/.well-known/jwks.json`` is a TLS request
over the internet (tens of ms), paid once per container per day.

Run: ``PYTHONPATH=.:layers/shared:functions .venv/bin/python -m benchmarks.authorizer --calls 2000 --cold 200``
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from benchmarks._common import JWT_KEY, moto_stack, quiet_output, summary_ms, table, write_results

USERS_ENV = {"USERS_TABLE": "UsersTable", "AUDIT_TABLE": "AuditTable", "USER_POOL_ID": "UserPool"}
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "Bench-Admin-Passw0rd"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/api/v1/chats"


class KeyServer:
    """Serves the pool's JWKS on 127.0.0.1 and counts the requests (every key fetch is one)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        body = json.dumps(jwks).encode()
        counter = self
        self.fetches = 0
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with counter._lock:
                    counter.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @contextmanager
    def running(self) -> Iterator[KeyServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def _invoker(token: str) -> Callable[[], dict[str, Any]]:
    import authorizer

    from tests.support.events import FakeContext

    event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}
    context = FakeContext()

    def invoke() -> dict[str, Any]:
        return authorizer.lambda_handler(event, context)

    return invoke


def _timed(invoke: Callable[[], dict[str, Any]], before: Callable[[], None] | None = None) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    answer = invoke()
    elapsed = time.perf_counter() - start
    if answer["policyDocument"]["Statement"][0]["Effect"] != "Allow":
        raise AssertionError("the authorizer refused the token")
    return elapsed


def measure(calls: int, cold: int) -> dict[str, Any]:
    import boto3
    import requests
    from avito_service import auth
    from avito_service.config import get_settings
    from avito_service.users import service as users

    with moto_stack() as created:
        for variable, logical_id in {**USERS_ENV, "USER_POOL_CLIENT_ID": "UserPoolClient"}.items():
            os.environ[variable] = created[logical_id]
        get_settings.cache_clear()
        pool_id = created["UserPool"]
        users.ensure_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD, "Bench Admin")
        signed_in = users.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        cognito_token = signed_in.accessToken
        jwks = requests.get(f"{auth.pool_issuer(pool_id)}/.well-known/jwks.json", timeout=10).json()
        hs256_token = auth.mint(JWT_KEY, sub="crm-operator-1", role="operator", ttl_seconds=3600)
        boto3.client("cognito-idp")  # the client's first build outside the timings
        with KeyServer(jwks).running() as keys:
            os.environ["COGNITO_JWKS_URL"] = keys.url
            get_settings.cache_clear()
            auth.pool_keys.cache_clear()
            auth.user_cache.clear()
            hs256, cognito = _invoker(hs256_token), _invoker(cognito_token)
            for _ in range(50):  # warm-up: imports, the signing key, the keys, the user's record, pydantic
                hs256()
                cognito()

            fetches_before_warm = keys.fetches
            hs_times, warm_times = [], []
            warm_start = time.monotonic()
            for _ in range(calls):
                if time.monotonic() - warm_start > auth.USER_CACHE_SECONDS - 2:  # keep the record cached
                    auth.user_cache.clear()
                    cognito()
                    warm_start = time.monotonic()
                hs_times.append(_timed(hs256))
                warm_times.append(_timed(cognito))
            warm_fetches = keys.fetches - fetches_before_warm

            reread_times = [_timed(cognito, auth.user_cache.clear) for _ in range(cold)]
            reread_fetches = keys.fetches - fetches_before_warm - warm_fetches

            def new_container() -> None:
                auth.pool_keys.cache_clear()
                auth.user_cache.clear()

            before_cold = keys.fetches
            cold_times = [_timed(cognito, new_container) for _ in range(cold)]
            cold_fetches = keys.fetches - before_cold
            after_cold = keys.fetches
            warm_again = [_timed(cognito) for _ in range(cold)]
            warm_again_fetches = keys.fetches - after_cold

    hs = summary_ms(hs_times)
    rows = {
        "hs256": hs | {"jwks_fetches": 0},
        "cognito_warm": summary_ms(warm_times) | {"jwks_fetches": warm_fetches},
        "cognito_user_reread": summary_ms(reread_times) | {"jwks_fetches": reread_fetches},
        "cognito_cold": summary_ms(cold_times) | {"jwks_fetches": cold_fetches},
        "cognito_warm_after_cold": summary_ms(warm_again) | {"jwks_fetches": warm_again_fetches},
    }
    for row in rows.values():
        row["ratio_p50_to_hs256"] = round(row["p50_ms"] / hs["p50_ms"], 2)
        row["added_p50_ms"] = round(row["p50_ms"] - hs["p50_ms"], 3)
    return {"calls": calls, "cold_calls": cold, "paths": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=2000, help="interleaved HS256 / Cognito warm invocations")
    parser.add_argument("--cold", type=int, default=200, help="invocations per cold and re-read path")
    args = parser.parse_args(argv)
    with quiet_output():
        result = measure(args.calls, args.cold)
    rows = [
        [
            name,
            row["n"],
            row["p50_ms"],
            row["p99_ms"],
            row["mean_ms"],
            row["added_p50_ms"],
            f"{row['ratio_p50_to_hs256']}x",
            row["jwks_fetches"],
        ]
        for name, row in result["paths"].items()
    ]
    print(
        table(["path", "n", "p50 ms", "p99 ms", "mean ms", "added p50 ms", "p50 / hs256", "key fetches (HTTP)"], rows)
    )
    path = write_results("authorizer", result)
    print(f"\nwritten: {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
