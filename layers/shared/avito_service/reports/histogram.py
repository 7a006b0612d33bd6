"""Fixed histogram buckets of durations (seconds), so medians and p90s can be computed for any range of days by
adding the days' bucket counts, without the raw messages.

Bucket 0 holds [0, 1) s; bucket ``i`` >= 1 holds [R^(i-1), R^i) s with R = 1.2, so the buckets grow by 20 %; the last
bucket (``BUCKETS - 1``, from ~95 days) is open-ended. A quantile is the bucket of its nearest rank, answered as the
bucket's geometric middle ``sqrt(lo * hi)``: the answer is within ``sqrt(1.2) - 1`` = 9.5 % of the exact
nearest-rank quantile (above 1 s; under 1 s it is within 0.5 s). Fixed buckets rather than a sketch library
(t-digest, DDSketch): a day's histogram is a handful of DynamoDB counters that ``ADD`` updates in place and any
range of days merges by addition, which is exactly what the figures table needs; 90 counters cover 0 s to months.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

RATIO = 1.2
BUCKETS = 90
RELATIVE_ERROR = math.sqrt(RATIO) - 1  # 0.0954...
_LOG_RATIO = math.log(RATIO)


def bucket_of(seconds: float) -> int:
    """The bucket a duration falls in (negative durations count as 0)."""
    if seconds < 1:
        return 0
    index = math.floor(math.log(seconds) / _LOG_RATIO) + 1
    # float rounding at an exact power: keep [R^(i-1), R^i) exact
    if RATIO ** (index - 1) > seconds:
        index -= 1
    elif RATIO**index <= seconds:
        index += 1
    return min(index, BUCKETS - 1)


def bounds(index: int) -> tuple[float, float]:
    """[lo, hi) of a bucket (``inf`` for the last one)."""
    if index == 0:
        return 0.0, 1.0
    return RATIO ** (index - 1), (math.inf if index == BUCKETS - 1 else RATIO**index)


def estimate(index: int) -> float:
    """The value a bucket answers: 0.5 s for bucket 0, the geometric middle of the others (the last one: its low
    bound)."""
    lo, hi = bounds(index)
    if index == 0:
        return 0.5
    return lo if math.isinf(hi) else math.sqrt(lo * hi)


def merge(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    total: dict[int, int] = {}
    for histogram in histograms:
        for index, count in histogram.items():
            if count:
                total[index] = total.get(index, 0) + int(count)
    return total


def quantile(histogram: Mapping[int, int], q: float) -> int | None:
    """The nearest-rank ``q`` quantile (0 < q <= 1) in whole seconds, None for an empty histogram."""
    count = sum(histogram.values())
    if count <= 0:
        return None
    rank = max(1, math.ceil(q * count))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return round(estimate(index))
    return round(estimate(max(histogram)))  # unreachable: the ranks add up to count


def quantile_dense(counts: Sequence[int], q: float) -> int | None:
    """``quantile`` of a histogram given as its ``BUCKETS`` counts in bucket order (the summary's merged form:
    a list per histogram, added element-wise); the same answer as ``quantile`` of the same counts."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return _ESTIMATES[index]
    return _ESTIMATES[len(counts) - 1]  # unreachable: the ranks add up to total


_ESTIMATES = [round(estimate(index)) for index in range(BUCKETS)]
