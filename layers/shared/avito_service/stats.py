"""An account's dated stats snapshots and the helpers the sync shares (the sync itself: ``jobs/sync.py``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from avito_service import clock
from avito_service.accounts import service as accounts
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


def kopecks(roubles: Any) -> int | None:
    if roubles is None:
        return None
    return int((Decimal(str(roubles)) * 100).to_integral_value())


def history(account_id: str, date_from: date | None, date_to: date | None) -> list[Snapshot]:
    accounts.get_item(account_id)  # 404 for an unknown account
    end = date_to or avito_today()
    start = date_from or (end - timedelta(days=MAX_DAYS))
    items = accounts.repository().snapshots(account_id, start.isoformat(), end.isoformat())
    return [Snapshot.model_validate({k: v for k, v in i.items() if k not in {"pk", "sk"}}) for i in items]
