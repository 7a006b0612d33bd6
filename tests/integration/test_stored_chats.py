"""Stored chats: the ChatStore against moto (tables from template.yaml) and the three GET handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chats_get
import chats_list
import chats_messages
import pytest
from avito_service.messenger import store as store_module
from avito_service.messenger.items import chat_pk
from avito_service.messenger.store import ChatStore, chat_store

from tests.support.accounts import create_account
from tests.support.events import FakeContext, call

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLE_ACCOUNT = "00000000-0000-4000-8000-000000000001"
USER_ID = "123456789"
T0 = 1_795_773_000


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    store_module.chat_store.cache_clear()
    yield
    store_module.chat_store.cache_clear()


def make_account(name: str = "Shop", user_id: str = USER_ID) -> str:
    return create_account(name=name, clientId=f"client-{name}", userId=user_id)


@pytest.fixture
def account_id(aws_env: dict[str, str]) -> str:
    return make_account()


@pytest.fixture
def store(aws_env: dict[str, str]) -> ChatStore:
    return chat_store()


def avito_chat(chat_id: str, updated: int, *, user_id: str = USER_ID, last_text: str = "hi") -> dict[str, Any]:
    return {
        "id": chat_id,
        "created": T0 - 1000,
        "updated": updated,
        "context": {
            "type": "item",
            "value": {"id": 4012345678, "title": "Bike", "url": "https://avito.ru/4012345678", "price_string": "1 ₽"},
        },
        "users": [{"id": int(user_id), "name": "Shop"}, {"id": 555, "name": "Ivan", "public_user_profile": {}}],
        "last_message": {
            "id": f"{chat_id}-last",
            "author_id": 555,
            "created": updated,
            "direction": "in",
            "type": "text",
            "content": {"text": last_text},
        },
    }


def avito_message(message_id: str, created: int, *, author_id: int = 555, is_read: bool = False) -> dict[str, Any]:
    return {
        "id": message_id,
        "author_id": author_id,
        "created": created,
        "direction": "out" if str(author_id) == USER_ID else "in",
        "type": "text",
        "content": {"text": f"text {message_id}"},
        "is_read": is_read,
        "read": created if is_read else None,
    }


def incoming(store: ChatStore, account_id: str, chat_id: str, message_id: str, created: int) -> bool:
    value = {**avito_message(message_id, created), "chat_id": chat_id, "user_id": int(USER_ID), "read": None}
    del value["direction"], value["is_read"]
    return store.record_delivery(account_id, USER_ID, value)


def list_chats(**query: str) -> tuple[int, dict[str, Any]]:
    return call(chats_list, "GET", "/api/v1/chats", query=query or None, role="operator")


def get_chat(chat_id: str) -> tuple[int, dict[str, Any]]:
    return call(
        chats_get,
        "GET",
        f"/api/v1/chats/{chat_id}",
        resource="/api/v1/chats/{chatId}",
        path_parameters={"chatId": chat_id},
        role="director",
    )


def get_messages(chat_id: str, **query: str) -> tuple[int, dict[str, Any]]:
    return call(
        chats_messages,
        "GET",
        f"/api/v1/chats/{chat_id}/messages",
        resource="/api/v1/chats/{chatId}/messages",
        path_parameters={"chatId": chat_id},
        query=query or None,
    )


def all_pages(fetch: Any, limit: int) -> tuple[list[str], int]:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        status, body = fetch(limit=str(limit), **({"cursor": cursor} if cursor else {}))
        assert status == 200, body
        assert len(body["data"]) <= limit
        seen.extend(item["id"] for item in body["data"])
        pages += 1
        cursor = body["nextCursor"]
        if not cursor:
            return seen, pages


# --- saving -------------------------------------------------------------------------------------------------


def test_save_chats_maps_avito_fields_and_is_idempotent(store: ChatStore, account_id: str) -> None:
    raw = avito_chat("u2i-1", T0)
    first = store.save_chats(account_id, USER_ID, [raw])
    again = store.save_chats(account_id, USER_ID, [raw])
    assert first == again
    status, body = get_chat("u2i-1")
    assert status == 200
    assert body["data"] == {
        "id": "u2i-1",
        "accountId": account_id,
        "itemId": "4012345678",
        "itemTitle": "Bike",
        "itemUrl": "https://avito.ru/4012345678",
        "itemPrice": "1 ₽",
        "clientName": "Ivan",
        "clientUserId": "555",
        "lastMessage": {
            "id": "u2i-1-last",
            "text": "hi",
            "type": "text",
            "direction": "in",
            "createdAt": "2026-11-27T09:50:00.000Z",
        },
        "unreadCount": 0,
        "createdAt": "2026-11-27T09:33:20.000Z",
        "updatedAt": "2026-11-27T09:50:00.000Z",
        # the workflow (issue 25): a chat is created new; a listing stores no message, so nothing is awaited
        "status": "new",
        "assignee": None,
        "awaitingReplySince": None,
        "firstResponseAt": None,
        "tags": [],
    }
    assert list_chats()[1]["data"] == [body["data"]]


def test_save_chats_never_goes_backwards(store: ChatStore, account_id: str) -> None:
    store.save_chats(account_id, USER_ID, [avito_chat("u2i-1", T0 + 100, last_text="new")])
    store.save_chats(account_id, USER_ID, [avito_chat("u2i-1", T0, last_text="old")])
    chat = store.get_chat("u2i-1")
    assert chat.updatedAt == "2026-11-27T09:51:40.000Z" and chat.lastMessage and chat.lastMessage.text == "new"


def test_save_chats_fills_in_a_chat_a_delivery_created(store: ChatStore, account_id: str) -> None:
    incoming(store, account_id, "u2i-1", "m-1", T0 + 50)
    store.save_chats(account_id, USER_ID, [avito_chat("u2i-1", T0)])  # an older listing
    chat = store.get_chat("u2i-1")
    assert chat.itemTitle == "Bike" and chat.clientName == "Ivan"  # details filled in
    assert chat.lastMessage and chat.lastMessage.id == "m-1" and chat.unreadCount == 1  # ours kept


def test_save_messages_is_idempotent_and_counts_unread_once(store: ChatStore, account_id: str) -> None:
    store.save_chats(account_id, USER_ID, [avito_chat("u2i-1", T0)])
    page = [
        avito_message("m-1", T0 + 1, is_read=True),
        avito_message("m-2", T0 + 2, author_id=int(USER_ID)),
        avito_message("m-3", T0 + 3),
    ]
    assert [m.id for m in store.save_messages(account_id, USER_ID, "u2i-1", page)] == ["m-1", "m-2", "m-3"]
    store.save_messages(account_id, USER_ID, "u2i-1", page)
    assert incoming(store, account_id, "u2i-1", "m-3", T0 + 3) is False  # the webhook sees it as known
    _, body = get_messages("u2i-1")
    assert [(m["id"], m["direction"], m["isRead"]) for m in body["data"]] == [
        ("m-1", "in", True),
        ("m-2", "out", False),
        ("m-3", "in", False),
    ]
    chat = store.get_chat("u2i-1")
    assert chat.unreadCount == 1 and chat.lastMessage and chat.lastMessage.id == "m-3"


def test_save_sent_message_is_outgoing_and_last(store: ChatStore, account_id: str) -> None:
    incoming(store, account_id, "u2i-1", "m-1", T0)
    sent = store.save_sent_message(
        account_id,
        "u2i-1",
        {"id": "s-1", "created": T0 + 5, "type": "text", "content": {"text": "Yes"}},
        user_id=USER_ID,
    )
    assert sent.direction == "out" and sent.authorId == USER_ID and sent.text == "Yes"
    chat = store.get_chat("u2i-1")
    assert chat.lastMessage and chat.lastMessage.id == "s-1" and chat.unreadCount == 1


def test_mark_chat_read(store: ChatStore, account_id: str) -> None:
    incoming(store, account_id, "u2i-1", "m-1", T0)
    incoming(store, account_id, "u2i-1", "m-2", T0 + 1)
    assert [c["id"] for c in list_chats(unreadOnly="true")[1]["data"]] == ["u2i-1"]
    chat = store.mark_chat_read(account_id, "u2i-1")
    assert chat is not None and chat.unreadCount == 0
    assert all(m["isRead"] for m in get_messages("u2i-1")[1]["data"])
    assert list_chats(unreadOnly="true")[1]["data"] == []
    assert list_chats(accountId=account_id, unreadOnly="true")[1]["data"] == []
    assert store.mark_chat_read(account_id, "u2i-unknown") is None
    incoming(store, account_id, "u2i-1", "m-3", T0 + 2)
    assert store.get_chat("u2i-1").unreadCount == 1


# --- listing ------------------------------------------------------------------------------------------------


def test_list_order_filters_and_pagination(store: ChatStore, account_id: str) -> None:
    other = make_account("Other", user_id="777")
    store.save_chats(account_id, USER_ID, [avito_chat(f"u2i-a{i}", T0 + i * 10) for i in range(5)])
    store.save_chats(other, "777", [avito_chat(f"u2i-b{i}", T0 + i * 10 + 5, user_id="777") for i in range(3)])
    incoming(store, account_id, "u2i-a0", "m-1", T0 + 100)  # newest activity now, and unread

    status, body = list_chats()
    assert status == 200 and body["nextCursor"] is None
    assert [c["id"] for c in body["data"]] == [
        "u2i-a0",  # T0 + 100 (the delivery)
        "u2i-a4",  # T0 + 40
        "u2i-a3",  # T0 + 30
        "u2i-b2",  # T0 + 25
        "u2i-a2",  # T0 + 20
        "u2i-b1",  # T0 + 15
        "u2i-a1",  # T0 + 10
        "u2i-b0",  # T0 + 5
    ]
    assert [c["id"] for c in list_chats(accountId=other)[1]["data"]] == ["u2i-b2", "u2i-b1", "u2i-b0"]
    assert [c["id"] for c in list_chats(unreadOnly="true")[1]["data"]] == ["u2i-a0"]
    assert list_chats(accountId=other, unreadOnly="true")[1]["data"] == []
    assert list_chats(accountId="no-such-account")[1]["data"] == []

    for limit in (1, 3, 8, 100):
        seen, pages = all_pages(list_chats, limit)
        assert seen == [c["id"] for c in body["data"]]  # each exactly once, in order
        assert pages == max(1, -(-8 // limit))
    seen, _ = all_pages(lambda **q: list_chats(accountId=account_id, **q), 2)
    assert seen == ["u2i-a0", "u2i-a4", "u2i-a3", "u2i-a2", "u2i-a1"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "x"},
        {"cursor": "garbage!"},
        {"cursor": "eyJmb28iOiAxfQ"},
        {"unreadOnly": "maybe"},
    ],
)
def test_bad_list_parameters_are_422(account_id: str, query: dict[str, str]) -> None:
    status, body = list_chats(**query)
    assert status == 422, body
    assert body["error"]["details"][0]["field"] in {"limit", "cursor", "unreadOnly"}


def test_cursor_of_another_list_is_422(store: ChatStore, account_id: str) -> None:
    store.save_chats(account_id, USER_ID, [avito_chat(f"u2i-a{i}", T0 + i) for i in range(3)])
    cursor = list_chats(limit="1")[1]["nextCursor"]
    status, body = list_chats(limit="1", accountId=account_id, cursor=cursor)
    assert status == 422 and body["error"]["details"][0]["field"] == "cursor"
    status, body = get_messages("u2i-a0", cursor=cursor)
    assert status == 422 and body["error"]["details"][0]["field"] == "cursor"


def test_messages_oldest_first_and_paginated(store: ChatStore, account_id: str) -> None:
    for i in (5, 1, 3, 2, 4, 0, 6):
        incoming(store, account_id, "u2i-1", f"m-{i}", T0 + i)
    status, body = get_messages("u2i-1")
    assert status == 200 and [m["id"] for m in body["data"]] == [f"m-{i}" for i in range(7)]
    assert body["nextCursor"] is None
    for limit in (1, 2, 7):
        seen, pages = all_pages(lambda **q: get_messages("u2i-1", **q), limit)
        assert seen == [f"m-{i}" for i in range(7)] and pages == -(-7 // limit)


def test_unknown_chat_is_404(account_id: str) -> None:
    status, body = get_chat("u2i-nope")
    assert status == 404 and body["error"]["code"] == "chat_not_found"
    status, body = get_messages("u2i-nope")
    assert status == 404 and body["error"]["code"] == "chat_not_found"


def test_roles(store: ChatStore, account_id: str) -> None:
    store.save_chats(account_id, USER_ID, [avito_chat("u2i-1", T0)])
    for role in ("admin", "operator", "director"):
        assert call(chats_list, "GET", "/api/v1/chats", role=role)[0] == 200
    assert call(chats_list, "GET", "/api/v1/chats", role="guest")[0] == 403


def test_sample_events(store: ChatStore, account_id: str) -> None:
    incoming(store, account_id, "u2i-Zx8yW7vU6tS5rQ4pO3nM2l", "m-1", T0)
    for name in ("chats_list.json", "chats_get.json", "chats_messages.json"):
        event = json.loads((EVENTS / name).read_text().replace(SAMPLE_ACCOUNT, account_id))
        module = {"chats_list.json": chats_list, "chats_get.json": chats_get, "chats_messages.json": chats_messages}
        result = module[name].lambda_handler(event, FakeContext())
        assert result["statusCode"] == 200, result
        data = json.loads(result["body"])["data"]
        assert (data[0] if isinstance(data, list) else data)["accountId"] == account_id


# --- deleting an account's chats (the cleanup worker's step; the whole deletion is in test_account_deletion) ---


def test_delete_account_data(store: ChatStore, account_id: str) -> None:
    other = make_account("Other", user_id="777")
    store.save_chats(account_id, USER_ID, [avito_chat(f"u2i-a{i}", T0 + i) for i in range(3)])
    store.save_chats(other, "777", [avito_chat("u2i-b0", T0, user_id="777")])
    for i in range(30):
        incoming(store, account_id, "u2i-a0", f"m-{i}", T0 + i)
    incoming(store, other, "u2i-b0", "m-b", T0)

    assert store.delete_account_data(account_id) == 63  # 3 chats, 30 messages and their 30 id guards
    assert [c["id"] for c in list_chats()[1]["data"]] == ["u2i-b0"]
    assert get_chat("u2i-a0")[0] == 404 and get_messages("u2i-a0")[0] == 404
    assert (
        store._table().query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": chat_pk(account_id, "u2i-a0")}
        )["Items"]
        == []
    )
    assert [m["id"] for m in get_messages("u2i-b0")[1]["data"]] == ["m-b"]
    assert store.delete_account_data(account_id) == 0
