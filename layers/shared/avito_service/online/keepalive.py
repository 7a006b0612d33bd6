"""One keep-alive: a real, authenticated Messenger call for the account, recorded truthfully.

Avito publishes no "set online" endpoint (see ``avito-api.md``). A keep-alive lists the account's newest 100
chats through its proxy (the same call the Messenger endpoints make); the listing carries each chat's last
message, so the same call is the account's reconciliation (``online.reconcile``: only chats that changed since
storage are fetched and written, unchanged ones cost nothing). It records the outcome: ``isOnline`` and
``lastOnlineCheck`` change only when that call succeeded; a failure sets ``isOnline`` false and
``lastOnlineError`` and leaves ``lastOnlineCheck`` as it was.

The Avito token comes from the shared token cache (``avito.tokens``): keep-alives do not fetch a token
each time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.avito.client import AvitoApi
from avito_service.base import Model
from avito_service.errors import ServiceError
from avito_service.observability import logger
from avito_service.online.reconcile import RECONCILED_FIELD, reconcile

CHATS_PAGE = 100  # the newest chats, whose last messages the reconciliation compares with storage
MAX_ERROR_LENGTH = 500
NO_USER_ID = "The account has no Avito userId yet; run check-connection (or set userId) first."


class KeepAliveResult(Model):
    ok: bool = Field(description="whether the Messenger call succeeded")
    at: str = Field(description="when the keep-alive ran (ISO 8601 UTC)")
    error: str | None = Field(default=None, description="why it failed (no secrets)")


class KeepAliveFailed(ServiceError):
    """An account that cannot be kept online for a reason of ours (e.g. no userId); recorded, never raised out."""

    status, code = 422, "keep_alive_impossible"


def keep_alive(account_id: str, *, now: float | None = None) -> KeepAliveResult:
    """Run one keep-alive for the account now and record it. 404 for an unknown account; never raises for
    Avito or proxy failures (they are recorded and returned as ``ok: false``)."""
    return keep_alive_item(accounts.get_item(account_id), now=now)


def keep_alive_item(item: Mapping[str, Any], *, now: float | None = None) -> KeepAliveResult:
    """:func:`keep_alive` for an account item already read (the worker reads it to check the generation)."""
    account_id = str(item["id"])
    at = clock.iso(now)
    context = accounts.context_from_item(dict(item))
    user_id = context.account.userId
    try:
        if not user_id:
            raise KeepAliveFailed(NO_USER_ID)
        client = AvitoApi(context)
        chats = client.chats(user_id, limit=CHATS_PAGE)
    except ServiceError as exc:
        error = exc.message[:MAX_ERROR_LENGTH]
        accounts.record_fields(account_id, {"isOnline": False, "lastOnlineError": error}, bump_version=False, now=now)
        logger.info("Keep-alive failed", extra={"account_id": account_id, "error_code": exc.code})
        return KeepAliveResult(ok=False, at=at, error=error)
    values: dict[str, Any] = {"isOnline": True, "lastOnlineCheck": at}
    try:  # the listing carries each chat's last message: only the chats that changed are fetched and written
        passed = reconcile(
            account_id, user_id, client, previous=_int(item.get(RECONCILED_FIELD)), first_page=chats, now=now
        )
        values[RECONCILED_FIELD] = passed.at
    except ServiceError as exc:  # the account is online all the same; the reconciler tries again
        logger.info("Reconciliation after a keep-alive failed", extra={"account_id": account_id, "code": exc.code})
    accounts.record_fields(account_id, values, {"lastOnlineError"}, bump_version=False, now=now)
    logger.debug("Keep-alive done", extra={"account_id": account_id, "chats": len(chats)})
    return KeepAliveResult(ok=True, at=at)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
