"""The fake Avito server over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from avito_sim import AvitoSimulator

USER = 1001
OTHER = 2002
NO_MESSENGER = 3003
PAYWALLED = 4004
TODAY = datetime.now(UTC).date()


def day(back: int) -> str:
    return (TODAY - timedelta(days=back)).isoformat()


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account(
        "client-a", "secret-a", USER, name="Shop A", balance_real=12.5, balance_bonus=3.0, cpa_balance=-5000
    )
    simulator.add_account("client-b", "secret-b", OTHER, name="Shop B", cpa_balance=None)
    simulator.add_account("client-c", "secret-c", NO_MESSENGER, messenger=False)
    simulator.add_account("client-d", "secret-d", PAYWALLED, messenger="402")
    for item_id in range(1, 8):
        simulator.add_item(USER, item_id, f"Item {item_id}", price=item_id * 100)
    simulator.add_item(USER, 100, "Old item", status="old")
    simulator.add_item(USER, 200, "With stats", stats={day(1): (5, 1, 0), day(2): (7, 0, 1), day(40): (100, 9, 9)})
    now = int(time.time())
    simulator.add_chat(USER, "u2i-old", item_id=1, client_name="Anna", client_user_id=501, created=now - 900)
    simulator.add_chat(USER, "u2i-new", item_id=2, client_name="Oleg", client_user_id=502, created=now - 100)
    simulator.add_chat(USER, "u2u-direct", chat_type="u2u", client_user_id=503, created=now - 50)
    simulator.add_message(USER, "u2i-old", "a1", "first", created=now - 800, is_read=True)
    simulator.add_message(USER, "u2i-old", "a2", "second", direction="out", created=now - 700)
    simulator.add_message(USER, "u2i-new", "b1", "hello?", created=now - 90)
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _reset(sim: AvitoSimulator) -> Iterator[None]:
    yield
    sim.clear_faults()
    sim.latency = 0.0


def get_token(sim: AvitoSimulator, client_id: str = "client-a", secret: str = "secret-a") -> str:  # noqa: S107
    answer = requests.post(
        f"{sim.base_url}/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.fixture(scope="module")
def auth(sim: AvitoSimulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(sim)}"}


def call(sim: AvitoSimulator, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{sim.base_url}{path}", headers=headers, timeout=10, **kwargs)


# ------------------------------------------------------------------ token, self, balance


def test_token_issue_and_wrong_credentials(sim: AvitoSimulator) -> None:
    answer = requests.post(
        f"{sim.base_url}/token",
        data={"grant_type": "client_credentials", "client_id": "client-a", "client_secret": "secret-a"},
        timeout=10,
    )
    assert answer.json()["expires_in"] == 86400
    assert answer.json()["token_type"] == "Bearer"
    wrong = requests.post(
        f"{sim.base_url}/token",
        data={"grant_type": "client_credentials", "client_id": "client-a", "client_secret": "nope"},
        timeout=10,
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_client"
    assert sim.requests[-1].body == {
        "grant_type": "client_credentials",
        "client_id": "client-a",
        "client_secret": "nope",
    }
    assert sim.requests[-1].status == 400


def test_missing_and_unknown_token_is_401(sim: AvitoSimulator) -> None:
    assert call(sim, "GET", "/core/v1/accounts/self", {}).json() == {"error": {"code": 401, "message": "Unauthorized"}}
    assert call(sim, "GET", "/core/v1/accounts/self", {"Authorization": "Bearer bogus"}).status_code == 401


def test_self_and_balance(sim: AvitoSimulator, auth: dict[str, str]) -> None:
    me = call(sim, "GET", "/core/v1/accounts/self", auth).json()
    assert me["id"] == USER
    assert me["name"] == "Shop A"
    assert me["phones"]
    assert "profile_url" in me
    assert call(sim, "GET", f"/core/v1/accounts/{USER}/balance/", auth).json() == {"real": 12.5, "bonus": 3.0}
    assert call(sim, "GET", f"/core/v1/accounts/{OTHER}/balance/", auth).status_code == 403


def test_cpa_balance(sim: AvitoSimulator, auth: dict[str, str]) -> None:
    assert call(sim, "POST", "/cpa/v3/balanceInfo", {**auth, "X-Source": "t"}, json={}).json() == {"balance": -5000}
    other = {"Authorization": f"Bearer {get_token(sim, 'client-b', 'secret-b')}", "X-Source": "t"}
    failed = call(sim, "POST", "/cpa/v3/balanceInfo", other, json={})
    assert failed.status_code == 200
    assert failed.json()["error"]["code"] == 1004


def test_cpa_phones_from_chats(sim: AvitoSimulator) -> None:
    """cpa.json phonesInfoFromChats: incoming messages with a number (written, or the message's cpa_phone), oldest
    first, Moscow-offset dates, offset/limit paging; validation errors inside a 200; no access is 403."""
    now = int(time.time())
    auth = {"Authorization": f"Bearer {get_token(sim, 'client-b', 'secret-b')}"}  # its own chats, none of the others'
    sim.add_chat(OTHER, "u2i-cpa", client_user_id=504, created=now - 600)
    sim.add_message(OTHER, "u2i-cpa", "p1", "звоните +7 912 345-67-89", created=now - 500)
    sim.add_message(OTHER, "u2i-cpa", "p2", "наш номер 8 800 555 35 35", direction="out", created=now - 400)  # ours
    sim.add_message(OTHER, "u2i-cpa", "p3", "второй — в профиле", created=now - 300, cpa_phone="89031234567")
    sim.add_message(OTHER, "u2i-cpa", "p4", "без номера", created=now - 200)
    headers = {**auth, "X-Source": "t"}
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 550))
    body = call(
        sim, "POST", "/cpa/v1/phonesInfoFromChats", headers, json={"dateTimeFrom": since, "offset": 0, "limit": 10}
    ).json()
    assert body["total"] == 2
    assert [r["phone_number"] for r in body["results"]] == ["89123456789", "89031234567"]
    first = body["results"][0]
    assert first["date"].endswith("+03:00") and set(first) == {
        "id",
        "date",
        "phone_number",
        "pricePenny",
        "group",
        "url",
    }
    page = call(
        sim, "POST", "/cpa/v1/phonesInfoFromChats", headers, json={"dateTimeFrom": since, "offset": 1, "limit": 1}
    ).json()
    assert [r["phone_number"] for r in page["results"]] == ["89031234567"] and page["total"] == 2
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 350))
    assert (
        call(
            sim, "POST", "/cpa/v1/phonesInfoFromChats", headers, json={"dateTimeFrom": later, "offset": 0, "limit": 10}
        ).json()["total"]
        == 1
    )
    for bad in (
        {"offset": 0, "limit": 10},
        {"dateTimeFrom": "вчера", "offset": 0, "limit": 10},
        {"dateTimeFrom": since, "offset": -1, "limit": 10},
    ):
        failed = call(sim, "POST", "/cpa/v1/phonesInfoFromChats", headers, json=bad)
        assert failed.status_code == 200 and failed.json()["error"]["code"] == 1001
    assert call(sim, "POST", "/cpa/v1/phonesInfoFromChats", auth, json={}).json()["error"]["code"] == 1001
    sim.account(OTHER).cpa = "403"
    try:
        denied = call(
            sim, "POST", "/cpa/v1/phonesInfoFromChats", headers, json={"dateTimeFrom": since, "offset": 0, "limit": 10}
        )
        assert denied.status_code == 403
    finally:
        sim.account(OTHER).cpa = True


# ------------------------------------------------------------------ items and stats


def test_items_pagination_until_empty(sim: AvitoSimulator, auth: dict[str, str]) -> None:
    seen, page = [], 1
    while True:
        answer = call(sim, "GET", "/core/v1/items", auth, params={"per_page": 3, "page": page}).json()
        assert answer["meta"] == {"page": page, "per_page": 3}
        if not answer["resources"]:
            break
        seen += [resource["id"] for resource in answer["resources"]]
        page += 1
    assert seen == [1, 2, 3, 4, 5, 6, 7, 200]
    both = call(sim, "GET", "/core/v1/items", auth, params={"status": "active,old", "per_page": 100}).json()
    assert len(both["resources"]) == 9
    assert set(both["resources"][0]) == {"id", "title", "price", "status", "url", "address", "category"}
    bad = call(sim, "GET", "/core/v1/items", auth, params={"per_page": 0})
    assert bad.status_code == 400
    assert set(bad.json()) == {"code", "message"}


def test_stats_range_fields_and_grouping(sim: AvitoSimulator, auth: dict[str, str]) -> None:
    path = f"/stats/v1/accounts/{USER}/items"
    body = {
        "dateFrom": day(30),
        "dateTo": day(0),
        "itemIds": [200, 1],
        "fields": ["uniqViews", "uniqContacts"],
        "periodGrouping": "day",
    }
    items = call(sim, "POST", path, auth, json=body).json()["result"]["items"]
    assert items[0] == {
        "itemId": 200,
        "stats": [
            {"date": day(2), "uniqViews": 7, "uniqContacts": 0},
            {"date": day(1), "uniqViews": 5, "uniqContacts": 1},
        ],
    }
    assert items[1] == {"itemId": 1, "stats": []}
    monthly = call(
        sim, "POST", path, auth, json={**body, "dateFrom": day(60), "periodGrouping": "month", "fields": ["uniqViews"]}
    ).json()["result"]["items"][0]["stats"]
    assert sum(entry["uniqViews"] for entry in monthly) == 112
    assert all(entry["date"].endswith("-01") for entry in monthly)
    assert call(sim, "POST", path, auth, json={**body, "itemIds": list(range(201))}).status_code == 400
    too_old = call(sim, "POST", path, auth, json={**body, "dateFrom": day(271)})
    assert too_old.status_code == 400
    assert too_old.json()["error"]["code"] == 400


# ------------------------------------------------------------------ messenger


def test_chats_default_u2i_and_with_u2u(sim: AvitoSimulator, auth: dict[str, str]) -> None:
    path = f"/messenger/v2/accounts/{USER}/chats"
    default = call(sim, "GET", path, auth).json()["chats"]
    assert [chat["id"] for chat in default] == ["u2i-new", "u2i-old"]
    assert default[0]["context"]["value"]["id"] == 2
    assert len(default[0]["users"]) == 2
    assert default[0]["last_message"]["content"] == {"text": "hello?"}
    both = call(sim, "GET", path, auth, params={"chat_types": "u2i,u2u"}).json()["chats"]
    assert [chat["id"] for chat in both] == ["u2u-direct", "u2i-new", "u2i-old"]
    assert call(sim, "GET", path, auth, params={"limit": 101}).status_code == 400
    assert call(sim, "GET", f"{path}/nope", auth).status_code == 404


def test_messages_send_and_read(sim: AvitoSimulator, auth: dict[str, str]) -> None:
    base = f"/messenger/v1/accounts/{USER}/chats/u2i-new"
    unread = call(sim, "GET", f"/messenger/v2/accounts/{USER}/chats", auth, params={"unread_only": "true"}).json()
    assert [chat["id"] for chat in unread["chats"]] == ["u2i-new"]
    listing = call(sim, "GET", f"/messenger/v3/accounts/{USER}/chats/u2i-old/messages/", auth).json()
    assert [m["id"] for m in listing] == ["a2", "a1"]
    assert listing[0]["direction"] == "out"
    sent = call(sim, "POST", f"{base}/messages", auth, json={"type": "text", "message": {"text": "Yes!"}}).json()
    assert sent["direction"] == "out"
    assert sent["content"] == {"text": "Yes!"}
    assert isinstance(sent["id"], str)
    assert sim.sent_messages(USER)[-1]["text"] == "Yes!"
    too_long = call(sim, "POST", f"{base}/messages", auth, json={"type": "text", "message": {"text": "x" * 1001}})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == 400
    assert call(sim, "POST", f"{base}/read", auth).json() == {"ok": True}
    assert sim.chat_read_calls[-1]["chat_id"] == "u2i-new"
    unread = call(sim, "GET", f"/messenger/v2/accounts/{USER}/chats", auth, params={"unread_only": "true"}).json()
    assert unread["chats"] == []


def test_messenger_access_denied(sim: AvitoSimulator) -> None:
    denied = {"Authorization": f"Bearer {get_token(sim, 'client-c', 'secret-c')}"}
    answer = call(sim, "GET", f"/messenger/v2/accounts/{NO_MESSENGER}/chats", denied)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == 403
    paywalled = {"Authorization": f"Bearer {get_token(sim, 'client-d', 'secret-d')}"}
    assert call(sim, "POST", "/messenger/v1/subscriptions", paywalled).status_code == 402


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def test_webhook_subscribe_deliver_unsubscribe(sim: AvitoSimulator, auth: dict[str, str]) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_port}/hook/secret"
    try:
        assert call(sim, "POST", "/messenger/v3/webhook", auth, json={"url": url}).json() == {"ok": True}
        listed = call(sim, "POST", "/messenger/v1/subscriptions", auth).json()
        assert listed == {"subscriptions": [{"url": url, "version": "3"}]}
        message, deliveries = sim.incoming_message(USER, "u2i-old", "is it available?", author_id=501)
        assert deliveries == [(url, 200)]
        delivery = _Receiver.received[-1]
        assert delivery["version"] == "v1.1"
        assert delivery["payload"]["type"] == "message"
        value = delivery["payload"]["value"]
        assert value["id"] == message["id"]
        assert value["chat_id"] == "u2i-old"
        assert value["user_id"] == USER
        assert value["author_id"] == 501
        assert value["item_id"] == 1
        assert value["content"] == {"text": "is it available?"}
        assert sim.chat(USER, "u2i-old")["last_message"]["id"] == message["id"]
        assert call(sim, "POST", "/messenger/v1/webhook/unsubscribe", auth, json={"url": url}).json() == {"ok": True}
        assert sim.subscriptions(USER) == []
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_one_subscription_per_account_and_dropped_deliveries(sim: AvitoSimulator, auth: dict[str, str]) -> None:
    """Issue 28's switches: a new subscribe replaces the account's others (as live Avito was seen to do), and the
    next N deliveries are dropped on purpose (the message is at "Avito"; nothing is POSTed; it is recorded)."""
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    ours, theirs = f"http://127.0.0.1:{receiver.server_port}/ours", f"http://127.0.0.1:{receiver.server_port}/theirs"
    try:
        call(sim, "POST", "/messenger/v3/webhook", auth, json={"url": ours})
        call(sim, "POST", "/messenger/v3/webhook", auth, json={"url": theirs})
        assert sim.subscriptions(USER) == [ours, theirs]  # by default both stay
        sim.one_subscription_per_account = True
        call(sim, "POST", "/messenger/v3/webhook", auth, json={"url": ours})
        assert sim.subscriptions(USER) == [ours]  # the newest one wins
        sim.drop_deliveries = 1
        received = len(_Receiver.received)
        dropped, deliveries = sim.incoming_message(USER, "u2i-old", "lost", author_id=501)
        assert deliveries == [] and len(_Receiver.received) == received
        assert [d["id"] for d in sim.dropped_deliveries] == [dropped["id"]] and sim.drop_deliveries == 0
        assert sim.chat(USER, "u2i-old")["last_message"]["id"] == dropped["id"]  # Avito has it
        _, deliveries = sim.incoming_message(USER, "u2i-old", "delivered", author_id=501)
        assert deliveries == [(ours, 200)]
    finally:
        sim.one_subscription_per_account = False
        sim.dropped_deliveries.clear()
        sim.account(USER).subscriptions.clear()
        receiver.shutdown()
        receiver.server_close()


def test_revoke_tokens(sim: AvitoSimulator) -> None:
    headers = {"Authorization": f"Bearer {get_token(sim, 'client-b', 'secret-b')}"}
    assert call(sim, "GET", "/core/v1/accounts/self", headers).status_code == 200
    sim.revoke_tokens()
    revoked = call(sim, "GET", "/core/v1/accounts/self", headers)
    assert revoked.status_code == 403
    assert revoked.json()["error"]["code"] == 403
    fresh = {"Authorization": f"Bearer {get_token(sim, 'client-b', 'secret-b')}"}
    assert call(sim, "GET", "/core/v1/accounts/self", fresh).status_code == 200


def test_token_ttl_expiry() -> None:
    with AvitoSimulator(token_ttl=1) as short:
        short.add_account("c", "s", 7)
        headers = {"Authorization": f"Bearer {short.issue_token(7)}"}
        assert call(short, "GET", "/core/v1/accounts/self", headers).status_code == 200
        short.expire_tokens()
        assert call(short, "GET", "/core/v1/accounts/self", headers).status_code == 403


# ------------------------------------------------------------------ faults and latency


def fresh_auth(sim: AvitoSimulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(sim)}"}


def test_fault_status_retry_after_and_times(sim: AvitoSimulator) -> None:
    headers = fresh_auth(sim)
    sim.add_fault(r"/chats$", method="GET", status=429, retry_after=3, times=2)
    path = f"/messenger/v2/accounts/{USER}/chats"
    first = call(sim, "GET", path, headers)
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "3"
    assert first.json() == {"error": {"code": 429, "message": "Too Many Requests"}}
    assert call(sim, "GET", path, headers).status_code == 429
    assert call(sim, "GET", path, headers).status_code == 200
    sim.add_fault(r"^/core/v1/items$", status=500)
    items = call(sim, "GET", "/core/v1/items", headers)
    assert items.status_code == 500
    assert items.json()["code"] == "500"
    assert sim.count("GET", r"/chats$") >= 3


def test_fault_reset_and_truncate(sim: AvitoSimulator) -> None:
    headers = fresh_auth(sim)
    sim.add_fault(r"/accounts/self$", action="reset")
    with pytest.raises(requests.ConnectionError):
        call(sim, "GET", "/core/v1/accounts/self", headers)
    sim.add_fault(r"/accounts/self$", action="truncate")
    cut = call(sim, "GET", "/core/v1/accounts/self", headers)
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()
    assert call(sim, "GET", "/core/v1/accounts/self", headers).json()["id"] == USER


def test_fault_delay_and_delay_after_effect(sim: AvitoSimulator) -> None:
    headers = fresh_auth(sim)
    sim.add_fault(r"/accounts/self$", delay=0.5, status=503)
    with pytest.raises(requests.Timeout):
        requests.get(f"{sim.base_url}/core/v1/accounts/self", headers=headers, timeout=0.2)
    sim.add_fault(r"/messages$", method="POST", action="delay_after_effect", delay=0.6)
    before = len(sim.sent_messages(USER))
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{sim.base_url}/messenger/v1/accounts/{USER}/chats/u2i-old/messages",
            headers=headers,
            json={"type": "text", "message": {"text": "effect happened"}},
            timeout=0.2,
        )
    assert len(sim.sent_messages(USER)) == before + 1
    assert sim.sent_messages(USER)[-1]["text"] == "effect happened"


def test_latency(sim: AvitoSimulator) -> None:
    headers = fresh_auth(sim)
    sim.latency = 0.2
    started = time.monotonic()
    assert call(sim, "GET", "/core/v1/accounts/self", headers).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_concurrent_requests(sim: AvitoSimulator) -> None:
    headers = fresh_auth(sim)
    sim.latency = 0.2
    statuses: list[int] = []

    def one() -> None:
        statuses.append(call(sim, "GET", "/core/v1/accounts/self", headers).status_code)

    threads = [threading.Thread(target=one) for _ in range(50)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 50
    assert time.monotonic() - started < 3


# ------------------------------------------------------------------ images, voice files, blacklist (issue 15)

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture
def new_auth(sim: AvitoSimulator) -> dict[str, str]:
    return fresh_auth(sim)  # earlier tests revoke and expire the module's token


def test_upload_images_keeps_the_bytes_and_sends_them_as_a_message(
    sim: AvitoSimulator, new_auth: dict[str, str]
) -> None:
    upload = call(
        sim,
        "POST",
        f"/messenger/v1/accounts/{USER}/uploadImages",
        new_auth,
        files={"uploadfile[]": ("a.png", PNG_BYTES)},
    )
    assert upload.status_code == 200, upload.text
    ((image_id, sizes),) = upload.json().items()
    assert requests.get(sizes["1280x960"], timeout=10).content == PNG_BYTES
    assert sim.uploaded_images(USER)[-1]["data"] == PNG_BYTES
    sent = call(
        sim,
        "POST",
        f"/messenger/v1/accounts/{USER}/chats/u2i-old/messages/image",
        new_auth,
        json={"image_id": image_id},
    )
    assert sent.status_code == 200 and sent.json()["type"] == "image"
    assert sent.json()["content"] == {"image": {"sizes": sizes}}
    assert sim.messages(USER, "u2i-old")[0]["type"] == "image"
    other = call(
        sim, "POST", f"/messenger/v1/accounts/{USER}/chats/u2i-old/messages/image", new_auth, json={"image_id": "x"}
    )
    assert other.status_code == 404


def test_upload_images_refuses_what_is_not_one_image(sim: AvitoSimulator, new_auth: dict[str, str]) -> None:
    path = f"/messenger/v1/accounts/{USER}/uploadImages"
    assert call(sim, "POST", path, new_auth, files={"uploadfile[]": ("a.png", b"plain text")}).status_code == 400
    assert call(sim, "POST", path, new_auth, files={"other": ("a.png", PNG_BYTES)}).status_code == 400
    two = [("uploadfile[]", ("a.png", PNG_BYTES)), ("uploadfile[]", ("b.png", PNG_BYTES))]
    assert call(sim, "POST", path, new_auth, files=two).status_code == 400


def test_voice_links_are_new_on_every_call_and_checked(sim: AvitoSimulator, new_auth: dict[str, str]) -> None:
    sim.add_voice_message(USER, "u2i-new", "vm-1", "voice-sim-1", audio=b"opus-in-mp4")
    path = f"/messenger/v1/accounts/{USER}/getVoiceFiles"
    first = call(sim, "GET", path, new_auth, params={"voice_ids": ["voice-sim-1", "unknown"]}).json()["voices_urls"]
    second = call(sim, "GET", path, new_auth, params={"voice_ids": "voice-sim-1"}).json()["voices_urls"]
    assert list(first) == ["voice-sim-1"] and first["voice-sim-1"] != second["voice-sim-1"]
    assert requests.get(first["voice-sim-1"], timeout=10).content == b"opus-in-mp4"
    forged = first["voice-sim-1"].split("signature=")[0] + "signature=forged"
    assert requests.get(forged, timeout=10).status_code == 403
    assert call(sim, "GET", path, new_auth).status_code == 400  # voice_ids is required


def test_blacklist_is_recorded_and_validated(sim: AvitoSimulator, new_auth: dict[str, str]) -> None:
    path = f"/messenger/v2/accounts/{USER}/blacklist"
    body = {"users": [{"user_id": 501, "context": {"item_id": 1, "reason_id": 2}}]}
    assert call(sim, "POST", path, new_auth, json=body).status_code == 200
    assert sim.blacklisted(USER)[-1] | {"created": 0} == {"user_id": 501, "item_id": 1, "reason_id": 2, "created": 0}
    bad = {"users": [{"user_id": 501, "context": {"reason_id": 9}}]}
    assert call(sim, "POST", path, new_auth, json=bad).status_code == 400
    assert call(sim, "POST", path, new_auth, json={"users": []}).status_code == 400
