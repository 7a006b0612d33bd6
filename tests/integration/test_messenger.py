"""Live Messenger endpoints against the simulator over HTTP (one account through a SOCKS5 proxy)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import accounts_create
import accounts_update
import accounts_webhook_get
import accounts_webhook_subscribe
import accounts_webhook_unsubscribe
import chats_list
import chats_messages
import messenger_chats
import messenger_messages
import messenger_read
import messenger_send
import pytest
from avito_service.accounts import service
from avito_service.accounts.models import AccountCreate

from avito_sim import AvitoSimulator
from tests.support.caches import reset_caches
from tests.support.events import call
from tests.support.proxies import ProxyServer

USER_ID = 5150
NO_MESSENGER_USER = 5151


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("m-cid", "m-secret", USER_ID, name="Messenger shop")
    simulator.add_account("n-cid", "n-secret", NO_MESSENGER_USER, name="Basic", messenger=False)
    for n in range(1, 8):
        simulator.add_chat(
            USER_ID,
            f"u2i-chat{n}",
            item_id=100 + n,
            item_title=f"Item {n}",
            client_name=f"Buyer {n}",
            client_user_id=9000 + n,
            created=1_700_000_000 + n,
            updated=1_700_000_100 + n * 10,
        )
        simulator.add_message(USER_ID, f"u2i-chat{n}", f"m{n}a", f"hello {n}", created=1_700_000_050 + n)
    simulator.add_chat(
        USER_ID,
        "u2u-person",
        chat_type="u2u",
        client_name="Person",
        client_user_id=777,
        created=1_700_000_000,
        updated=1_700_001_000,
    )
    simulator.add_message(USER_ID, "u2u-person", "p1", "hi from a person", created=1_700_000_900)
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def proxy() -> Iterator[ProxyServer]:
    server = ProxyServer("socks5", "mu", "mp").start()
    yield server
    server.stop()


@pytest.fixture
def account_id(
    sim: AvitoSimulator, proxy: ProxyServer, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("WEBHOOK_BASE_URL", "https://hooks.example.test")
    monkeypatch.setenv("AVITO_READ_TIMEOUT", "1.5")
    reset_caches()
    sim.clear_requests()
    sim.clear_faults()
    body = {"name": "Shop", "clientId": "m-cid", "clientSecret": "m-secret", **proxy.settings()}
    return service.create_account(AccountCreate(**body)).id


def live(module: Any, method: str, path: str, role: str = "operator", **kwargs: Any) -> tuple[int, dict]:
    return call(module, method, path, role=role, **kwargs)


def test_chats_include_u2u_and_are_stored(sim: AvitoSimulator, proxy: ProxyServer, account_id: str) -> None:
    proxy.log.clear()
    status, body = live(
        messenger_chats, "GET", f"/api/v1/messenger/accounts/{account_id}/chats", query={"limit": "100"}
    )
    assert status == 200, body
    ids = [c["id"] for c in body["data"]]
    assert "u2u-person" in ids and len(ids) == 8
    request = next(r for r in sim.requests if r.path.endswith("/chats"))
    assert request.query["chat_types"] == "u2i,u2u"
    assert proxy.log, "the calls went through the proxy"
    chat = next(c for c in body["data"] if c["id"] == "u2i-chat3")
    assert (chat["accountId"], chat["itemTitle"], chat["clientName"]) == (account_id, "Item 3", "Buyer 3")

    stored = live(chats_list, "GET", "/api/v1/chats", query={"accountId": account_id, "limit": "100"})[1]["data"]
    assert {c["id"] for c in stored} == set(ids)
    # seeing the same chats again duplicates nothing
    live(messenger_chats, "GET", f"/api/v1/messenger/accounts/{account_id}/chats", query={"limit": "100"})
    assert len(live(chats_list, "GET", "/api/v1/chats", query={"limit": "100"})[1]["data"]) == 8


def test_chat_pagination_passes_offset(sim: AvitoSimulator, account_id: str) -> None:
    first = live(
        messenger_chats, "GET", f"/api/v1/messenger/accounts/{account_id}/chats", query={"limit": "3", "offset": "0"}
    )[1]["data"]
    second = live(
        messenger_chats, "GET", f"/api/v1/messenger/accounts/{account_id}/chats", query={"limit": "3", "offset": "3"}
    )[1]["data"]
    assert len(first) == 3 and len(second) == 3 and not {c["id"] for c in first} & {c["id"] for c in second}
    assert (
        live(messenger_chats, "GET", f"/api/v1/messenger/accounts/{account_id}/chats", query={"limit": "101"})[0] == 422
    )


def test_messages_send_and_read(sim: AvitoSimulator, account_id: str) -> None:
    base = f"/api/v1/messenger/accounts/{account_id}/chats/u2i-chat2"
    status, body = live(messenger_messages, "GET", f"{base}/messages")
    assert status == 200 and [m["text"] for m in body["data"]] == ["hello 2"]
    assert body["data"][0]["direction"] == "in"

    status, body = live(messenger_send, "POST", f"{base}/send", body={"text": "  Здравствуйте!  "})
    assert status == 200, body
    sent = body["data"]
    assert sent["direction"] == "out" and sent["text"] == "Здравствуйте!"
    assert [m["text"] for m in sim.sent_messages(USER_ID)] == ["Здравствуйте!"]

    stored = live(chats_messages, "GET", "/api/v1/chats/u2i-chat2/messages")[1]["data"]
    assert [(m["text"], m["direction"]) for m in stored] == [("hello 2", "in"), ("Здравствуйте!", "out")]

    status, body = live(messenger_read, "POST", f"{base}/messages/m2a/read")
    assert status == 200 and body["data"]["ok"] is True and body["data"]["unreadCount"] == 0
    assert sim.count("POST", r"/chats/u2i-chat2/read$") == 1
    stored = live(chats_messages, "GET", "/api/v1/chats/u2i-chat2/messages")[1]["data"]
    assert all(m["isRead"] for m in stored if m["direction"] == "in")


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_text_rules(account_id: str, text: str) -> None:
    status, body = live(
        messenger_send, "POST", f"/api/v1/messenger/accounts/{account_id}/chats/u2i-chat1/send", body={"text": text}
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "text"


def test_send_is_never_duplicated_when_avito_times_out(sim: AvitoSimulator, account_id: str) -> None:
    sim.add_fault(r"/chats/u2i-chat4/messages$", method="POST", action="delay_after_effect", delay=3, times=1)
    status, body = live(
        messenger_send,
        "POST",
        f"/api/v1/messenger/accounts/{account_id}/chats/u2i-chat4/send",
        body={"text": "only once"},
    )
    assert status == 502 and body["error"]["code"] == "send_outcome_unknown"
    assert [m["text"] for m in sim.sent_messages(USER_ID)].count("only once") == 1
    assert sim.count("POST", r"/chats/u2i-chat4/messages$") == 1


def test_messenger_not_available_is_a_clear_502(aws_env: dict[str, str], sim: AvitoSimulator, account_id: str) -> None:
    other = service.create_account(AccountCreate(name="Basic", clientId="n-cid", clientSecret="n-secret")).id
    status, body = live(messenger_chats, "GET", f"/api/v1/messenger/accounts/{other}/chats")
    assert status == 502 and body["error"]["code"] == "messenger_not_available"
    assert "Messenger" in body["error"]["message"]


def test_unknown_account_is_404(account_id: str) -> None:
    assert live(messenger_chats, "GET", "/api/v1/messenger/accounts/nope/chats")[0] == 404


def test_operator_may_use_messenger_but_not_change_accounts(account_id: str) -> None:
    assert live(messenger_chats, "GET", f"/api/v1/messenger/accounts/{account_id}/chats")[0] == 200
    assert (
        live(
            accounts_update,
            "PUT",
            f"/api/v1/accounts/{account_id}",
            resource="/api/v1/accounts/{id}",
            path_parameters={"id": account_id},
            body={"name": "x"},
        )[0]
        == 403
    )
    assert (
        live(accounts_create, "POST", "/api/v1/accounts", body={"name": "a", "clientId": "b", "clientSecret": "c"})[0]
        == 403
    )
    assert (
        live(
            accounts_webhook_subscribe,
            "POST",
            f"/api/v1/accounts/{account_id}/webhook",
            resource="/api/v1/accounts/{id}/webhook",
            path_parameters={"id": account_id},
        )[0]
        == 403
    )


def test_webhook_subscribe_status_unsubscribe(sim: AvitoSimulator, account_id: str) -> None:
    kwargs = {"resource": "/api/v1/accounts/{id}/webhook", "path_parameters": {"id": account_id}, "role": "admin"}
    path = f"/api/v1/accounts/{account_id}/webhook"
    status, body = live(accounts_webhook_subscribe, "POST", path, **kwargs)
    assert status == 200 and body["data"]["subscribed"] is True
    urls = sim.subscriptions(USER_ID)
    assert len(urls) == 1 and urls[0].startswith(f"https://hooks.example.test/{account_id}/")
    token = urls[0].rsplit("/", 1)[1]
    assert len(token) >= 32 and token not in str(body)
    assert body["data"]["url"].endswith("/***")
    assert service.get_account(account_id).webhookSubscribed is True

    # subscribing again rotates the secret and leaves one subscription
    live(accounts_webhook_subscribe, "POST", path, **kwargs)
    assert len(sim.subscriptions(USER_ID)) == 1 and sim.subscriptions(USER_ID)[0] != urls[0]

    status, body = live(accounts_webhook_get, "GET", path, **kwargs)
    assert status == 200 and body["data"]["subscribed"] is True and len(body["data"]["subscriptions"]) == 1

    status, body = live(accounts_webhook_unsubscribe, "DELETE", path, **kwargs)
    assert status == 200 and body["data"]["subscribed"] is False and sim.subscriptions(USER_ID) == []
    assert service.get_account(account_id).webhookSubscribed is False
