"""The whole service through the local runtime over real HTTP: API Gateway, authorizer, Function URL, moto,
and the Avito simulator (which POSTs webhook deliveries to the stack's own Function URL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from avito_service.auth import mint

from avito_sim import AvitoSimulator
from local_runtime import LocalStack
from tests.support.proxies import ProxyServer
from tests.support.stack import loopback_stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
USER_ID, CLIENT_ID, CLIENT_SECRET = 7001, "e2e-client", "e2e-secret"
SECRET_USER_ID, SECRET_CLIENT_ID = 7002, "e2e-secret-client"
CLIENT_SECRET_MARK = "E2E-CLIENT-SECRET-7f3a"
PROXY_PASSWORD_MARK = "E2E-PROXY-PASS-91bc"
CHAT = "u2i-e2e-chat-1"
SECRET_CHAT = "u2i-e2e-secret-chat"

# Every response body seen by the tests of this module (the secrets scan reads them all).
BODIES: list[str] = []


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account(CLIENT_ID, CLIENT_SECRET, USER_ID, name="E2E shop", balance_real=100.25)
    simulator.add_item(USER_ID, 4100000001, "Диван", stats={})
    simulator.add_chat(USER_ID, CHAT, item_id=4100000001, item_title="Диван", client_name="Анна", client_user_id=55)
    simulator.add_message(USER_ID, CHAT, "e2e-m1", "Здравствуйте!")
    simulator.add_account(SECRET_CLIENT_ID, CLIENT_SECRET_MARK, SECRET_USER_ID, name="Secret shop")
    simulator.add_chat(SECRET_USER_ID, SECRET_CHAT, item_id=4100000002, client_name="Олег", client_user_id=56)
    simulator.add_message(SECRET_USER_ID, SECRET_CHAT, "e2e-s1", "Добрый день")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-logs") / "local.log"


@pytest.fixture(scope="module")
def stack(sim: AvitoSimulator, log_file: Path) -> Iterator[LocalStack]:
    local = loopback_stack(sim.base_url, log_file, schedule_seconds=3600)
    local.start()
    yield local
    local.stop()


@pytest.fixture(scope="module")
def proxy() -> Iterator[ProxyServer]:
    server = ProxyServer("socks5", "e2e-proxy-user", PROXY_PASSWORD_MARK).start()
    yield server
    server.stop()


def bearer(stack: LocalStack, role: str = "admin") -> dict[str, str]:
    assert stack.jwt_secret
    return {"Authorization": "Bearer " + mint(stack.jwt_secret, sub="e2e@example.com", role=role)}


def api(stack: LocalStack, method: str, path: str, *, role: str | None = "admin", **kwargs: Any) -> requests.Response:
    headers = bearer(stack, role) if role else {}
    response = requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=30, **kwargs)
    BODIES.append(response.text)
    return response


def ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True, body
    return body["data"]


@pytest.fixture(scope="module")
def account(stack: LocalStack, sim: AvitoSimulator) -> dict[str, Any]:
    """A proxy-less account pointing at the simulator, created over HTTP."""
    return ok(
        api(
            stack,
            "POST",
            "/api/v1/accounts",
            json={"name": "E2E shop", "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET},
        ),
        201,
    )


def test_health_answers_at_once(stack: LocalStack) -> None:
    started = time.monotonic()
    data = ok(requests.get(f"{stack.api_url}/api/v1/health", timeout=10))
    assert data["status"] == "ok" and data["version"]
    assert time.monotonic() - started < 20  # a hung stack, not a latency claim (benchmarks/ measure those)


def test_protected_route_needs_a_token_and_a_known_role(stack: LocalStack) -> None:
    missing = api(stack, "GET", "/api/v1/accounts", role=None)
    assert missing.status_code == 401
    error = missing.json()
    assert error["success"] is False and error["error"]["code"] == "unauthorized" and error["error"]["message"]
    assert ok(api(stack, "GET", "/api/v1/accounts")) is not None
    denied = api(stack, "GET", "/api/v1/accounts", role="janitor")
    assert denied.status_code == 403
    assert denied.json()["success"] is False and denied.json()["error"]["code"] == "forbidden"


def test_account_check_connection_and_live_chats(stack: LocalStack, account: dict[str, Any]) -> None:
    assert account["hasClientSecret"] is True and account["proxyStatus"] == "not_configured"
    check = ok(api(stack, "POST", f"/api/v1/accounts/{account['id']}/check-connection"))
    assert check["ok"] is True and check["connectionStatus"] == "connected" and check["userId"] == str(USER_ID)
    chats = ok(api(stack, "GET", f"/api/v1/messenger/accounts/{account['id']}/chats", role="operator"))
    assert CHAT in [chat["id"] for chat in chats]


def test_webhook_delivery_end_to_end_is_stored_once(
    stack: LocalStack, sim: AvitoSimulator, account: dict[str, Any]
) -> None:
    subscribed = ok(api(stack, "POST", f"/api/v1/accounts/{account['id']}/webhook"))
    assert subscribed["subscribed"] is True
    [url] = sim.subscriptions(USER_ID)
    assert url.startswith(stack.webhook_url + "/")
    message, deliveries = sim.incoming_message(USER_ID, CHAT, "Можно сегодня посмотреть?")
    assert deliveries == [(url, 200)]
    assert sim.deliver(USER_ID, sim.webhook_value(USER_ID, CHAT, message["id"])) == [(url, 200)]
    stored = ok(api(stack, "GET", f"/api/v1/chats/{CHAT}/messages", role="operator", params={"limit": "100"}))
    matching = [m for m in stored if m["id"] == message["id"]]
    assert len(matching) == 1 and matching[0]["text"] == "Можно сегодня посмотреть?"
    assert matching[0]["direction"] == "in" and matching[0]["accountId"] == account["id"]
    chat = ok(api(stack, "GET", f"/api/v1/chats/{CHAT}", role="operator"))
    assert chat["lastMessage"]["id"] == message["id"]


def test_secrets_never_leave_the_service(
    stack: LocalStack, sim: AvitoSimulator, proxy: ProxyServer, log_file: Path
) -> None:
    statuses: dict[str, int] = {}

    def hit(name: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = api(stack, method, path, **kwargs)
        statuses[name] = response.status_code
        assert response.status_code < 500, (name, response.text)
        return response

    good = ok(
        hit(
            "create",
            "POST",
            "/api/v1/accounts",
            json={
                "name": "Secret shop",
                "clientId": SECRET_CLIENT_ID,
                "clientSecret": CLIENT_SECRET_MARK,
                **proxy.settings(),
            },
        ),
        201,
    )
    bad = ok(
        hit(
            "create-unknown",
            "POST",
            "/api/v1/accounts",
            json={
                "name": "Wrong secret",
                "clientId": "e2e-unknown-client",
                "clientSecret": CLIENT_SECRET_MARK + "-x",
                "proxyType": "http",
                "proxyHost": "127.0.0.1",
                "proxyPort": 9,
                "proxyLogin": "nobody",
                "proxyPassword": PROXY_PASSWORD_MARK,
            },
        ),
        201,
    )
    gid, bid = good["id"], bad["id"]
    hit(
        "create-duplicate",
        "POST",
        "/api/v1/accounts",
        json={"name": "Dup", "clientId": SECRET_CLIENT_ID, "clientSecret": CLIENT_SECRET_MARK},
    )
    hit(
        "create-invalid",
        "POST",
        "/api/v1/accounts",
        json={
            "name": "Bad",
            "clientId": "x",
            "clientSecret": CLIENT_SECRET_MARK,
            "proxyPort": 0,
            "proxyPassword": PROXY_PASSWORD_MARK,
        },
    )
    ok(hit("list", "GET", "/api/v1/accounts", params={"limit": "100"}))
    for account_id in (gid, bid):
        ok(hit("get", "GET", f"/api/v1/accounts/{account_id}"))
        hit("check", "POST", f"/api/v1/accounts/{account_id}/check-connection")
    assert ok(hit("get", "GET", f"/api/v1/accounts/{gid}"))["connectionStatus"] == "connected"
    assert ok(hit("get", "GET", f"/api/v1/accounts/{bid}"))["connectionStatus"] in {"proxy_error", "auth_error"}
    ok(
        hit(
            "update",
            "PUT",
            f"/api/v1/accounts/{gid}",
            json={"name": "Secret shop 2", "clientSecret": CLIENT_SECRET_MARK, "proxyPassword": PROXY_PASSWORD_MARK},
        )
    )
    ok(hit("sync", "POST", f"/api/v1/accounts/{gid}/sync-stats", json={"days": 3}))
    ok(hit("history", "GET", f"/api/v1/accounts/{gid}/stats/history"))
    ok(hit("webhook-subscribe", "POST", f"/api/v1/accounts/{gid}/webhook"))
    ok(hit("webhook-get", "GET", f"/api/v1/accounts/{gid}/webhook"))
    sim.incoming_message(SECRET_USER_ID, SECRET_CHAT, "Ещё актуально?")
    ok(hit("live-chats", "GET", f"/api/v1/messenger/accounts/{gid}/chats"))
    live = ok(hit("live-messages", "GET", f"/api/v1/messenger/accounts/{gid}/chats/{SECRET_CHAT}/messages"))
    ok(hit("send", "POST", f"/api/v1/messenger/accounts/{gid}/chats/{SECRET_CHAT}/send", json={"text": "Да"}))
    ok(hit("read", "POST", f"/api/v1/messenger/accounts/{gid}/chats/{SECRET_CHAT}/messages/{live[0]['id']}/read"))
    ok(hit("status-online", "POST", f"/api/v1/messenger/accounts/{gid}/status/online"))
    hit("status-online-bad", "POST", f"/api/v1/messenger/accounts/{bid}/status/online")
    ok(hit("stored-chats", "GET", "/api/v1/chats", params={"accountId": gid}))
    ok(hit("stored-chat", "GET", f"/api/v1/chats/{SECRET_CHAT}"))
    ok(hit("stored-messages", "GET", f"/api/v1/chats/{SECRET_CHAT}/messages"))
    ok(hit("online-enable", "POST", f"/api/v1/eternal-online/accounts/{gid}/enable", json={"interval": 60}))
    ok(hit("online-set", "POST", f"/api/v1/eternal-online/accounts/{gid}/set-online"))
    hit("online-set-bad", "POST", f"/api/v1/eternal-online/accounts/{bid}/set-online")
    ok(hit("online-status", "GET", "/api/v1/eternal-online/status"))
    ok(hit("online-disable", "POST", f"/api/v1/eternal-online/accounts/{gid}/disable"))
    ok(hit("webhook-unsubscribe", "DELETE", f"/api/v1/accounts/{gid}/webhook"))
    hit("openapi", "GET", "/api/v1/openapi.json")
    for account_id in (gid, bid):
        ok(hit("delete", "DELETE", f"/api/v1/accounts/{account_id}"))
    assert statuses["create-duplicate"] == 409 and statuses["create-invalid"] == 422

    # No wait needed: the runtime writes an invocation's log lines before it answers (the worker's END line).
    leaks = [
        (mark, index)
        for index, body in enumerate(BODIES)
        for mark in (CLIENT_SECRET_MARK, PROXY_PASSWORD_MARK)
        if mark in body
    ]
    assert leaks == [], "a response body carries a secret"
    lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    assert lines, "the stack wrote no log lines"
    logged = [line for line in lines if CLIENT_SECRET_MARK in line or PROXY_PASSWORD_MARK in line]
    assert logged == [], "\n".join(logged[:5])
