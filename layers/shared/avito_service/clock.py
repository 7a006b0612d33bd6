"""Time helpers: one place that knows the service's timestamp format (ISO 8601 UTC, milliseconds, ``Z``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z: the last second Python's datetime (and ISO 8601) can hold


def representable(timestamp: float) -> bool:
    """Whether ``timestamp`` (unix seconds) has an ISO 8601 form: between 1970 and the year 9999."""
    return 0 <= timestamp <= MAX_TIMESTAMP


def now() -> float:
    return time.time()


def sleep(seconds: float) -> None:
    """Wait; the one place code that waits for a time budget sleeps (tests may replace it with their clock)."""
    time.sleep(seconds)


def iso(timestamp: float | None = None) -> str:
    moment = datetime.fromtimestamp(now() if timestamp is None else timestamp, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
