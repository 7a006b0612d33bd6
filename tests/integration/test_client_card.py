"""The client card: phones from the client's messages, the item with price and city, the client's other chats on
the accounts the caller may see."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import chats_client
import pytest
from avito_service.clients.service import city_of
from avito_service.messenger.store import chat_store

from tests.support.accounts import create_account
from tests.support.events import FakeContext, api_event

USER = "100"
CLIENT = 777
T0 = 1_796_000_000


@pytest.fixture
def accounts(aws_env: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    chat_store.cache_clear()
    yield (
        create_account(name="A", clientId="c-a", userId=USER),
        create_account(name="B", clientId="c-b", userId=USER),
        create_account(name="C", clientId="c-c", userId=USER),
    )
    chat_store.cache_clear()


def chat(account_id: str, chat_id: str, *, client: int = CLIENT, item: str = "Диван", updated: int = T0) -> None:
    value = {
        "id": 4012345678,
        "title": item,
        "url": "https://www.avito.ru/sankt-peterburg/mebel/divan_4012345678",
        "price_string": "12 500 ₽",
    }
    chat_store().save_chats(
        account_id,
        USER,
        [
            {
                "id": chat_id,
                "created": T0,
                "updated": updated,
                "context": {"type": "item", "value": value},
                "users": [{"id": int(USER), "name": "Shop"}, {"id": client, "name": "Анна"}],
            }
        ],
    )


def message(account_id: str, chat_id: str, message_id: str, text: str, created: int, *, out: bool = False) -> None:
    raw = {
        "id": message_id,
        "author_id": int(USER) if out else CLIENT,
        "created": created,
        "type": "text",
        "content": {"text": text},
    }
    chat_store().save_messages(account_id, USER, chat_id, [raw])


def card(chat_id: str, account_id: str | None = None, *, role: str = "operator", scope: list[str] | None = None) -> Any:
    event = api_event(
        "GET",
        f"/api/v1/chats/{chat_id}/client",
        resource="/api/v1/chats/{chatId}/client",
        path_parameters={"chatId": chat_id},
        query={"accountId": account_id} if account_id else None,
        role=role,
    )
    if scope is not None:
        event["requestContext"]["authorizer"]["accountIds"] = json.dumps(scope)
    result = chats_client.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


def test_the_card_of_a_chat(accounts: tuple[str, str, str]) -> None:
    a, b, c = accounts
    chat(a, "u2i-1")
    chat(b, "u2i-2", item="Стол", updated=T0 + 500)
    chat(c, "u2i-3", item="Шкаф", updated=T0 + 900)
    chat(b, "u2i-someone-else", client=888)
    message(a, "u2i-1", "m1", "Здравствуйте, мой телефон 8 (912) 345-67-89", T0 + 10)
    message(a, "u2i-1", "m2", "Или звоните на +7 495 123 45 67, лучше 89123456789", T0 + 20)
    message(a, "u2i-1", "m3", "Наш номер +7 800 555 35 35", T0 + 30, out=True)  # ours, not the client's
    message(b, "u2i-2", "m4", "Тел 9001112233", T0 + 40)  # another chat: not this card's
    status, body = card("u2i-1", a)
    assert status == 200, body
    data = body["data"]
    assert data["clientName"] == "Анна" and data["clientUserId"] == str(CLIENT)
    assert data["phones"] == ["+74951234567", "+79123456789"]  # newest message first
    assert data["item"] == {
        "id": "4012345678",
        "title": "Диван",
        "url": "https://www.avito.ru/sankt-peterburg/mebel/divan_4012345678",
        "price": "12 500 ₽",
        "city": "Санкт-Петербург",
    }
    assert [(o["accountId"], o["chatId"], o["itemTitle"]) for o in data["otherChats"]] == [
        (c, "u2i-3", "Шкаф"),
        (b, "u2i-2", "Стол"),
    ]
    assert data["otherChats"][0]["lastMessageAt"] == "2026-11-30T01:08:20.000Z"


def test_other_chats_only_on_accounts_the_caller_may_see(accounts: tuple[str, str, str]) -> None:
    a, b, c = accounts
    chat(a, "u2i-1")
    chat(b, "u2i-2")
    chat(c, "u2i-3")
    status, body = card("u2i-1", a, scope=[a, b])
    assert status == 200 and [o["accountId"] for o in body["data"]["otherChats"]] == [b]
    status, body = card("u2i-1", a, scope=[b])  # the account itself is hidden from this caller, as if it did not exist
    assert status == 404 and body["error"]["code"] == "account_not_found"
    status, body = card("u2i-1", role="director")  # accountId may be left out when one account holds the chat
    assert status == 200 and len(body["data"]["otherChats"]) == 2


def test_unknown_chat_and_no_item(accounts: tuple[str, str, str]) -> None:
    a, _, _ = accounts
    assert card("u2i-nope", a)[0] == 404
    chat_store().save_chats(a, USER, [{"id": "u2u-1", "created": T0, "updated": T0, "users": [{"id": 5, "name": "X"}]}])
    status, body = card("u2u-1", a)
    assert status == 200 and body["data"]["item"] is None and body["data"]["phones"] == []


@pytest.mark.parametrize(
    ("url", "city"),
    [
        ("https://www.avito.ru/moskva/mebel/divan_1", "Москва"),
        ("https://avito.ru/tver/mebel/divan_1", "tver"),
        ("https://www.avito.ru/4012345678", None),
        ("https://example.com/moskva/mebel/divan_1", None),
        (None, None),
    ],
)
def test_city_from_the_items_address(url: str | None, city: str | None) -> None:
    assert city_of(url) == city


def tracked(account_id: str, call_id: str, phone: str, at: str) -> Any:
    from avito_service.calls.models import TrackedCall

    return TrackedCall(
        id=call_id,
        accountId=account_id,
        callTime=at,
        callerPhone=phone,
        sellerPhone="79990000000",
        virtualPhone="79991111111",
        talkDuration=42,
        waitingDuration=3.5,
        itemId="4012345678",
    )


def test_the_card_lists_the_calls_from_its_phones_on_the_accounts_the_caller_sees(
    accounts: tuple[str, str, str],
) -> None:
    from avito_service.calls.store import call_store

    a, b, c = accounts
    chat(a, "u2i-1")
    message(a, "u2i-1", "m1", "Мой телефон 8 (912) 345-67-89", T0 + 10)
    call_store().save(a, [tracked(a, "501", "79123456789", "2026-12-01T10:00:00Z")])
    call_store().save(b, [tracked(b, "502", "+7 912 345-67-89", "2026-12-02T10:00:00Z")])  # another spelling
    call_store().save(c, [tracked(c, "503", "79123456789", "2026-12-03T10:00:00Z")])
    call_store().save(a, [tracked(a, "504", "79990001122", "2026-12-04T10:00:00Z")])  # someone else's phone
    call_store().save(a, [tracked(a, "501", "79123456789", "2026-12-01T10:00:00Z")])  # the daily sync again
    status, body = card("u2i-1", a, role="director")
    assert status == 200, body
    calls = body["data"]["calls"]
    assert [(x["accountId"], x["id"]) for x in calls] == [(c, "503"), (b, "502"), (a, "501")]  # newest first
    assert calls[0]["talkDuration"] == 42 and calls[0]["callTime"] == "2026-12-03T10:00:00Z"
    status, body = card("u2i-1", a, scope=[a, b])  # an operator without account C never sees its call
    assert [x["id"] for x in body["data"]["calls"]] == ["502", "501"]
    chat(a, "u2i-quiet", client=999)
    assert card("u2i-quiet", a)[1]["data"]["calls"] == []  # no phone in the chat: no calls
