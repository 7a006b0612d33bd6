"""Fault injection (issue #9): Avito and the account's proxy misbehave; the service answers as the contract says.

Every case goes through a real handler (``functions/*.py`` ``lambda_handler`` with an API Gateway event)
against the simulator over HTTP, and checks three things: the status and the contract's error shape
(502 ``avito_*``/``proxy_error``, 504 ``avito_timeout``; never a 500), how often Avito was called
(retries bounded; a send never repeated), and that nothing is half-stored (no stats snapshot or figures
after a failed sync, no stored chat or message after a failed Messenger call, the account's stored
connection status telling the truth after a failed check).

Cases that live elsewhere and are not repeated here:
``test_avito_client.py`` - the client itself: 429 with Retry-After retried, a revoked token refreshed once,
persistent 5xx on the balance (502 with Avito's message), slow Avito on check-connection and sync-stats
(504), a stopped SOCKS5 proxy and an HTTP proxy rejecting the login on check-connection (never direct);
``test_messenger.py`` - a send timing out after it reached Avito is not resent (504), 402/403 Messenger
access (502 ``messenger_not_available``).

Timeouts, retries and backoff are made small through the environment so the module stays fast.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import messenger_chats
import messenger_send
import pytest
from avito_service.accounts import service
from avito_service.accounts.stats import avito_today
from avito_service.avito import tokens as avito_tokens
from avito_service.messenger.store import chat_store

from avito_sim import AvitoSimulator
from tests.integration import test_avito_client as avito_client_tests
from tests.integration.test_avito_client import check
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import call
from tests.support.proxies import ProxyServer

USER_ID = 6060
CLIENT_ID, CLIENT_SECRET = "fault-cid", "fault-secret"
READ_TIMEOUT = 0.8  # seconds; a fault "delay" longer than this is a read timeout
MAX_RETRIES = 2  # so an idempotent call is made at most 3 times
PROXY_PASSWORD = "RIGHT-proxy-pass-42"
WRONG_PASSWORD = "WRONG-proxy-pass-17"

SELF = r"^/core/v1/accounts/self$"
TOKEN = r"^/token$"
BALANCE = r"/balance/$"
ITEMS = r"^/core/v1/items$"
STATS = r"^/stats/v1/accounts/\d+/items$"
CHATS = r"^/messenger/v2/accounts/\d+/chats$"
SEND = r"^/messenger/v1/accounts/\d+/chats/[^/]+/messages$"


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account(CLIENT_ID, CLIENT_SECRET, USER_ID, name="Fault shop", balance_real=100.5, cpa_balance=5)
    today = avito_today()
    for item_id in (1, 2):
        stats = {(today - timedelta(days=d)).isoformat(): (10, 2, 1) for d in range(10)}
        simulator.add_item(USER_ID, item_id, f"Item {item_id}", stats=stats)
    for n in (1, 2, 3):
        simulator.add_chat(USER_ID, f"u2i-fault{n}", item_id=n, item_title=f"Item {n}", client_user_id=9100 + n)
        simulator.add_message(USER_ID, f"u2i-fault{n}", f"fm{n}", f"question {n}")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def proxies() -> Iterator[dict[str, ProxyServer]]:
    """Live proxies that demand a login: an HTTP one (answers 407) and a SOCKS5 one (refuses the auth)."""
    servers = {
        "http": ProxyServer("http", "fuser", PROXY_PASSWORD).start(),
        "socks5": ProxyServer("socks5", "fuser", PROXY_PASSWORD).start(),
    }
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def avito(
    sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, captured_logs: Any
) -> Iterator[AvitoSimulator]:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_READ_TIMEOUT", str(READ_TIMEOUT))
    monkeypatch.setenv("AVITO_CONNECT_TIMEOUT", "1")
    monkeypatch.setenv("AVITO_MAX_RETRIES", str(MAX_RETRIES))
    monkeypatch.setenv("AVITO_MAX_BACKOFF", "0.05")
    reset_caches()
    sim.clear_faults()
    sim.clear_requests()
    sim.latency = 0.0
    yield sim
    sim.clear_faults()
    # whatever went wrong upstream, nothing was an unexpected error on our side
    assert "Unexpected error" not in captured_logs.getvalue()
    assert "internal_error" not in captured_logs.getvalue()


# --- helpers -------------------------------------------------------------------------------------------------


def new_account(**fields: Any) -> str:
    return create_account(
        **{"name": "Fault shop", "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "userId": USER_ID, **fields}
    )


def sync(account_id: str) -> tuple[int, dict[str, Any]]:
    return avito_client_tests.sync(account_id, {"days": 7}, role="operator")


def list_chats(account_id: str) -> tuple[int, dict[str, Any]]:
    return call(
        messenger_chats,
        "GET",
        f"/api/v1/messenger/accounts/{account_id}/chats",
        resource="/api/v1/messenger/accounts/{accountId}/chats",
        path_parameters={"accountId": account_id},
        role="operator",
    )


def send(account_id: str, chat_id: str = "u2i-fault1", text: str = "Добрый день!") -> tuple[int, dict[str, Any]]:
    return call(
        messenger_send,
        "POST",
        f"/api/v1/messenger/accounts/{account_id}/chats/{chat_id}/send",
        resource="/api/v1/messenger/accounts/{accountId}/chats/{chatId}/send",
        path_parameters={"accountId": account_id, "chatId": chat_id},
        body={"text": text},
        role="operator",
    )


def assert_error(answer: tuple[int, dict[str, Any]], status: int, code: str) -> str:
    """The contract's failure shape with ``status`` and ``code``; returns the message."""
    got, body = answer
    assert got == status, body
    assert body["success"] is False and set(body["error"]) >= {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip()
    assert "Traceback" not in body["error"]["message"]
    return body["error"]["message"]


def messenger_items() -> list[dict[str, Any]]:
    """Every stored chat and message (a Scan is fine here: the point is that nothing at all was written)."""
    return boto3.resource("dynamodb").Table(chat_store().table_name).scan()["Items"]


def snapshots(account_id: str) -> list[dict[str, Any]]:
    return service.account_store().snapshots(account_id, "2000-01-01", "2999-12-31")


def assert_nothing_synced(account_id: str, version_before: int) -> None:
    """A failed sync leaves no snapshot and no figure on the account, and does not bump its version."""
    assert snapshots(account_id) == []
    account = service.get_account(account_id)
    assert account.lastSyncAt is None and account.balanceReal is None and account.viewsCount is None
    assert account.version == version_before


def request_times(sim: AvitoSimulator, method: str, path_regex: str) -> list[float]:
    pattern = re.compile(path_regex)
    return [r.time for r in sim.requests if r.method == method and pattern.search(r.path)]


# Each test runs several cases on one moto environment (building one takes about a second), ordered so that
# "nothing stored" is checked before anything was stored on purpose.

# --- 429 -----------------------------------------------------------------------------------------------------


def test_429_with_retry_after_waits_then_succeeds_or_gives_502(
    avito: AvitoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = new_account()
    avito.add_fault(CHATS, "GET", 429, retry_after=1, times=1)
    status, body = list_chats(account_id)
    assert status == 200, body
    assert {c["id"] for c in body["data"]} >= {"u2i-fault1", "u2i-fault2", "u2i-fault3"}
    first, second = request_times(avito, "GET", CHATS)
    assert second - first >= 0.95  # Retry-After: 1 was honoured, not a short backoff
    stored = messenger_items()
    assert len([i for i in stored if i["sk"] == "CHAT"]) == len(body["data"])

    # retries used up: 502 with the rate-limit code, after waiting as asked; storage as it was
    monkeypatch.setenv("AVITO_MAX_RETRIES", "1")
    reset_caches()
    avito.clear_requests()
    avito.add_fault(CHATS, "GET", 429, retry_after=1, times=None)
    message = assert_error(list_chats(account_id), 502, "avito_rate_limited")
    assert "429" in message
    first, second = request_times(avito, "GET", CHATS)
    assert second - first >= 0.95
    assert messenger_items() == stored


def test_429_without_retry_after_backs_off_and_succeeds(avito: AvitoSimulator) -> None:
    account_id = new_account()
    avito.add_fault(BALANCE, "GET", 429, times=2)
    status, body = sync(account_id)
    assert status == 200, body
    assert body["data"]["balanceReal"] == 10050 and body["data"]["adsCount"] == 2
    assert avito.count("GET", BALANCE) == 3
    assert len(snapshots(account_id)) == 1

    # 429 means Avito did not take the message, so even a send is retried - and goes out once
    avito.add_fault(SEND, "POST", 429, times=1)
    status, body = send(account_id, text="after a 429")
    assert status == 200, body
    assert [m["text"] for m in avito.sent_messages(USER_ID)] == ["after a 429"]
    assert avito.count("POST", SEND) == 2
    stored = [i for i in messenger_items() if i["sk"].startswith("MSG#")]
    assert [(m["text"], m["direction"]) for m in stored] == [("after a 429", "out")]


# --- 403: an expired token -----------------------------------------------------------------------------------


def test_expired_token_is_refreshed_once(avito: AvitoSimulator) -> None:
    account_id = new_account()
    assert list_chats(account_id)[0] == 200
    assert avito.count("POST", TOKEN) == 1
    avito.expire_tokens()
    status, body = list_chats(account_id)
    assert status == 200, body
    assert avito.count("POST", TOKEN) == 2  # exactly one extra token request
    assert avito.count("GET", CHATS) == 3  # the first call; the 403; the retry with the new token

    # a 403 on the token just fetched to replace a rejected one: refreshing again cannot help (502 at once)
    version = service.get_account(account_id).version
    avito.clear_requests()
    avito.add_fault(BALANCE, "GET", 403, times=None)
    assert_error(sync(account_id), 502, "avito_auth_error")
    assert avito.count("POST", TOKEN) == 0
    assert avito.count("GET", BALANCE) == 1
    assert_nothing_synced(account_id, version)

    # a 403 that survives the refresh of a token an earlier request fetched: 502, one refresh only, nothing synced
    avito_tokens.forget_token(account_id)
    assert check(account_id)[0] == 200  # fetches the token this sync then uses
    version = service.get_account(account_id).version
    avito.clear_requests()
    assert_error(sync(account_id), 502, "avito_auth_error")
    assert avito.count("POST", TOKEN) == 1  # one refresh, not a loop
    assert avito.count("GET", BALANCE) == 2
    assert_nothing_synced(account_id, version)


# --- 500 -----------------------------------------------------------------------------------------------------


def test_500_during_sync(avito: AvitoSimulator) -> None:
    account_id = new_account()
    version = service.get_account(account_id).version
    # persistent, on the last call before anything is stored
    avito.add_fault(STATS, "POST", 500, times=None, body={"error": {"code": 500, "message": "Stats are down"}})
    message = assert_error(sync(account_id), 502, "avito_error")
    assert "Stats are down" in message
    assert avito.count("POST", STATS) == 1 + MAX_RETRIES
    assert avito.count("GET", BALANCE) == 1  # the earlier calls were made, and their answers dropped
    assert_nothing_synced(account_id, version)

    # once: retried, and the sync goes through
    avito.clear_faults()
    avito.add_fault(ITEMS, "GET", 500, times=1)
    status, body = sync(account_id)
    assert status == 200, body
    assert body["data"]["viewsCount"] == 7 * 10 * 2 and body["data"]["adsCount"] == 2
    assert len(snapshots(account_id)) == 1


def test_500_on_messenger_calls(avito: AvitoSimulator) -> None:
    account_id = new_account()
    avito.add_fault(CHATS, "GET", 500, times=None)
    assert_error(list_chats(account_id), 502, "avito_error")
    assert avito.count("GET", CHATS) == 1 + MAX_RETRIES
    assert messenger_items() == []

    avito.add_fault(SEND, "POST", 500, times=1)
    assert_error(send(account_id), 502, "send_outcome_unknown")
    assert avito.count("POST", SEND) == 1  # a send is never repeated: it may have reached Avito
    assert messenger_items() == []


# --- read timeout --------------------------------------------------------------------------------------------


def test_read_timeouts_are_504_and_store_nothing(avito: AvitoSimulator) -> None:
    slow = READ_TIMEOUT + 0.7
    account_id = new_account()
    version = service.get_account(account_id).version

    avito.add_fault(CHATS, "GET", 200, delay=slow, times=1)
    started = time.monotonic()
    message = assert_error(list_chats(account_id), 504, "avito_timeout")
    assert time.monotonic() - started < READ_TIMEOUT + 1.5 and "did not answer" in message
    assert avito.count("GET", CHATS) == 1  # not retried after a timeout

    avito.add_fault(STATS, "POST", 200, delay=slow, times=1)
    assert_error(sync(account_id), 504, "avito_timeout")
    assert_nothing_synced(account_id, version)

    # the send reached Avito, then the answer was late (not resent: test_messenger.py); nothing is guessed
    avito.add_fault(SEND, "POST", action="delay_after_effect", delay=slow, times=1)
    assert_error(send(account_id, text="slow one"), 502, "send_outcome_unknown")
    assert [m["text"] for m in avito.sent_messages(USER_ID)] == ["slow one"]
    assert messenger_items() == []


# --- connection reset ----------------------------------------------------------------------------------------


def test_connection_resets(avito: AvitoSimulator) -> None:
    account_id = new_account()
    version = service.get_account(account_id).version

    avito.add_fault(SEND, "POST", action="reset", times=1)
    assert_error(send(account_id), 502, "send_outcome_unknown")  # the request was written: it may have arrived
    assert avito.count("POST", SEND) == 1 and avito.sent_messages(USER_ID) == []  # not retried
    assert messenger_items() == []

    avito.add_fault(BALANCE, "GET", action="reset", times=None)
    message = assert_error(sync(account_id), 502, "avito_unreachable")
    assert "reset" in message or "closed" in message
    assert avito.count("GET", BALANCE) == 1 + MAX_RETRIES
    assert_nothing_synced(account_id, version)

    avito.add_fault(CHATS, "GET", action="reset", times=1)
    status, body = list_chats(account_id)
    assert status == 200, body  # an idempotent call is retried after a reset
    assert avito.count("GET", CHATS) == 2


# --- truncated JSON from Avito -------------------------------------------------------------------------------


def test_truncated_bodies_are_502_and_store_nothing(avito: AvitoSimulator) -> None:
    account_id = new_account()
    version = service.get_account(account_id).version

    avito.add_fault(STATS, "POST", action="truncate", times=None)
    message = assert_error(sync(account_id), 502, "avito_bad_response")
    assert "not valid JSON" in message
    assert 1 <= avito.count("POST", STATS) <= 1 + MAX_RETRIES
    assert_nothing_synced(account_id, version)

    avito.add_fault(CHATS, "GET", action="truncate", times=None)
    assert_error(list_chats(account_id), 502, "avito_bad_response")
    assert messenger_items() == []

    avito.add_fault(SEND, "POST", action="truncate", times=1)
    assert_error(send(account_id, text="cut off"), 502, "send_outcome_unknown")
    assert [m["text"] for m in avito.sent_messages(USER_ID)] == ["cut off"]  # reached Avito once, not resent
    assert avito.count("POST", SEND) == 1
    assert messenger_items() == []


# --- the account's proxy -------------------------------------------------------------------------------------


def assert_proxy_failure_stored(account_id: str, leaked: str) -> None:
    """check-connection answers 200 with the proxy step failed, and stores proxy_error/failed."""
    status, body = check(account_id)
    assert status == 200, body
    data = body["data"]
    assert (data["ok"], data["connectionStatus"], data["proxyStatus"]) == (False, "proxy_error", "failed")
    assert data["steps"]["proxy"]["ok"] is False and data["steps"]["token"]["ok"] is False
    stored = service.get_account(account_id)
    assert stored.connectionStatus == "proxy_error" and stored.proxyStatus == "failed" and stored.lastError
    assert leaked not in str(body) and leaked not in stored.lastError


def test_dead_proxy(avito: AvitoSimulator) -> None:
    dead = ProxyServer("http", "deaduser", "DEAD-PROXY-PASS")  # a loopback port nobody listens on
    account_id = new_account(**dead.settings())
    version = service.get_account(account_id).version
    for answer in (list_chats(account_id), sync(account_id), send(account_id)):
        assert "DEAD-PROXY-PASS" not in assert_error(answer, 502, "proxy_error")
    assert avito.count() == 0  # nothing went around the proxy
    assert messenger_items() == []
    assert_nothing_synced(account_id, version)
    assert_proxy_failure_stored(account_id, "DEAD-PROXY-PASS")


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_proxy_rejecting_the_login(avito: AvitoSimulator, proxies: dict[str, ProxyServer], kind: str) -> None:
    account_id = new_account(**{**proxies[kind].settings(), "proxyPassword": WRONG_PASSWORD})
    status, body = send(account_id, text="through a closed door")
    message = assert_error((status, body), 502, "proxy_error")
    assert "rejected the login" in message or "closed the connection" in message
    assert WRONG_PASSWORD not in str(body) and PROXY_PASSWORD not in str(body)
    assert avito.count() == 0 and avito.sent_messages(USER_ID) == []
    assert messenger_items() == []
    assert_proxy_failure_stored(account_id, WRONG_PASSWORD)


# --- check-connection stores what happened -------------------------------------------------------------------


CHECK_FAULTS = [
    ("500", {"path_regex": SELF, "status": 500, "times": None}, "HTTP 500"),
    ("read timeout", {"path_regex": SELF, "status": 200, "delay": READ_TIMEOUT + 0.7}, "did not answer"),
    ("reset", {"path_regex": SELF, "action": "reset", "times": None}, "Could not talk to Avito"),
    ("truncated token", {"path_regex": TOKEN, "action": "truncate", "times": None}, "not valid JSON"),
    ("429 on the token", {"path_regex": TOKEN, "status": 429, "retry_after": 0, "times": None}, "429"),
]


def test_check_connection_stores_each_failure_then_the_recovery(avito: AvitoSimulator) -> None:
    account_id = new_account()
    for name, fault, error_words in CHECK_FAULTS:
        status, body = check(account_id)
        assert status == 200 and body["data"]["connectionStatus"] == "connected", name
        assert service.get_account(account_id).lastError is None, name

        if fault["path_regex"] == TOKEN:  # the stored token ran out: this check has to fetch a new one
            avito_tokens.forget_token(account_id)
        avito.add_fault(**fault)
        status, body = check(account_id)
        assert status == 200, (name, body)
        data = body["data"]
        assert (data["ok"], data["connectionStatus"], data["proxyStatus"]) == (False, "api_error", "not_configured")
        failed = data["steps"]["token"] if not data["steps"]["token"]["ok"] else data["steps"]["account"]
        assert error_words in (failed["error"] or ""), (name, failed)
        stored = service.get_account(account_id)
        assert stored.connectionStatus == "api_error" and error_words in (stored.lastError or ""), name
        assert stored.userId == str(USER_ID)  # a failed check never rewrites the id
        avito.clear_faults()
