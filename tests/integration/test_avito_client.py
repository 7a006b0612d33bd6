"""The Avito client, check-connection and sync-stats against the simulator over HTTP, through real proxies."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import accounts_check_connection
import accounts_stats_history
import accounts_sync_stats
import pytest
from avito_service.accounts import service
from avito_service.accounts.stats import avito_today
from avito_service.avito.client import AvitoApi
from avito_service.avito.errors import AvitoError

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import call, call_route
from tests.support.proxies import ProxyServer, start_proxies

USER_ID = 4242


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account(
        "cid", "csecret", USER_ID, name="Shop", balance_real=1234.56, balance_bonus=10.5, cpa_balance=777
    )
    today = avito_today()
    for item_id in (1, 2, 3):
        stats = {(today - timedelta(days=d)).isoformat(): (10 * item_id, item_id, 1) for d in range(40)}
        simulator.add_item(USER_ID, item_id, f"Item {item_id}", stats=stats)
    simulator.add_item(USER_ID, 9, "Old item", status="old", stats={today.isoformat(): (1000, 1000, 1000)})
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def proxies() -> Iterator[tuple[dict[str, ProxyServer], Any]]:
    servers, cert = start_proxies()
    yield servers, cert
    for server in servers.values():
        server.stop()


@pytest.fixture
def avito(
    sim: AvitoSimulator,
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    proxies: tuple[dict[str, ProxyServer], Any],
) -> AvitoSimulator:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_PROXY_CA_BUNDLE", str(proxies[1]))
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "1.5")
    monkeypatch.setenv("AVITO_CONNECT_TIMEOUT", "2")
    reset_caches()
    sim.clear_requests()
    sim.clear_faults()
    sim.latency = 0.0
    return sim


def new_account(**fields: Any) -> str:
    return create_account(**{"clientSecret": "csecret", **fields})


def sync(account_id: str, body: dict[str, Any] | None = None, role: str = "admin") -> tuple[int, dict[str, Any]]:
    return call_route(
        accounts_sync_stats, "POST", "/api/v1/accounts/{id}/sync-stats", {"id": account_id}, body=body, role=role
    )


def check(account_id: str) -> tuple[int, dict[str, Any]]:
    return call_route(
        accounts_check_connection, "POST", "/api/v1/accounts/{id}/check-connection", {"id": account_id}, role="operator"
    )


@pytest.mark.parametrize("kind", ["http", "https", "socks5", "socks4"])
def test_check_connection_through_each_proxy(avito: AvitoSimulator, proxies: Any, kind: str) -> None:
    proxy = proxies[0][kind]
    proxy.log.clear()
    account_id = new_account(**proxy.settings())
    status, body = check(account_id)
    assert status == 200, body
    data = body["data"]
    assert data["ok"] is True and data["connectionStatus"] == "connected" and data["proxyStatus"] == "ok"
    assert data["userId"] == str(USER_ID)  # filled in from Avito
    assert all(data["steps"][s]["ok"] for s in ("proxy", "token", "account"))
    assert avito.count("POST", r"^/token$") == 1 and avito.count("GET", r"^/core/v1/accounts/self$") == 1
    assert any(str(avito.base_url.rsplit(":", 1)[1]) in line for line in proxy.log), proxy.log
    stored = service.get_account(account_id)
    assert stored.connectionStatus == "connected" and stored.userId == str(USER_ID) and stored.lastCheckedAt


def test_stopped_proxy_is_a_proxy_error_never_direct(avito: AvitoSimulator) -> None:
    # A port held bound but not listening refuses connections, and no other test's proxy can take it meanwhile
    # (a started-then-stopped proxy's port was once reused by a parallel worker's proxy: a 407, not a refusal).
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        dead = ProxyServer("socks5", "u", "DEADPROXYPASS", port=holder.getsockname()[1])
        account_id = new_account(**dead.settings())
        status, body = check(account_id)
    assert status == 200
    data = body["data"]
    assert data["connectionStatus"] == "proxy_error" and data["proxyStatus"] == "failed"
    assert data["steps"]["proxy"]["ok"] is False and data["steps"]["token"]["ok"] is False
    assert avito.count() == 0  # nothing went around the proxy
    assert "refused" in data["steps"]["proxy"]["error"].lower() and "DEADPROXYPASS" not in str(body)
    assert service.get_account(account_id).lastError


def test_proxy_rejecting_credentials_is_a_proxy_error(avito: AvitoSimulator, proxies: Any) -> None:
    settings = {**proxies[0]["http"].settings(), "proxyPassword": "WRONG-PASSWORD-123"}
    _status, body = check(new_account(**settings))
    assert body["data"]["connectionStatus"] == "proxy_error"
    assert "WRONG-PASSWORD-123" not in str(body)
    assert avito.count() == 0


def test_wrong_credentials_are_auth_error(avito: AvitoSimulator) -> None:
    status, body = check(new_account(clientSecret="wrong"))
    assert status == 200 and body["data"]["connectionStatus"] == "auth_error"
    assert body["data"]["proxyStatus"] == "not_configured" and body["data"]["steps"]["proxy"] is None


def test_user_id_mismatch_is_api_error_and_keeps_stored_id(avito: AvitoSimulator) -> None:
    account_id = new_account(userId="999")
    _, body = check(account_id)
    assert body["data"]["connectionStatus"] == "api_error" and "999" in body["data"]["steps"]["account"]["error"]
    assert service.get_account(account_id).userId == "999"


def test_one_token_for_many_calls_and_containers(avito: AvitoSimulator) -> None:
    account_id = new_account(userId=str(USER_ID))
    errors: list[Exception] = []

    def container() -> None:
        try:
            client = AvitoApi(service.load_context(account_id))  # a separate client object per "container"
            for _ in range(10):
                client.account_self()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=container) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert avito.count("POST", r"^/token$") == 1
    assert avito.count("GET", r"^/core/v1/accounts/self$") == 60


def test_expired_token_is_refreshed_once(avito: AvitoSimulator) -> None:
    client = AvitoApi(service.load_context(new_account(userId=str(USER_ID))))
    client.account_self()
    avito.revoke_tokens()
    assert client.account_self()["id"] == USER_ID
    assert avito.count("POST", r"^/token$") == 2


def test_429_with_retry_after_is_retried(avito: AvitoSimulator) -> None:
    client = AvitoApi(service.load_context(new_account(userId=str(USER_ID))))
    avito.add_fault(r"^/core/v1/accounts/self$", status=429, retry_after=1, times=1)
    assert client.account_self()["id"] == USER_ID
    assert avito.count("GET", r"^/core/v1/accounts/self$") == 2


def test_every_avito_call_is_counted_by_endpoint_and_outcome(
    avito: AvitoSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    client = AvitoApi(service.load_context(new_account(userId=str(USER_ID))))
    avito.add_fault(r"/balance/$", status=404, times=1)
    capsys.readouterr()
    client.account_self()
    with pytest.raises(AvitoError):
        client.balance(str(USER_ID))
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    calls = {(m["endpoint"], m["outcome"]) for m in emf if "AvitoCall" in m}
    assert calls == {("token", "ok"), ("core.self", "ok"), ("core.balance", "avito_error")}
    latencies = {m["endpoint"]: m["AvitoCallLatency"] for m in emf if "AvitoCallLatency" in m}
    assert set(latencies) == {"token", "core.self", "core.balance"}
    assert all(isinstance(v, list | int | float) for v in latencies.values())


def test_persistent_5xx_is_502_with_avitos_message(avito: AvitoSimulator) -> None:
    account_id = new_account(userId=str(USER_ID))
    avito.add_fault(r"/balance/$", status=500, body={"error": {"code": 500, "message": "Balance is down"}}, times=None)
    status, body = sync(account_id)
    assert status == 502 and "Balance is down" in body["error"]["message"]
    assert avito.count("GET", r"/balance/$") == 4  # the call and three bounded retries


def test_slow_avito_is_504(avito: AvitoSimulator) -> None:
    account_id = new_account(userId=str(USER_ID))
    avito.add_fault(r"^/core/v1/accounts/self$", status=200, delay=3, times=1)
    status, body = check(account_id)
    assert body["data"]["connectionStatus"] == "api_error"
    assert "did not answer" in body["data"]["steps"]["account"]["error"]
    avito.add_fault(r"/balance/$", status=200, delay=3, times=1)
    status, body = sync(account_id)
    assert status == 504 and body["error"]["code"] == "avito_timeout"


def test_sync_stats_figures_equal_the_simulators(avito: AvitoSimulator, proxies: Any) -> None:
    account_id = new_account(userId=str(USER_ID), **proxies[0]["socks5"].settings())
    status, body = sync(account_id, {"days": 7})
    assert status == 200, body
    data = body["data"]
    assert (data["balanceReal"], data["balanceBonus"], data["cpaBalance"]) == (123456, 1050, 777)
    assert data["adsCount"] == 3  # active items only
    assert data["viewsCount"] == 7 * (10 + 20 + 30) and data["contactsCount"] == 7 * (1 + 2 + 3)
    assert data["favoritesCount"] == 7 * 3
    assert (data["viewsToday"], data["contactsToday"]) == (60, 6)
    assert data["lastSyncAt"]

    status, body = call(
        accounts_stats_history,
        "GET",
        f"/api/v1/accounts/{account_id}/stats/history",
        resource="/api/v1/accounts/{id}/stats/history",
        path_parameters={"id": account_id},
        query={"from": avito_today().isoformat(), "to": avito_today().isoformat()},
    )
    assert status == 200 and len(body["data"]) == 1 and body["data"][0]["viewsCount"] == 420
    assert (
        call(
            accounts_stats_history,
            "GET",
            f"/api/v1/accounts/{account_id}/stats/history",
            resource="/api/v1/accounts/{id}/stats/history",
            path_parameters={"id": account_id},
            query={"from": "2026-02-30"},
        )[0]
        == 422
    )


def test_sync_days_validation_and_cpa_failure_tolerated(avito: AvitoSimulator) -> None:
    account_id = new_account(userId=str(USER_ID))
    for days in (0, 271):
        status, _ = sync(account_id, {"days": days})
        assert status == 422
    avito.add_fault(r"^/cpa/v3/balanceInfo$", status=500, times=None)
    status, body = sync(account_id)
    assert status == 200 and body["data"]["cpaBalance"] is None and body["data"]["balanceReal"] == 123456
