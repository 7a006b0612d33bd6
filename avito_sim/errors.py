"""Avito-shaped error bodies.

Avito's documents use different error shapes per API family:

* user, stats and messenger (user.json, items.json stats paths, messenger.json):
  ``{"error": {"code": <int>, "message": <str>}}``
* items list (items.json ``/core/v1/items`` "default" response): ``{"code": <str>, "message": <str>}``
* CPA (cpa.json): errors inside an HTTP 200 as ``{"error": {"code": 1000..1004, "message": ...}}``;
  429 is ``{"error": {"code": 429}}``
* token endpoint: not documented; the simulator answers RFC 6749 section 5.2 errors
  ``{"error": "invalid_client", "error_description": ...}``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

STATUS_MESSAGES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Error while processing request. Please, contact support",
    502: "Bad Gateway",
    503: "Service temporarily unavailable. Please, contact support",
    504: "Gateway Timeout",
}

OAUTH_ERRORS: dict[int, str] = {400: "invalid_request", 401: "invalid_client", 429: "too_many_requests"}


class Family(StrEnum):
    """Which error body shape a path answers with."""

    OAUTH = "oauth"
    ITEMS = "items"
    CPA = "cpa"
    STANDARD = "standard"


def family_for_path(path: str) -> Family:
    """Pick the error family for a request path."""
    if path.rstrip("/") == "/token":
        return Family.OAUTH
    if path.rstrip("/") == "/core/v1/items":
        return Family.ITEMS
    if path.startswith("/cpa/"):
        return Family.CPA
    return Family.STANDARD


def status_message(status: int) -> str:
    """Avito's usual text for an HTTP status."""
    return STATUS_MESSAGES.get(status, f"HTTP {status}")


def error_body(family: Family, status: int, message: str | None = None) -> dict[str, Any]:
    """Build the error body a path family answers with for ``status``."""
    text = message or status_message(status)
    if family is Family.OAUTH:
        return {"error": OAUTH_ERRORS.get(status, "server_error"), "error_description": text}
    if family is Family.ITEMS:
        return {"code": str(status), "message": text}
    if family is Family.CPA and status == 429:
        return {"error": {"code": 429}}
    return {"error": {"code": status, "message": text}}


class ApiError(Exception):
    """Raised by handlers to answer an error; the body is built from the path family unless given."""

    def __init__(self, status: int, message: str | None = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(message or status_message(status))
        self.status = status
        self.message = message
        self.body = body
