"""Per-account webhook secrets.

Avito cannot sign its deliveries, so the URL it posts to carries the secret: ``/<accountId>/<token>``
with a 256-bit random token. Only the token's SHA-256 is stored (``webhookTokenHash`` on the account
item), so a copy of the table does not let anyone post deliveries; checks are in constant time.
Issuing a new token invalidates the previous URL.

The receiver checks a token with ``verified_account``: a warm container remembers, per account, the stored
hash it last verified a token against (never the token) for ``VERIFIED_SECONDS``, so a burst of deliveries
costs one account read per account and window instead of one per delivery. A token that does not match the
remembered hash is always checked against a fresh read, so a new token works at once; an old token keeps
working in a container that verified it for at most ``VERIFIED_SECONDS`` after it was replaced or removed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from avito_service import snapstart
from avito_service.accounts import service as accounts_service

TOKEN_BYTES = 32  # 256 bits
TOKEN_HASH_FIELD = "webhookTokenHash"  # noqa: S105 - an attribute name, not a secret
VERIFIED_SECONDS = 10.0  # how long a warm container trusts an account's token hash it has read
_VERIFIED_MAX = 1024  # accounts remembered per container
_NO_HASH = hashlib.sha256(b"no webhook token issued").hexdigest()
# account id -> (monotonic expiry, stored token hash, the account fields the receiver needs)
_verified: dict[str, tuple[float, str, dict[str, Any]]] = {}
snapstart.after_restore(_verified.clear)  # its monotonic expiries did not count the time in a snapshot
# the last segment of a path with at least two segments: /<accountId>/<token>
_LAST_SEGMENT = re.compile(r"^(?P<head>[^?#]*?/[^/?#]+/)(?P<token>[^/?#]+)(?P<tail>/?(?:[?#].*)?)$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(account_id: str) -> str:
    """A new webhook token for the account; only its hash is stored (404 ``account_not_found`` if unknown)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    accounts_service.record_fields(account_id, {TOKEN_HASH_FIELD: _digest(token)}, bump_version=False)
    forget_verified(account_id)
    return token


def token_matches(account_item: Mapping[str, Any], token: str | None) -> bool:
    """Whether ``token`` is the account's current webhook token (constant-time comparison)."""
    stored = account_item.get(TOKEN_HASH_FIELD)
    issued = isinstance(stored, str) and bool(stored)
    matches = hmac.compare_digest(_digest(token or ""), stored if issued else _NO_HASH)
    return matches and issued


def verified_account(account_id: str, token: str | None) -> Mapping[str, Any] | None:
    """``{"id", "userId"}`` of the account if ``token`` is its webhook token, else None (constant-time checks).

    Within ``VERIFIED_SECONDS`` of the last read of the account, a token matching the hash read then is
    accepted without reading again; any other token is checked against a fresh read (``account_not_found``
    is raised by that read). Only the hash is kept, never the token."""
    digest = _digest(token or "")
    remembered = _verified.get(account_id)
    if remembered is not None:
        expires, stored, fields = remembered
        if time.monotonic() < expires and hmac.compare_digest(digest, stored):
            return fields
    item = accounts_service.get_item(account_id)
    stored = item.get(TOKEN_HASH_FIELD)
    if not (isinstance(stored, str) and stored):
        forget_verified(account_id)
        hmac.compare_digest(digest, _NO_HASH)  # same work as a comparison with a stored hash
        return None
    fields = {"id": account_id, "userId": item.get("userId")}
    if len(_verified) >= _VERIFIED_MAX and account_id not in _verified:
        _verified.clear()  # many accounts in one container: start over rather than grow without bound
    _verified[account_id] = (time.monotonic() + VERIFIED_SECONDS, stored, fields)
    return fields if hmac.compare_digest(digest, stored) else None


def forget_verified(account_id: str | None = None) -> None:
    """Drop what this container remembers about an account's token (every account's when None)."""
    if account_id is None:
        _verified.clear()
    else:
        _verified.pop(account_id, None)


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
