"""Chats belong to an account (issue 13 items 4, 6, 7): (account, chat id) keys, a bounded mark-read, and
the all-accounts inbox read from a write-sharded index, merged newest first across shards and pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import chats_get
import chats_list
import chats_messages
import pytest
from avito_service import aws
from avito_service.messenger import store as store_module
from avito_service.messenger.items import INBOX_SHARDS, chat_pk
from avito_service.messenger.store import ChatStore, chat_store

from tests.integration.test_stored_chats import T0, USER_ID, avito_chat, avito_message, make_account
from tests.support.events import call, call_route

OTHER_USER = "777"
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    store_module.chat_store.cache_clear()
    yield
    store_module.chat_store.cache_clear()


@pytest.fixture
def store(aws_env: dict[str, str]) -> ChatStore:
    return chat_store()


def deliver(  # noqa: PLR0917 - reads like the delivery it makes
    store: ChatStore,
    account_id: str,
    user_id: str,
    chat_id: str,
    message_id: str,
    created: int,
    *,
    author_id: int = 555,
) -> bool:
    value = {
        "id": message_id,
        "chat_id": chat_id,
        "user_id": int(user_id),
        "author_id": author_id,
        "created": created,
        "type": "text",
        "content": {"text": f"text {message_id}"},
    }
    return store.record_delivery(account_id, user_id, value)


def get_chat(chat_id: str, **query: str) -> tuple[int, dict[str, Any]]:
    return call_route(chats_get, "GET", "/api/v1/chats/{chatId}", {"chatId": chat_id}, query=query or None)


def get_messages(chat_id: str, **query: str) -> tuple[int, dict[str, Any]]:
    return call_route(
        chats_messages, "GET", "/api/v1/chats/{chatId}/messages", {"chatId": chat_id}, query=query or None
    )


def list_chats(**query: str) -> tuple[int, dict[str, Any]]:
    return call(chats_list, "GET", "/api/v1/chats", query=query or None, role="operator")


class WriteCounter:
    """Counts the DynamoDB write calls of both clients the store uses (botocore's before-call event)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        for client in (aws.dynamodb_client(), aws.dynamodb_low_level_client()):
            client.meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        if model.name in WRITES:
            self.calls.append(model.name)


# --- item 4: (account, chat id) keys -------------------------------------------------------------------------


def test_two_accounts_in_one_chat_keep_their_own_copies(store: ChatStore) -> None:
    shop, other = make_account("Shop"), make_account("Other", user_id=OTHER_USER)
    # One Avito u2u chat between two managed accounts: each sees the other's messages as incoming.
    deliver(store, shop, USER_ID, "u2u-shared", "m-1", T0, author_id=int(OTHER_USER))
    deliver(store, other, OTHER_USER, "u2u-shared", "m-1", T0, author_id=int(USER_ID))  # same id, other copy
    deliver(store, other, OTHER_USER, "u2u-shared", "m-2", T0 + 1, author_id=int(OTHER_USER))
    deliver(store, shop, USER_ID, "u2u-shared", "m-2", T0 + 1, author_id=int(OTHER_USER))

    status, body = get_chat("u2u-shared")
    assert status == 422, body
    assert [d["field"] for d in body["error"]["details"]] == ["accountId"]
    assert get_messages("u2u-shared")[1]["error"]["details"][0]["field"] == "accountId"

    shop_chat = get_chat("u2u-shared", accountId=shop)[1]["data"]
    other_chat = get_chat("u2u-shared", accountId=other)[1]["data"]
    assert (shop_chat["accountId"], shop_chat["unreadCount"]) == (shop, 2)  # both incoming for the shop
    assert (other_chat["accountId"], other_chat["unreadCount"]) == (other, 1)  # m-1 came from the shop
    shop_messages = get_messages("u2u-shared", accountId=shop)[1]["data"]
    other_messages = get_messages("u2u-shared", accountId=other)[1]["data"]
    assert [(m["id"], m["direction"], m["accountId"]) for m in shop_messages] == [
        ("m-1", "in", shop),
        ("m-2", "in", shop),
    ]
    assert [(m["id"], m["direction"]) for m in other_messages] == [("m-1", "in"), ("m-2", "out")]

    # A repeated delivery is a duplicate for its own account only.
    assert deliver(store, shop, USER_ID, "u2u-shared", "m-3", T0 + 2) is True
    assert deliver(store, shop, USER_ID, "u2u-shared", "m-3", T0 + 2) is False
    assert deliver(store, other, OTHER_USER, "u2u-shared", "m-3", T0 + 2, author_id=int(USER_ID)) is True

    # Reading one copy leaves the other unread; deleting one account's data leaves the other's copy whole.
    store.mark_chat_read(shop, "u2u-shared")
    assert get_chat("u2u-shared", accountId=shop)[1]["data"]["unreadCount"] == 0
    assert get_chat("u2u-shared", accountId=other)[1]["data"]["unreadCount"] == 2  # m-1 and m-3, from the shop
    store.delete_account_data(shop)
    status, body = get_chat("u2u-shared")  # one holder left: accountId is optional again
    assert status == 200 and body["data"]["accountId"] == other
    assert [m["id"] for m in get_messages("u2u-shared")[1]["data"]] == ["m-1", "m-2", "m-3"]
    assert get_chat("u2u-shared", accountId=shop)[0] == 404


def test_listing_keys_the_chat_by_account(store: ChatStore) -> None:
    shop, other = make_account("Shop"), make_account("Other", user_id=OTHER_USER)
    store.save_chats(shop, USER_ID, [avito_chat("u2i-same", T0, last_text="for the shop")])
    store.save_chats(other, OTHER_USER, [avito_chat("u2i-same", T0 + 5, user_id=OTHER_USER, last_text="other")])
    assert sorted(c["accountId"] for c in list_chats()[1]["data"]) == sorted([shop, other])
    assert get_chat("u2i-same", accountId=shop)[1]["data"]["lastMessage"]["text"] == "for the shop"
    assert get_chat("u2i-same", accountId=other)[1]["data"]["lastMessage"]["text"] == "other"
    items = store._table().scan()["Items"]
    assert {i["pk"] for i in items} == {chat_pk(shop, "u2i-same"), chat_pk(other, "u2i-same")}
    assert all(i["chatId"] == "u2i-same" and i["accountId"] in (shop, other) for i in items)


# --- item 6: bounded mark-read ------------------------------------------------------------------------------


def test_mark_read_is_one_write_however_long_the_chat(store: ChatStore) -> None:
    shop = make_account("Shop")
    for i in range(150):
        deliver(store, shop, USER_ID, "u2i-long", f"m-{i:03d}", T0 + i)
    store.save_messages(shop, USER_ID, "u2i-long", [avito_message("m-old-read", T0 - 5, is_read=True)])
    assert store.get_chat("u2i-long", shop).unreadCount == 150

    counter = WriteCounter()
    chat = store.mark_chat_read(shop, "u2i-long")
    assert counter.calls == ["UpdateItem"]  # one write, not one per message
    assert chat is not None and chat.unreadCount == 0
    messages, cursor = store.list_messages("u2i-long", 100, None, shop)
    while cursor:
        page, cursor = store.list_messages("u2i-long", 100, cursor, shop)
        messages += page
    assert len(messages) == 151 and all(m.isRead for m in messages)
    assert list_chats(unreadOnly="true")[1]["data"] == []

    # A message after the read is unread; an older one delivered late is not counted (it was read).
    deliver(store, shop, USER_ID, "u2i-long", "m-late-old", T0 + 10)
    assert store.get_chat("u2i-long", shop).unreadCount == 0
    deliver(store, shop, USER_ID, "u2i-long", "m-new", T0 + 500)
    assert store.get_chat("u2i-long", shop).unreadCount == 1
    unread = [m.id for m in store.list_messages("u2i-long", 100, None, shop)[0] if not m.isRead]
    assert unread == []  # the first page holds the oldest
    last_page = store.list_messages("u2i-long", 100, store.list_messages("u2i-long", 100, None, shop)[1], shop)[0]
    assert [m.id for m in last_page if not m.isRead] == ["m-new"]


def test_mark_read_never_recreates_a_deleted_chat(store: ChatStore) -> None:
    shop = make_account("Shop")
    deliver(store, shop, USER_ID, "u2i-1", "m-1", T0)
    store.delete_account_data(shop)
    assert store.mark_chat_read(shop, "u2i-1") is None
    assert store._table().scan()["Items"] == []


# --- item 7: the sharded all-accounts inbox ---------------------------------------------------------------


def test_inbox_is_sharded_and_merged_newest_first_across_pages(store: ChatStore) -> None:
    accounts = [make_account("A"), make_account("B", user_id=OTHER_USER), make_account("C", user_id="888")]
    users = [USER_ID, OTHER_USER, "888"]
    expected: list[tuple[str, str]] = []
    for n in range(60):  # times interleave across accounts and shards
        account, user = accounts[n % 3], users[n % 3]
        created = T0 + (n * 37) % 60 * 10
        deliver(store, account, user, f"u2i-{n}", f"m-{n}", created)
        expected.append((f"{created}", f"{account}/u2i-{n}"))
    order = [key for _, key in sorted(expected, reverse=True)]  # newest first (times are unique)
    items = store._table().scan()["Items"]
    shards = {i["allPk"] for i in items if i["sk"] == "CHAT"}
    assert len(shards) > INBOX_SHARDS // 2  # spread over the shards, not one partition key
    assert {i["unreadPk"] for i in items if i["sk"] == "CHAT"} == {s.replace("CHATS", "UNREAD") for s in shards}

    for unread in ("false", "true"):
        for limit in (1, 7, 25, 60, 100):
            seen: list[str] = []
            cursor, pages = None, 0
            while True:
                status, body = list_chats(limit=str(limit), unreadOnly=unread, **({"cursor": cursor} if cursor else {}))
                assert status == 200, body
                assert len(body["data"]) <= limit
                seen += [f"{c['accountId']}/{c['id']}" for c in body["data"]]
                pages += 1
                cursor = body["nextCursor"]
                if not cursor:
                    break
            assert seen == order, (unread, limit)
            assert pages == -(-60 // limit)

    # A chat that moves to the top after the first page is not returned twice on later pages.
    first = list_chats(limit="10")[1]
    deliver(store, accounts[0], USER_ID, "u2i-0", "m-top", T0 + 10_000)
    rest = list_chats(limit="100", cursor=first["nextCursor"])[1]["data"]
    assert "u2i-0" not in [c["id"] for c in first["data"]] or "u2i-0" not in [c["id"] for c in rest]
    status, body = list_chats(unreadOnly="true", cursor=first["nextCursor"])  # a cursor of another list
    assert status == 422 and body["error"]["details"][0]["field"] == "cursor"
