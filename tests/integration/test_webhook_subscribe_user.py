"""Issue 22 item 5: webhook subscribe learns the account's Avito user id (Avito's ``self``) first; item 13: a
missing ``WEBHOOK_BASE_URL`` is a logged 500. Real handlers against the simulator over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import accounts_webhook_subscribe
import pytest
import webhook_receiver
from avito_service.accounts import service
from avito_service.avito import tokens as avito_tokens
from avito_service.webhooks import tokens as webhook_tokens

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, call_route

USER_ID = 7272
RESOURCE = "/api/v1/accounts/{id}/webhook"
SUBSCRIBE = r"^/messenger/v3/webhook$"


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("w-cid", "w-secret", USER_ID, name="Hooked")
    yield simulator
    simulator.stop()


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("WEBHOOK_BASE_URL", "https://hooks.example.test")
    reset_caches()
    avito_tokens.forget_in_memory()
    webhook_tokens.forget_verified()
    sim.clear_requests()
    sim.clear_faults()
    return sim


def subscribe(account_id: str) -> tuple[int, dict[str, Any]]:
    return call_route(accounts_webhook_subscribe, "POST", RESOURCE, {"id": account_id}, role="admin")


def deliver(url: str) -> tuple[int, dict[str, Any]]:
    path = url.removeprefix("https://hooks.example.test")
    value = {
        "id": "wm-1",
        "chat_id": "u2i-w1",
        "user_id": USER_ID,
        "author_id": 9501,
        "created": 1_795_773_598,
        "type": "text",
        "content": {"text": "hello"},
    }
    body = {
        "id": "d-1",
        "version": "v3.0.0",
        "timestamp": 1_795_773_598,
        "payload": {"type": "message", "value": value},
    }
    event = {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": path, "sourceIp": "1.2.3.4"},
            "requestId": "r-1",
            "stage": "$default",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    result = webhook_receiver.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


def test_subscribe_learns_the_user_id_so_deliveries_are_accepted(avito: AvitoSimulator) -> None:
    account_id = create_account(name="No user id yet", clientId="w-cid", clientSecret="w-secret", userId=None)
    assert service.get_account(account_id).userId is None
    status, body = subscribe(account_id)
    assert status == 200 and body["data"]["subscribed"] is True, body
    assert service.get_account(account_id).userId == str(USER_ID)  # learnt from Avito's self, stored
    assert avito.count("GET", r"^/core/v1/accounts/self$") == 1
    url = next(u for u in avito.subscriptions(USER_ID) if f"/{account_id}/" in u)
    assert deliver(url) == (200, {"ok": True, "duplicate": False})  # before: 403 user_mismatch for every one


def test_subscribe_refuses_a_stored_user_id_that_differs_from_avitos(avito: AvitoSimulator) -> None:
    account_id = create_account(name="Wrong user id", clientId="w-cid", clientSecret="w-secret", userId=999)
    status, body = subscribe(account_id)
    assert status == 409 and body["error"]["code"] == "user_id_mismatch", body
    assert avito.count("POST", SUBSCRIBE) == 0  # nothing subscribed that would refuse every delivery
    assert service.get_account(account_id).userId == "999" and not service.get_account(account_id).webhookSubscribed


def test_a_missing_webhook_base_url_is_a_logged_500(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch, captured_logs: Any
) -> None:
    monkeypatch.delenv("WEBHOOK_BASE_URL", raising=False)
    reset_caches()
    account_id = create_account(name="Unconfigured", clientId="w-cid", clientSecret="w-secret", userId=USER_ID)
    status, body = subscribe(account_id)
    assert status == 500 and body["error"]["code"] == "webhook_not_configured", body
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines() if line.startswith("{")]
    assert any(line["level"] == "ERROR" and "WEBHOOK_BASE_URL" in line["message"] for line in lines)
    assert avito.count("POST", SUBSCRIBE) == 0
