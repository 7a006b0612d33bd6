"""An account's rules the figures measure against: its working-hours calendar (the automatic replies' calendar,
``autoReplies.workingHours`` on the account item, written by the automatic-replies settings) and its first waiting
alert threshold (the smallest of ``waitAlertMinutes`` on the account's routing item, written by
``PUT /accounts/{id}/routing`` and read through ``workflow.queries.routings``). Both are read defensively: an
account without them is always working and has the contract's default first threshold, 5 minutes."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from avito_service.accounts.store import account_store
from avito_service.observability import logger
from avito_service.workflow import queries
from avito_service.working_hours import Calendar

DEFAULT_SLOW_AFTER_SECONDS = 5 * 60  # the contract's default waitAlertMinutes [5, 15, 30]: the first one


@dataclass(frozen=True)
class AccountRules:
    calendar: Calendar | None  # None: always working
    slow_after_seconds: float = DEFAULT_SLOW_AFTER_SECONDS


def rules_of(account: Mapping[str, Any] | None, routing: Mapping[str, Any] | None = None) -> AccountRules:
    account = account or {}
    calendar = None
    auto = account.get("autoReplies")
    spec = auto.get("workingHours") if isinstance(auto, Mapping) else None
    if isinstance(spec, Mapping):
        try:
            calendar = Calendar.from_spec(spec)
        except ValueError:
            logger.warning("Unreadable working hours: measured as always working", extra={"account": account.get("id")})
    slow = DEFAULT_SLOW_AFTER_SECONDS
    thresholds = routing.get("waitAlertMinutes") if isinstance(routing, Mapping) else None
    if isinstance(thresholds, list) and thresholds:
        with contextlib.suppress(TypeError, ValueError):
            slow = float(min(thresholds)) * 60
    return AccountRules(calendar, slow)


def load_rules(account_ids: list[str]) -> dict[str, AccountRules]:
    ids = sorted(set(account_ids))
    found = account_store().get_many(ids, ("id", "autoReplies")) if ids else {}
    routings = queries.routings(ids)
    return {account_id: rules_of(found.get(account_id), routings.get(account_id)) for account_id in account_ids}
