"""Injected failures: error statuses, resets, truncated bodies and delays."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FAULT_ACTIONS = (None, "reset", "truncate", "delay_after_effect")


@dataclass
class Fault:
    """One injected failure, matched against each request until ``times`` is used up (None = forever)."""

    path_regex: str
    method: str | None = None
    status: int = 500
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] | None = None
    retry_after: float | int | None = None
    delay: float = 0.0
    times: int | None = 1
    action: str | None = None
    hits: int = 0
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.action not in FAULT_ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; expected one of {FAULT_ACTIONS}")
        self.pattern = re.compile(self.path_regex)
        if self.method:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to the request and is not used up."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method != method.upper():
            return False
        return self.pattern.search(path) is not None

    def response_headers(self) -> dict[str, str]:
        """Headers the faulty answer carries."""
        headers = dict(self.headers or {})
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers
