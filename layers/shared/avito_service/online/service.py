"""Eternal-online settings of an account (enable, disable) and the status of every enabled account."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from avito_service import clock
from avito_service.accounts.models import DEFAULT_INTERVAL, Account, Interval
from avito_service.accounts.store import ONLINE_PK, Change, ConditionFailed, account_store
from avito_service.base import ApiModel, Model
from avito_service.errors import NotFound
from avito_service.observability import logger

STATUS_FIELDS = ("id", "name", "onlineKeepAliveInterval", "isOnline", "lastOnlineCheck", "lastOnlineError")


class EnableRequest(ApiModel):
    """Optional body of ``POST /api/v1/eternal-online/accounts/{accountId}/enable``."""

    interval: Interval | None = Field(default=None, description="seconds (60-3600); default: keep the current one")


class OnlineStatus(Model):
    accountId: str
    name: str
    interval: int = Field(description="seconds between keep-alives")
    isOnline: bool
    lastOnlineCheck: str | None = Field(description="last successful keep-alive (ISO 8601 UTC)")
    lastOnlineError: str | None = Field(description="why the last keep-alive failed; null after a success")
    nextDueAt: str = Field(description="when the next keep-alive is due (ISO 8601 UTC)")


def enable(account_id: str, interval: int | None = None, *, now: float | None = None) -> Account:
    """Enable eternal online (``interval`` None keeps the current one), then run one keep-alive at once.

    The keep-alive run here counts as the first one: the next is due ``interval`` seconds later, and the rest of
    the window is planned at once (``schedule.plan_account``): a new interval takes effect now, not at the next
    tick, and what was planned under the old settings is skipped (a new generation).
    """
    timestamp = clock.now() if now is None else now
    current = account_store().existing(account_id)
    interval = interval or int(current.get("onlineKeepAliveInterval") or DEFAULT_INTERVAL)
    _update(
        account_id,
        Change(
            set_values={
                "eternalOnlineEnabled": True,
                "onlineKeepAliveInterval": interval,
                "onlinePk": ONLINE_PK,
                "nextDueAt": int(timestamp) + interval,
                "updatedAt": clock.iso(timestamp),
            },
            add={"onlineGeneration": 1},  # keep-alives planned under the old settings are skipped
        ),
    )
    logger.info("Eternal online enabled", extra={"account_id": account_id, "interval": interval})
    # Imported here: the keep-alive needs the Avito client (requests, PySocks), which disable and status,
    # also in this module, do not; importing it at the top cost their cold start ~20 ms for nothing.
    from avito_service.online.keepalive import keep_alive  # noqa: PLC0415 - deferred on purpose
    from avito_service.online.schedule import plan_account  # noqa: PLC0415 - the tick's planning, for one account

    keep_alive(account_id, now=now)
    plan_account(account_id, now=timestamp)
    return Account.from_item(account_store().existing(account_id))


def disable(account_id: str, *, now: float | None = None) -> Account:
    """Disable eternal online: out of the due index, and keep-alives already queued are skipped."""
    change = Change(
        set_values={"eternalOnlineEnabled": False, "updatedAt": clock.iso(now)},
        remove={"onlinePk", "nextDueAt"},
        add={"onlineGeneration": 1},
    )
    account = Account.from_item(_update(account_id, change))
    logger.info("Eternal online disabled", extra={"account_id": account_id})
    return account


def _update(account_id: str, change: Change) -> dict[str, Any]:
    try:
        return account_store().update(account_id, change)
    except ConditionFailed:
        raise NotFound(f"No account with id '{account_id[:64]}'.", code="account_not_found") from None


def status(limit: int = 50, cursor: str | None = None) -> tuple[list[OnlineStatus], str | None]:
    """Enabled accounts, soonest due first, from the sparse index (plus one batch read of their items)."""
    store = account_store()
    page, next_cursor = store.online_page(limit, cursor)
    due = {str(i["id"]): int(i["nextDueAt"]) for i in page}
    items = store.get_many(list(due), STATUS_FIELDS)
    statuses = [
        OnlineStatus(
            accountId=account_id,
            name=str(item.get("name", "")),
            interval=int(item.get("onlineKeepAliveInterval") or DEFAULT_INTERVAL),
            isOnline=bool(item.get("isOnline", False)),
            lastOnlineCheck=item.get("lastOnlineCheck"),
            lastOnlineError=item.get("lastOnlineError"),
            nextDueAt=clock.iso(next_due),
        )
        for account_id, next_due in due.items()
        if (item := items.get(account_id)) is not None
    ]
    return statuses, next_cursor
