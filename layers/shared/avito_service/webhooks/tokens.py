"""Per-account webhook secrets.

Avito cannot sign its deliveries, so the URL it posts to carries the secret: ``/<accountId>/<token>``
with a 256-bit random token. Only the token's SHA-256 is stored (``webhookTokenHash`` on the account
item), so a copy of the table does not let anyone post deliveries; checks are in constant time.
Issuing a new token invalidates the previous URL.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any

from avito_service.accounts import service as accounts_service

TOKEN_BYTES = 32  # 256 bits
TOKEN_HASH_FIELD = "webhookTokenHash"  # noqa: S105 - an attribute name, not a secret
_NO_HASH = hashlib.sha256(b"no webhook token issued").hexdigest()
# the last segment of a path with at least two segments: /<accountId>/<token>
_LAST_SEGMENT = re.compile(r"^(?P<head>[^?#]*?/[^/?#]+/)(?P<token>[^/?#]+)(?P<tail>/?(?:[?#].*)?)$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(account_id: str) -> str:
    """A new webhook token for the account; only its hash is stored (404 ``account_not_found`` if unknown)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    accounts_service.record_fields(account_id, {TOKEN_HASH_FIELD: _digest(token)}, bump_version=False)
    return token


def token_matches(account_item: Mapping[str, Any], token: str | None) -> bool:
    """Whether ``token`` is the account's current webhook token (constant-time comparison)."""
    stored = account_item.get(TOKEN_HASH_FIELD)
    issued = isinstance(stored, str) and bool(stored)
    matches = hmac.compare_digest(_digest(token or ""), stored if issued else _NO_HASH)
    return matches and issued


def webhook_path(account_id: str, token: str) -> str:
    """The path of the account's webhook URL, relative to the receiver's base URL."""
    return f"/{account_id}/{token}"


def mask_url(url: str) -> str:
    """``https://host/<accountId>/<token>`` -> ``https://host/<accountId>/***`` (for answers and logs)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    host, slash, path = rest.partition("/")
    if not slash:
        return url
    match = _LAST_SEGMENT.match("/" + path)
    if not match:
        return url
    masked = f"{match['head']}***{match['tail']}"
    return f"{scheme}{sep}{host}{masked}"
