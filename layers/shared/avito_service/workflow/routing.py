"""An account's routing (auto-assignment mode, per-operator cap) and waiting-alert thresholds
(``GET/PUT /accounts/{id}/routing``), kept in MessengerTable next to the account's chats (workflow.store)."""

from __future__ import annotations

from avito_service.accounts.store import account_store
from avito_service.workflow import store
from avito_service.workflow.alerts import DEFAULT_THRESHOLDS
from avito_service.workflow.models import Routing, RoutingIn


def get_routing(account_id: str) -> Routing:
    account_store().existing(account_id)  # 404 account_not_found
    item = store.get_routing(account_id) or {}
    return Routing(
        accountId=account_id,
        mode=item.get("mode", "off"),
        maxOpenPerOperator=int(item["maxOpenPerOperator"]) if item.get("maxOpenPerOperator") else None,
        waitAlertMinutes=[int(m) for m in item.get("waitAlertMinutes") or DEFAULT_THRESHOLDS],
    )


def put_routing(account_id: str, body: RoutingIn) -> Routing:
    account_store().existing(account_id)
    minutes = sorted(set(body.waitAlertMinutes or DEFAULT_THRESHOLDS))
    routing = {"mode": body.mode, "waitAlertMinutes": minutes}
    if body.maxOpenPerOperator is not None:
        routing["maxOpenPerOperator"] = body.maxOpenPerOperator
    store.put_routing(account_id, routing)
    return get_routing(account_id)
