"""Per-account webhook secrets.

Avito cannot sign its deliveries, so the URL it posts to carries the secret: ``/<accountId>/<token>``
with a 256-bit random token (43 URL-safe base64 characters). Only the token's SHA-256 is stored on the account
item, so a copy of the table does not let anyone post deliveries; checks are in constant time.

Rotation is in two phases (``webhooks.subscriptions.subscribe``): a new token's hash is first stored as
``webhookPendingHash`` and accepted *alongside* the current ``webhookTokenHash``; once Avito confirmed the new
URL, :func:`promote` makes it the current one and the old one stops working. A failed subscribe only drops the
pending hash again (:func:`abandon`), so the URL Avito still posts to keeps working.

The receiver checks a token with ``verified_account``. A token that cannot be one we issue (wrong length or
alphabet) is refused before any database read. A warm container remembers, per account, the hashes it last read
(never a token) for ``VERIFIED_SECONDS``, so a burst of deliveries costs one account read per account and window
instead of one per delivery. A token that matches none of the remembered hashes is checked against a fresh read,
so a new token works at once; a rotated-out token keeps working in a container that verified it for at most
``VERIFIED_SECONDS`` after the rotation (and Avito no longer posts to it: its URL is unsubscribed).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from avito_service import snapstart
from avito_service.accounts import service as accounts_service
from avito_service.accounts.store import Change, ConditionFailed
from avito_service.errors import Conflict

TOKEN_BYTES = 32  # 256 bits
TOKEN_HASH_FIELD = "webhookTokenHash"  # noqa: S105 - an attribute name, not a secret
PENDING_HASH_FIELD = "webhookPendingHash"  # a token issued for a subscribe Avito has not confirmed yet
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what secrets.token_urlsafe(32) gives
VERIFIED_SECONDS = 10.0  # how long a warm container trusts an account's token hash it has read
_VERIFIED_MAX = 1024  # accounts remembered per container
_NO_HASH = hashlib.sha256(b"no webhook token issued").hexdigest()
# account id -> (monotonic expiry, the accepted token hashes, the account fields the receiver needs)
_verified: dict[str, tuple[float, tuple[str, ...], dict[str, Any]]] = {}
snapstart.after_restore(_verified.clear)  # its monotonic expiries did not count the time in a snapshot
monotonic = time.monotonic  # the clock of the remembered hashes (tests set their own)
# the last segment of a path with at least two segments: /<accountId>/<token>
_LAST_SEGMENT = re.compile(r"^(?P<head>[^?#]*?/[^/?#]+/)(?P<token>[^/?#]+)(?P<tail>/?(?:[?#].*)?)$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(account_id: str) -> str:
    """A new webhook token, accepted alongside the current one until :func:`promote` (404 if no such account)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    accounts_service.record_fields(account_id, {PENDING_HASH_FIELD: _digest(token)}, bump_version=False)
    forget_verified(account_id)
    return token


def promote(account_id: str, token: str) -> None:
    """Avito confirmed the token's URL: it becomes the account's only token; the previous one stops working.

    409 ``webhook_rotation_conflict`` when another subscribe replaced the pending token in the meantime."""
    digest = _digest(token)
    change = Change(
        set_values={TOKEN_HASH_FIELD: digest},
        remove={PENDING_HASH_FIELD},
        expected_values={PENDING_HASH_FIELD: digest},
        bump_version=False,
    )
    try:
        accounts_service.account_store().update(account_id, change)
    except ConditionFailed:
        raise Conflict(
            "Another webhook subscribe for this account replaced this one while Avito confirmed it; "
            "check the webhook status.",
            code="webhook_rotation_conflict",
        ) from None
    finally:
        forget_verified(account_id)


def abandon(account_id: str, token: str) -> None:
    """The subscribe for ``token`` failed: drop it, unless a newer subscribe already replaced it."""
    change = Change(
        remove={PENDING_HASH_FIELD}, expected_values={PENDING_HASH_FIELD: _digest(token)}, bump_version=False
    )
    with contextlib.suppress(ConditionFailed):
        accounts_service.account_store().update(account_id, change)
    forget_verified(account_id)


def _accepted_hashes(account_item: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        h
        for h in (account_item.get(TOKEN_HASH_FIELD), account_item.get(PENDING_HASH_FIELD))
        if isinstance(h, str) and h
    )


def _any_matches(digest: str, hashes: tuple[str, ...]) -> bool:
    found = False
    for stored in hashes:  # compare with every one, in constant time each
        found = hmac.compare_digest(digest, stored) or found
    return found


def token_matches(account_item: Mapping[str, Any], token: str | None) -> bool:
    """Whether ``token`` is the account's current (or pending) webhook token (constant-time comparison)."""
    hashes = _accepted_hashes(account_item)
    if not hashes:
        hmac.compare_digest(_digest(token or ""), _NO_HASH)
        return False
    return _any_matches(_digest(token or ""), hashes)


def plausible(token: str | None) -> bool:
    """Whether ``token`` has the shape of a token we issue (no database read needed to refuse the others)."""
    return token is not None and TOKEN_PATTERN.match(token) is not None


def verified_account(account_id: str, token: str | None) -> Mapping[str, Any] | None:
    """``{"id", "userId"}`` of the account if ``token`` is its webhook token, else None (constant-time checks).

    A token that is not :func:`plausible` is refused without a read. Within ``VERIFIED_SECONDS`` of the last read
    of the account, a token matching a hash read then is accepted without reading again; any other token is
    checked against a fresh read (``account_not_found`` is raised by that read). Only hashes are kept."""
    if not plausible(token):
        return None
    digest = _digest(token or "")
    remembered = _verified.get(account_id)
    if remembered is not None:
        expires, hashes, fields = remembered
        if monotonic() < expires and _any_matches(digest, hashes):
            return fields
    item = accounts_service.get_item(account_id)
    hashes = _accepted_hashes(item)
    if not hashes:
        forget_verified(account_id)
        hmac.compare_digest(digest, _NO_HASH)  # same work as a comparison with a stored hash
        return None
    fields = {"id": account_id, "userId": item.get("userId")}
    if len(_verified) >= _VERIFIED_MAX and account_id not in _verified:
        _verified.clear()  # many accounts in one container: start over rather than grow without bound
    _verified[account_id] = (monotonic() + VERIFIED_SECONDS, hashes, fields)
    return fields if _any_matches(digest, hashes) else None


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
