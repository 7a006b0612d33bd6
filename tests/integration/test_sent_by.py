"""``sentBy`` (contract, "People and sign-in"): every message sent through the service records who sent it, in
the stored message, the live listing from Avito (joined back by message id) and the WebSocket frame; messages from
Avito or its app carry ``null``. Sends go to the simulator over HTTP; the users are moto's Cognito users."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import chats_messages
import messenger_images
import messenger_messages
import messenger_send
import pytest
import ws_fanout
from avito_service.auth import Identity
from avito_service.live import store as connections
from avito_service.messenger.models import SentBy
from avito_service.messenger.store import ChatStore, chat_store
from botocore.exceptions import ClientError

from avito_sim import AvitoSimulator
from tests.integration.test_live import FAR_EXP, Stream, posted
from tests.integration.test_messenger_rich import multipart_body, png
from tests.integration.test_people import admin_token, authorize, first_sign_in, invite
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, api_event, call

USER_ID = 7170
CLIENT = 9170
CHAT = "u2i-sent-by"
BASE = "/api/v1/messenger/accounts/{accountId}/chats/{chatId}"


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("sb-cid", "sb-secret", USER_ID, name="Who sent it")
    yield simulator
    simulator.stop()


@pytest.fixture
def account_id(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    reset_caches()
    sim.clear_requests()
    sim.add_chat(USER_ID, CHAT, item_id=71, item_title="Диван", client_name="Покупатель", client_user_id=CLIENT)
    sim.add_message(USER_ID, CHAT, "in-1", "Здравствуйте, диван ещё продаётся?", created=1_796_000_000)
    return create_account(name="Shop", clientId="sb-cid", clientSecret="sb-secret", userId=USER_ID)


def as_caller(module: Any, method: str, path: str, context: dict[str, str], **kwargs: Any) -> tuple[int, dict]:
    """A handler called behind the authorizer with its ``context`` (Cognito or HS256 caller)."""
    event = api_event(method, path, **kwargs)
    event["requestContext"]["authorizer"] = {**context, "principalId": context["sub"]}
    return _answer(module, event)


def _answer(module: Any, event: dict[str, Any]) -> tuple[int, dict]:
    result = module.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


def send_image(account_id: str, context: dict[str, str]) -> tuple[int, dict]:
    body, content_type = multipart_body([("file", "фото.png", png(b"sent-by"), "image/png")])
    path = BASE.format(accountId=account_id, chatId=CHAT) + "/images"
    event = api_event("POST", path)
    event["requestContext"]["authorizer"] = {**context, "principalId": context["sub"]}
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return _answer(messenger_images, event)


def by_id(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {m["id"]: m.get("sentBy", "absent") for m in messages}


def operator_olga(account_id: str) -> tuple[dict[str, str], dict[str, Any]]:
    """An operator invited by the first admin, signed in with a password: (authorizer context, user)."""
    user = invite(admin_token(), "olga@example.com", accountIds=[account_id])
    tokens = first_sign_in("olga@example.com", user["temporaryPassword"])
    context = authorize(tokens["accessToken"])
    assert context is not None
    return context, user


def test_a_cognito_users_text_and_image_carry_their_name_stored_live_and_on_the_websocket(
    sim: AvitoSimulator, account_id: str, aws_env: dict[str, str]
) -> None:
    stream = Stream(aws_env["MessengerTable"])
    connections.open_connection("watcher", Identity("boss", "admin", FAR_EXP))
    context, olga = operator_olga(account_id)
    me = {"userId": olga["id"], "name": "Olga"}
    base = BASE.format(accountId=account_id, chatId=CHAT)

    status, listed = as_caller(messenger_messages, "GET", f"{base}/messages", context)
    assert status == 200 and by_id(listed["data"]) == {"in-1": None}  # from the client: no sender
    status, text = as_caller(messenger_send, "POST", f"{base}/send", context, body={"text": "Да, продаётся"})
    assert status == 200 and text["data"]["sentBy"] == me, text
    status, image = send_image(account_id, context)
    assert status == 200 and image["data"]["sentBy"] == me and image["data"]["type"] == "image", image
    sent_ids = {text["data"]["id"], image["data"]["id"]}
    assert sent_ids <= {m["id"] for m in sim.sent_messages(USER_ID)}  # Avito got both

    expected = {"in-1": None, **dict.fromkeys(sent_ids, me)}
    status, stored = as_caller(chats_messages, "GET", f"/api/v1/chats/{CHAT}/messages", context)
    assert status == 200 and by_id(stored["data"]) == expected
    status, live = as_caller(messenger_messages, "GET", f"{base}/messages", context)  # Avito's listing, joined
    assert status == 200 and by_id(live["data"]) == expected

    assert ws_fanout.lambda_handler(stream.new_event(), FakeContext()) == {"batchItemFailures": []}
    frames = [f["data"]["message"] for f in posted()["watcher"] if f["event"] == "avito-new-message"]
    assert by_id(frames) == expected  # one frame per message, each with its sender (or null)


def test_an_hs256_callers_send_carries_its_sub_with_no_name(sim: AvitoSimulator, account_id: str) -> None:
    base = BASE.format(accountId=account_id, chatId=CHAT)
    status, body = call(messenger_send, "POST", f"{base}/send", role="operator", sub="crm-op-7", body={"text": "Ок"})
    assert status == 200 and body["data"]["sentBy"] == {"userId": "crm-op-7", "name": None}, body
    live = call(messenger_messages, "GET", f"{base}/messages", role="director", sub="someone-else")[1]["data"]
    assert by_id(live) == {"in-1": None, body["data"]["id"]: {"userId": "crm-op-7", "name": None}}
    # a message written in Avito's own app is stored without a sender
    sim.add_message(USER_ID, CHAT, "app-1", "из приложения", created=1_796_000_500, direction="out")
    live = call(messenger_messages, "GET", f"{base}/messages", role="admin")[1]["data"]
    assert by_id(live)["app-1"] is None and next(m for m in live if m["id"] == "app-1")["direction"] == "out"
    stored = call(chats_messages, "GET", f"/api/v1/chats/{CHAT}/messages", role="admin")[1]["data"]
    assert by_id(stored)["app-1"] is None and by_id(stored)[body["data"]["id"]]["userId"] == "crm-op-7"


def test_a_retried_send_stores_the_sender_recorded_with_avitos_answer(
    sim: AvitoSimulator, account_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first storing fails after Avito took the text: the retry (same Idempotency-Key) stores it, with the
    sender recorded beside Avito's answer, and Avito gets one message."""
    real = ChatStore.save_sent_message
    failures = {"left": 1}

    def flaky(self: ChatStore, *args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ChatStore, "save_sent_message", flaky)
    base = BASE.format(accountId=account_id, chatId=CHAT)
    sent_before = len(sim.sent_messages(USER_ID))

    def send() -> tuple[int, dict]:
        event = api_event("POST", f"{base}/send", role="operator", sub="op-retry", body={"text": "Повтор"})
        event["headers"]["Idempotency-Key"] = "k-sent-by"
        event["multiValueHeaders"]["Idempotency-Key"] = ["k-sent-by"]
        return _answer(messenger_send, event)

    assert send()[0] == 500
    status, body = send()
    assert status == 200 and body["data"]["sentBy"] == {"userId": "op-retry", "name": None}
    assert len(sim.sent_messages(USER_ID)) == sent_before + 1
    stored = call(chats_messages, "GET", f"/api/v1/chats/{CHAT}/messages", role="admin")[1]["data"]
    assert by_id(stored)[body["data"]["id"]] == {"userId": "op-retry", "name": None}


def test_a_sent_message_stored_first_by_avitos_echo_or_a_listing_gets_its_sender(
    sim: AvitoSimulator, account_id: str, aws_env: dict[str, str]
) -> None:
    """Avito's webhook echo of the account's own message (or a listing) may store it before the send stores it:
    the sender is added to the stored message and the message is announced again with it; a message listed with a
    time a little off the one stored at send (Avito answered the send without a time) is joined by its id."""
    stream = Stream(aws_env["MessengerTable"])
    connections.open_connection("watcher", Identity("boss", "admin", FAR_EXP))
    store = chat_store()
    olga = SentBy(userId="u-olga", name="Ольга")
    echo = {"id": "echo-1", "chat_id": CHAT, "author_id": USER_ID, "created": 1_796_001_000, "type": "text"}
    assert store.record_delivery(account_id, str(USER_ID), {**echo, "content": {"text": "эхо"}})
    sent = store.save_sent_message(
        account_id, CHAT, {**echo, "content": {"text": "эхо"}}, user_id=str(USER_ID), sent_by=olga
    )
    assert sent.sentBy == olga
    other = SentBy(userId="u-other", name="Другой")  # a second store of the same message keeps the first sender
    store.save_sent_message(account_id, CHAT, {**echo, "content": {"text": "эхо"}}, user_id=str(USER_ID), sent_by=other)
    stored, _ = store.list_messages(CHAT, 100, None, account_id=account_id)
    assert by_id([m.model_dump(mode="json") for m in stored])["echo-1"] == olga.model_dump()
    assert ws_fanout.lambda_handler(stream.new_event(), FakeContext()) == {"batchItemFailures": []}
    echoes = [f for f in posted()["watcher"] if f["data"].get("message", {}).get("id") == "echo-1"]
    assert [f["data"]["message"]["sentBy"] for f in echoes] == [None, olga.model_dump()]  # stored, then its sender
    assert all(f["event"] == "avito-new-message" for f in echoes)

    store.save_sent_message(
        account_id,
        CHAT,
        {"id": "ours-2", "created": 1_796_002_000, "type": "text", "content": {"text": "x"}},
        user_id=str(USER_ID),
        sent_by=olga,
    )
    listed = {"id": "ours-2", "author_id": USER_ID, "created": 1_796_002_040, "type": "text", "content": {"text": "x"}}
    [joined] = store.save_messages(account_id, str(USER_ID), CHAT, [listed])
    assert joined.sentBy == olga
    far_off = {**listed, "id": "theirs-3", "created": 1_796_009_000}
    [far] = store.save_messages(account_id, str(USER_ID), CHAT, [far_off])
    assert far.sentBy is None
