"""Injected failures: error statuses, resets, truncated bodies, delays, and answers Avito's documents allow.

Actions: ``None`` answers ``status``/``body`` instead of the endpoint; ``reset`` drops the connection;
``truncate`` cuts the real (or given) answer in half; ``delay_after_effect`` acts, then waits ``delay`` (a
timeout after the effect); ``patch`` acts and answers the real answer with ``body``'s fields laid over it
(e.g. the real token with ``expires_in: -5``).

``ODD_ANSWERS`` names answers Avito's OpenAPI documents allow and a careless client mishandles, as
``add_fault`` arguments; data-shaped ones (a balance of ``-3.4e38``, a message ``created`` in the year 10^10)
are made with ``add_account``/``add_message`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FAULT_ACTIONS = (None, "reset", "truncate", "delay_after_effect", "patch")

_OK_FALSE: dict[str, Any] = {"status": 200, "body": {"ok": False}, "times": None}
ODD_ANSWERS: dict[str, dict[str, Any]] = {
    "read_not_ok": {"path_regex": r"^/messenger/v1/accounts/\d+/chats/[^/]+/read$", "method": "POST", **_OK_FALSE},
    "subscribe_not_ok": {"path_regex": r"^/messenger/v3/webhook$", "method": "POST", **_OK_FALSE},
    "unsubscribe_not_ok": {"path_regex": r"^/messenger/v1/webhook/unsubscribe$", "method": "POST", **_OK_FALSE},
    "balance_beyond_storage": {
        "path_regex": r"^/core/v1/accounts/\d+/balance/$",
        "method": "GET",
        "status": 200,
        "body": {"real": -3.4e38, "bonus": 0.0},
        "times": None,
    },
    "token_expires_negative": {"path_regex": r"^/token$", "action": "patch", "body": {"expires_in": -5}, "times": None},
    "token_expires_fractional": {
        "path_regex": r"^/token$",
        "action": "patch",
        "body": {"expires_in": 0.25},
        "times": None,
    },
    "token_expires_absurd": {
        "path_regex": r"^/token$",
        "action": "patch",
        "body": {"expires_in": 1e300},
        "times": None,
    },
}


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
