"""Avito's shared per-account limit on a real 60 s window with five concurrent workers (issue #22, item 7).

Five worker threads (each with its own Avito client, token cache in TokensTable and limiter, like five job-worker
containers) list one account's items as fast as the shared budget lets them, for ``CALLS`` calls in all: the
first 25 go at once, the next 25 a minute (and the margin) after the first answers, and so on. DynamoDB is the
local runtime's moto server (a child process, DynamoDB requests serialized as DynamoDB's per-item atomicity
requires: ``local_runtime.moto_process.serialize_dynamodb``); Avito is the simulator with its limits enforced on
real 60 s windows. Reported: calls, Avito's 429s, the most item-list calls Avito saw in any 60 s window, wall time.

Run: ``PYTHONPATH=.:layers/shared:functions .venv/bin/python -m benchmarks.avito_limits`` (~2.5 minutes)
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CALLS = 60  # 25 + 25 + 10: three windows, so two window boundaries are crossed
WORKERS = 5
UID = 9100
RESULTS = Path(__file__).resolve().parent / "results" / "avito_limits.json"
ROOT = Path(__file__).resolve().parent.parent


def most_in_any_window(times: list[float], window: float) -> int:
    times, best, start = sorted(times), 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    from benchmarks._common import use_moto_env

    use_moto_env(AVITO_MAX_RETRIES="0")  # a 429 would show as an error instead of being retried away
    from avito_sim import AvitoSimulator
    from local_runtime.moto_process import MotoProcess
    from local_runtime.resources import create_resources
    from local_runtime.template import load_template

    moto = MotoProcess()
    moto.spawn()
    sim = AvitoSimulator(rate_limits=True, time_scale=1.0)
    sim.start()
    try:
        endpoint = moto.wait_ready()
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        os.environ["AVITO_API_URL"] = sim.base_url
        created = create_resources(load_template(ROOT / "template.yaml"), endpoint)
        for name, key in (
            ("ACCOUNTS_TABLE", "AccountsTable"),
            ("TOKENS_TABLE", "TokensTable"),
            ("TOKENS_KEY_ID", "TokensKey"),
            ("AVITO_LIMITS_TABLE", "AvitoLimitsTable"),
        ):
            os.environ[name] = created[key]
        results = run(sim)
    finally:
        sim.stop()
        moto.stop()
    results.update(machine=platform.platform(), python=platform.python_version(), cpus=os.cpu_count())
    results["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def run(sim: Any) -> dict[str, Any]:
    from avito_service import deadline
    from avito_service.accounts import service
    from avito_service.accounts.models import AccountCreate
    from avito_service.avito.client import AvitoApi

    from tests.support.caches import reset_caches

    reset_caches()
    sim.add_account("limits-bench", "limits-bench-secret", UID, name="Busy")
    sim.add_items(UID, 100, 9_000_000_000)
    account_id = service.create_account(
        AccountCreate(name="Busy", clientId="limits-bench", clientSecret="limits-bench-secret", userId=str(UID))
    ).id
    left, lock, errors = [CALLS], threading.Lock(), []

    def worker() -> None:
        client = AvitoApi(service.load_context(account_id))
        client.limit_wait = 70.0  # a job worker waits up to JOBS_MAX_WAIT_SECONDS; here a whole window
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                with deadline.budget(120):  # one call's budget: a window and a half, like a job step
                    client.items_page(1, "active", 100)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    times = sorted(r.time for r in sim.requests if r.path == "/core/v1/items")
    return {
        "workers": WORKERS,
        "item_list_calls": len(times),
        "avito_429s": sim.rate_limited,
        "errors": errors[:5],
        "most_item_calls_in_any_60s": most_in_any_window(times, 60.0),
        "wall_seconds": round(wall, 1),
        "call_groups_seconds_after_first": sorted({round(t - times[0]) for t in times}) if times else [],
    }


if __name__ == "__main__":
    main()
