"""Avito's shared per-account limit is exact with five concurrent workers on one account (issue #22, item 7).

Five workers (threads, each with its own limiter and DynamoDB client, like five Lambda containers) take slots of
one account's items-list budget from the local runtime's DynamoDB (the moto *server* child process, as
``make local`` runs it) and call the simulator's items list with Avito's limits enforced. Avito (the simulator)
must never answer 429 and never see more than 25 item-list calls in any minute. The windows are scaled
(``SCALE``); ``benchmarks/avito_limits.py`` runs the same on real 60 s windows.

The race it guards (fixed in 7519c0b): Avito counts a call when it *arrives*, the limiter logs it when its slot
is taken. A call that travels slowly (a busy machine, a slow proxy: here up to ``TRAVEL`` of a window between
the slot and the request) arrived inside the minute of later fast calls; logged only at the send, the slot was
free again a window after it was taken and Avito saw 26+ calls in a minute (429s). Each call now logs its
answer's time too (``AvitoLimits.answered``), holding the slot a window past its arrival. With ``answered`` made
a no-op (the old behaviour) this test fails: Avito answers 429 (four in the run tried).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import boto3
import pytest
import requests
from avito_service import aws
from avito_service.avito import limits

from avito_sim import AvitoSimulator
from local_runtime.moto_process import MotoProcess
from tests.support.caches import reset_caches

SCALE = 0.03  # one Avito "minute" = 1.8 s
MINUTE = 60 * SCALE
WORKERS = 5
CALLS_PER_WORKER = 15  # 75 calls: three windows of 25
TRAVEL = 0.9  # of a window: the most a call spends on its way to Avito after its slot was taken
UID = 8901


def most_in_any_window(times: list[float], window: float) -> int:
    times, best, start = sorted(times), 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = MotoProcess()
    server.spawn()
    try:
        endpoint = server.wait_ready()
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        boto3.client("dynamodb").create_table(
            TableName="limits",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        monkeypatch.setenv("AVITO_LIMITS_TABLE", "limits")
        reset_caches()
        yield endpoint
    finally:
        server.stop()
        reset_caches()


def test_five_concurrent_workers_never_exceed_the_items_limit(moto_server: str) -> None:
    sim = AvitoSimulator(rate_limits=True, time_scale=SCALE)
    sim.start()
    try:
        sim.add_account("limits-cid", "limits-secret", UID, name="Busy")
        sim.add_items(UID, 100, 7_000_000_000)
        token = sim.issue_token(UID)
        problems: list[str] = []

        def worker(seed: int) -> None:
            aws.clear_caches()  # thread-local resources anyway; one limiter per "container"
            budget = limits.AvitoLimits(limits.DynamoStore("limits"), time_scale=SCALE)
            pause = random.Random(seed)
            session = requests.Session()
            for _ in range(CALLS_PER_WORKER):
                slot = budget.acquire("busy-account", "core.items", max_wait=30)
                try:
                    if pause.random() < 0.2:  # one call in five travels slowly before Avito counts it
                        threading.Event().wait(pause.uniform(0.3, TRAVEL) * MINUTE)
                    answer = session.get(
                        f"{sim.base_url}/core/v1/items",
                        params={"per_page": 100, "page": 1, "status": "active"},
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=10,
                    )
                finally:
                    budget.answered("busy-account", "core.items", slot)
                if answer.status_code != 200:
                    problems.append(f"HTTP {answer.status_code}")
                threading.Event().wait(pause.uniform(0, 0.02))  # the worker's own work between calls

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        times = [r.time for r in sim.requests if r.path == "/core/v1/items"]
        assert len(times) == WORKERS * CALLS_PER_WORKER
        assert problems == [] and sim.rate_limited == 0
        assert most_in_any_window(times, MINUTE) <= 25
    finally:
        sim.stop()
