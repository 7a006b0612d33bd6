"""Sync an account's figures from Avito (balance, CPA balance, items, item stats) and keep dated snapshots."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from avito_service import clock
from avito_service.accounts import service as accounts
from avito_service.accounts.models import Account
from avito_service.avito.errors import AvitoError
from avito_service.base import Model
from avito_service.observability import logger

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


def sync_stats(account_id: str, days: int, *, now: float | None = None) -> Account:
    # Imported here: the Avito client brings requests, urllib3 and charset_normalizer, which the stats-history
    # function (it imports this module for ``history``) would otherwise load on every cold start for nothing.
    from avito_service.avito.client import AvitoApi  # noqa: PLC0415

    context = accounts.load_context(account_id)
    client = AvitoApi(context)
    user_id = context.account.userId or str(client.account_self()["id"])

    balance = client.balance(user_id) or {}
    try:
        cpa = client.cpa_balance() or {}
        cpa_balance = int(cpa["balance"]) if cpa.get("balance") is not None else None
    except (AvitoError, KeyError, TypeError, ValueError) as exc:
        logger.info("CPA balance not available", extra={"account_id": account_id, "reason": str(exc)[:200]})
        cpa_balance = None

    items = client.items("active")
    item_ids = [int(i["id"]) for i in items if i.get("id") is not None]
    today = avito_today(now)
    first_day = today - timedelta(days=days - 1)
    rows = client.item_stats(user_id, item_ids, first_day.isoformat(), today.isoformat()) if item_ids else []

    totals = {"uniqViews": 0, "uniqContacts": 0, "uniqFavorites": 0}
    today_totals = {"uniqViews": 0, "uniqContacts": 0}
    for row in rows:
        for day in row.get("stats") or []:
            for name in totals:
                totals[name] += int(day.get(name) or 0)
            if day.get("date") == today.isoformat():
                for name in today_totals:
                    today_totals[name] += int(day.get(name) or 0)

    synced_at = clock.iso(now)
    snapshot = Snapshot(
        date=today.isoformat(),
        syncedAt=synced_at,
        days=days,
        balanceReal=kopecks(balance.get("real")),
        balanceBonus=kopecks(balance.get("bonus")),
        cpaBalance=cpa_balance,
        adsCount=len(item_ids),
        viewsCount=totals["uniqViews"],
        contactsCount=totals["uniqContacts"],
        favoritesCount=totals["uniqFavorites"],
        viewsToday=today_totals["uniqViews"],
        contactsToday=today_totals["uniqContacts"],
    )
    figures = snapshot.model_dump(exclude={"date", "syncedAt", "days"})
    accounts.repository().put_snapshot(account_id, snapshot.date, snapshot.model_dump())
    values = {k: v for k, v in figures.items() if v is not None}
    remove = {k for k, v in figures.items() if v is None}
    if not context.account.userId:
        values["userId"] = user_id
    account = accounts.record_fields(account_id, {**values, "lastSyncAt": synced_at}, remove, now=now)
    logger.info("Stats synced", extra={"account_id": account_id, "items": len(item_ids), "days": days})
    return account


def history(account_id: str, date_from: date | None, date_to: date | None) -> list[Snapshot]:
    accounts.get_item(account_id)  # 404 for an unknown account
    end = date_to or avito_today()
    start = date_from or (end - timedelta(days=MAX_DAYS))
    items = accounts.repository().snapshots(account_id, start.isoformat(), end.isoformat())
    return [Snapshot.model_validate({k: v for k, v in i.items() if k not in {"pk", "sk"}}) for i in items]
