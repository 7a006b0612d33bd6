"""Opaque pagination cursors: DynamoDB's LastEvaluatedKey as a URL-safe string, and back (checked)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from avito_service.errors import ValidationFailed


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """DynamoDB's LastEvaluatedKey -> an opaque URL-safe string."""
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, required_keys: Iterable[str]) -> dict[str, Any] | None:
    """Inverse of :func:`encode_cursor`; anything that is not one of our cursors is a 422 on ``cursor``."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ValidationFailed.on("cursor", "Not a cursor this service issued.") from None
    if (
        not isinstance(key, dict)
        or set(key) != set(required_keys)
        or not all(isinstance(v, str | int) for v in key.values())
    ):
        raise ValidationFailed.on("cursor", "Not a cursor this service issued.")
    return key
