"""Metrics emitted from worker threads (issue 22 item 13): none lost, none repeated.

Powertools' Metrics is not thread-safe (``add_metric`` reads a metric's value list, appends and stores it back,
and flushes when a list reaches 100 values). The keep-alive worker, the fan-out, the inbox and the search run code
that adds metrics on pool threads; ``observability.metrics`` takes a lock around every add and flush. These tests
hammer it from eight threads with a tiny switch interval (so the threads interleave inside ``add_metric``) and
count the values in what it printed: without the lock values go missing (or a flush raises "dictionary changed
size during iteration").
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator

import pytest
from avito_service import observability
from avito_service.observability import metrics
from aws_lambda_powertools import Metrics

THREADS = 8
ADDS = 1500  # per thread: each name's value list reaches 100 (an automatic flush) many times
NAMES = ("KeepAliveDone", "AvitoTokenFetched", "FanoutPosts")


@pytest.fixture
def fast_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _hammer(target: Metrics) -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        start.wait(timeout=30)
        try:
            for i in range(ADDS):
                target.add_metric(name=NAMES[(i + offset) % len(NAMES)], unit="Count", value=1)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    target.flush_metrics()
    assert not errors, errors


def _counted(printed: str) -> dict[str, float]:
    totals: dict[str, float] = dict.fromkeys(NAMES, 0.0)
    for line in printed.splitlines():
        if not line.startswith("{") or "_aws" not in line:
            continue
        try:
            blob = json.loads(line)
        except ValueError:  # two flushes printed into each other: CloudWatch would drop both
            continue
        for name in NAMES:
            value = blob.get(name)
            if value is not None:
                totals[name] += sum(value) if isinstance(value, list) else value
    return totals


def test_metrics_added_from_worker_threads_are_all_published(
    fast_switching: None, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics.clear_metrics()
    _hammer(metrics)
    totals = _counted(capsys.readouterr().out)
    assert sum(totals.values()) == THREADS * ADDS, totals
    assert totals == {name: THREADS * ADDS / len(NAMES) for name in NAMES}


def test_the_shared_metrics_use_the_locked_provider() -> None:
    """The object every module imports is the locked one (a plain ``Metrics()`` would lose values as above)."""
    assert isinstance(metrics.provider, observability.ThreadSafeEMFProvider)
    assert metrics.provider.metric_set is metrics.metric_set  # one buffer: what is added is what is flushed
