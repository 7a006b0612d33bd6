"""An account's dated stats snapshots and the helpers the sync shares (the sync itself: ``jobs/sync.py``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from avito_service import clock
from avito_service.accounts.store import account_store
from avito_service.avito.errors import AvitoError
from avito_service.base import Model

AVITO_TZ = ZoneInfo("Europe/Moscow")
MAX_DAYS = 270


class Snapshot(Model):
    date: str
    syncedAt: str
    days: int
    balanceReal: int | None = None
    balanceBonus: int | None = None
    cpaBalance: int | None = None
    adsCount: int
    viewsCount: int
    contactsCount: int
    favoritesCount: int
    viewsToday: int
    contactsToday: int


def avito_today(now: float | None = None) -> date:
    return datetime.fromtimestamp(clock.now() if now is None else now, tz=AVITO_TZ).date()


MAX_KOPECKS = 2**53 - 1  # every figure stays exact in DynamoDB and in a JavaScript client (Number.MAX_SAFE_INTEGER)


def kopecks(roubles: Any) -> int | None:
    """Avito's roubles -> kopecks; a balance no one can hold (beyond ±2^53 kopecks, not a number) is a 502
    naming it, never an error storing it."""
    if roubles is None:
        return None
    try:
        value = (Decimal(str(roubles)) * 100).to_integral_value()
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite() or abs(value) > MAX_KOPECKS:
        raise AvitoError(
            f"Avito reported a balance of {str(roubles)[:40]} roubles, which is not an amount this service can "
            f"store (at most ±{MAX_KOPECKS // 100} roubles).",
            endpoint="core.balance",
            code="avito_bad_response",
        )
    return int(value)


def history(
    account_id: str, date_from: date | None, date_to: date | None, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Snapshot], str | None]:
    """One page of stored snapshots, oldest first, and the cursor of the next page (None on the last)."""
    account_store().existing(account_id)  # 404 for an unknown account
    end = date_to or avito_today()
    start = date_from or (end - timedelta(days=MAX_DAYS))
    items, next_cursor = account_store().snapshots_page(account_id, start.isoformat(), end.isoformat(), limit, cursor)
    snapshots = [Snapshot.model_validate({k: v for k, v in i.items() if k not in {"pk", "sk"}}) for i in items]
    return snapshots, next_cursor
