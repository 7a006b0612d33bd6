"""Issue 28: account health fields. ``lastWebhookAt`` is the last valid delivery (written at most once a minute per
account and container, not once per delivery); ``authType`` of accounts with keys; the fields in every answer.
(``tokenExpiresAt``, ``messengerAvailable`` and the oauth account's are in test_oauth.py.)"""

from __future__ import annotations

from typing import Any

import accounts_get
import pytest
from avito_service import clock
from avito_service.webhooks import deliveries as webhook_deliveries

from tests.integration.test_webhook import account, delivery, post  # noqa: F401 - the fixture is used by name
from tests.support.events import call_route


def read(account_id: str) -> dict[str, Any]:
    status, body = call_route(accounts_get, "GET", "/api/v1/accounts/{id}", {"id": account_id})
    assert status == 200, body
    return body["data"]


def test_a_new_account_with_keys_has_its_health_fields(account: dict[str, str]) -> None:  # noqa: F811
    fresh = read(account["id"])
    assert fresh["authType"] == "client_credentials"
    assert fresh["tokenExpiresAt"] is None and fresh["messengerAvailable"] is None and fresh["lastWebhookAt"] is None


def test_last_webhook_at_is_the_last_valid_delivery(
    account: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert post(account, {})[0] == 200  # a probe is no delivery
    assert post(account, delivery("m-1"), token="x" * 43)[0] == 401  # a forged one neither
    assert read(account["id"])["lastWebhookAt"] is None

    writes: list[str] = []
    real = webhook_deliveries.aws.table

    def counting(name: str) -> Any:
        table = real(name)
        if not getattr(table, "counted", False):  # the Table is cached per thread: wrap it once
            original = table.update_item
            # the account's own item only (the chat workflow also updates MessengerTable's chat items)
            table.update_item = lambda **kw: (
                writes.append(kw["UpdateExpression"]) if kw["Key"].get("sk") == "PROFILE" else None,
                original(**kw),
            )[1]
            table.counted = True
        return table

    monkeypatch.setattr(webhook_deliveries.aws, "table", counting)
    now = [1_800_000_000.0]
    monkeypatch.setattr(webhook_deliveries.clock, "now", lambda: now[0])
    assert post(account, delivery("m-1"))[0] == 200
    assert read(account["id"])["lastWebhookAt"] == clock.iso(now[0])
    now[0] += 30
    assert post(account, delivery("m-2"))[0] == 200
    assert post(account, delivery("m-2"))[0] == 200  # a repeat is valid too
    assert writes == ["SET lastWebhookAt = :at"]  # within the minute: no second write
    now[0] += 31
    assert post(account, delivery("m-3"))[0] == 200
    assert read(account["id"])["lastWebhookAt"] == clock.iso(now[0]) and len(writes) == 2
