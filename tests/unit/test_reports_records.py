"""The summary's adding-up of figure items (``reports.service``: each item read once into a record of counters and
dense histograms, records added element-wise) gives the same figures as adding the items bucket by bucket (the
way it was done before, kept here as the reference), for random day and month items of accounts with and without
a working-hours calendar; ``histogram.quantile_dense`` answers as ``histogram.quantile``; ``store.figure_item``
converts the low-level client's AttributeValues as the summary needs them."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import pytest
from avito_service.reports import histogram, service
from avito_service.reports.figures import KINDS
from avito_service.reports.store import figure_item
from boto3.dynamodb.types import TypeSerializer


def reference_histograms(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[int, int]]:
    """The merge as it was before the records (commit 63469bc's ``service._histograms``)."""
    found: dict[str, dict[int, int]] = {kind: {} for kind in KINDS}
    for item in items:
        own: dict[str, list[tuple[int, int]]] = {}
        for attr, value in item.items():
            kind, _, index = attr.partition("_")
            if kind in found and index.isdigit() and value:
                own.setdefault(kind, []).append((int(index), int(value)))
        if "frw" not in own and "rtw" not in own:
            own["frw"], own["rtw"] = own.get("fr", []), own.get("rt", [])
        for kind, counts in own.items():
            bucket = found[kind]
            for index, count in counts:
                bucket[index] = bucket.get(index, 0) + count
    return found


def reference_figures(items: list[Mapping[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {name: sum(int(i.get(name, 0)) for i in items) for name in service.COUNTERS}
    merged = reference_histograms(items)
    for kind, median, p90 in service._QUANTILES:
        values[median] = histogram.quantile(merged[kind], 0.5)
        values[p90] = histogram.quantile(merged[kind], 0.9)
    return values


def random_item(rng: random.Random, *, calendar: bool, month: bool = False) -> dict[str, Any]:
    """A day (or month) item as the consumer writes it: counters, some buckets of each histogram (with working-time
    ones only for an account with a calendar), and the item's other attributes."""
    item: dict[str, Any] = {"pk": "DAY#a", "sk": "2026-11-05#O#op-1", "date": "2026-11-05", "userId": "op-1"}
    if month:
        item = {"pk": "MONTH#a", "sk": "2026-11#A", "month": "2026-11", "n": rng.randint(1, 900), "complete": True}
    for name in service.COUNTERS:
        if rng.random() < 0.8:
            item[name] = rng.randint(0, 500)
    for kind in KINDS if calendar else ("fr", "rt"):
        if rng.random() < 0.15:
            continue  # no such histogram on this item
        for _ in range(rng.randint(1, 40)):
            item[f"{kind}_{rng.randint(0, histogram.BUCKETS - 1)}"] = rng.choice((0, 1, 2, 7, 40, 300))
    return item


@pytest.mark.parametrize("seed", range(40))
def test_records_add_up_as_the_buckets_do(seed: int) -> None:
    rng = random.Random(seed)
    items = [random_item(rng, calendar=rng.random() < 0.5, month=rng.random() < 0.2) for _ in range(rng.randint(0, 30))]
    assert service.figures_of(items) == reference_figures(items)
    # added in two groups, then the groups' sums added (the totals are the days' sums)
    half = len(items) // 2
    in_two = service.merged(
        [service.merged(map(service.record_of, items[:half])), service.merged(map(service.record_of, items[half:]))]
    )
    assert service.values_of(in_two) == reference_figures(items)


def test_an_item_without_working_time_histograms_counts_its_wall_ones_for_both() -> None:
    wall_only = {"fr_10": 3, "rt_20": 2, "rt_21": 0, "frw_30": 0}  # zero counts are no histogram
    with_calendar = {"fr_10": 1, "frw_5": 5}  # a working-time histogram: the missing rtw stays empty
    figures = service.figures_of([wall_only])
    assert figures["firstResponseMedianWorkingSeconds"] == figures["firstResponseMedianSeconds"] is not None
    assert figures["replyP90WorkingSeconds"] == figures["replyP90Seconds"] is not None
    both = service.figures_of([wall_only, with_calendar])
    assert both == reference_figures([wall_only, with_calendar])
    assert both["firstResponseMedianWorkingSeconds"] != both["firstResponseMedianSeconds"]
    assert service.figures_of([]) == reference_figures([]) and service.figures_of([])["replyMedianSeconds"] is None


@pytest.mark.parametrize("seed", range(20))
def test_quantile_of_dense_counts_is_the_quantile(seed: int) -> None:
    rng = random.Random(seed)
    sparse = {rng.randint(0, histogram.BUCKETS - 1): rng.randint(1, 50) for _ in range(rng.randint(0, 30))}
    dense = [sparse.get(index, 0) for index in range(histogram.BUCKETS)]
    for q in (0.01, 0.5, 0.9, 1.0):
        assert histogram.quantile_dense(dense, q) == histogram.quantile(sparse, q)


def test_figure_item_gives_whole_numbers_as_int_and_the_rest_as_the_resource_does() -> None:
    serializer = TypeSerializer()
    item = {"pk": "MONTH#a", "fr_3": 12, "messagesIn": 0, "complete": True, "odd": Decimal("1.5"), "ops": {"a"}}
    wire = {name: serializer.serialize(value) for name, value in item.items()}
    converted = figure_item(wire)
    assert converted == item
    assert type(converted["fr_3"]) is int and type(converted["odd"]) is Decimal
