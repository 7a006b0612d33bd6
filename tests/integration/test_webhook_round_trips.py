"""The webhook hot path's DynamoDB round trips (issue #9) and that saving them changes no outcome.

A warm container remembers an account's token hash for ``tokens.VERIFIED_SECONDS`` and, in its ChatStore,
what it has seen of chats and stored messages. These tests count the calls and check the stored state for
the cases where that memory is right, behind, or wrong (another container wrote or deleted meanwhile).

Since the chat workflow (issue 25), a newly stored message also moves its chat's workflow state: one GetItem and
one conditional UpdateItem of the chat item after the message's transaction (``workflow.messages.on_stored``;
not folded into that transaction: README, "Chat workflow", says why). ``WORKFLOW`` is that cost per newly stored
message.

A message's transaction writes two items for it: the message and its id's guard (``MSGID#<id>``: a message's
identity is its id, ``test_message_identity.py``); ``written`` counts the items of the transactions by kind.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
import webhook_receiver
from avito_service import aws
from avito_service.accounts import service as accounts_service
from avito_service.accounts.models import AccountCreate
from avito_service.messenger import store as store_module
from avito_service.messenger.store import ChatStore
from avito_service.webhooks import tokens

from avito_sim import deliveries
from avito_sim.deliveries import message_value
from tests.support.events import FakeContext

USER_ID = "123456789"
CLIENT_ID = 987654321
T0 = 1_795_773_000


WORKFLOW = {"GetItem": 1, "UpdateItem": 1}  # the chat workflow's read and write per newly stored message


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    store_module.chat_store.cache_clear()
    tokens.forget_verified()
    yield
    store_module.chat_store.cache_clear()
    tokens.forget_verified()


@pytest.fixture
def account(aws_env: dict[str, str]) -> dict[str, str]:
    created = accounts_service.create_account(
        AccountCreate(name="Shop", clientId="client-rt", clientSecret="s3cret", userId=USER_ID),
    )
    token = tokens.issue_token(created.id)
    tokens.promote(created.id, token)  # as a confirmed subscribe leaves it
    return {"id": created.id, "token": token}


@pytest.fixture
def calls(aws_env: dict[str, str]) -> Counter[str]:
    """DynamoDB operations made through the service's client, by name."""
    counted: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counted[model.name] += 1

    for client in (aws.dynamodb_client(), aws.dynamodb_low_level_client()):
        client.meta.events.register("before-call.dynamodb", count)
    return counted


@pytest.fixture
def written(aws_env: dict[str, str]) -> Counter[str]:
    """The items the service's transactions name, by operation and kind (``sk`` up to its first ``#``)."""
    counted: Counter[str] = Counter()

    def count(params: dict[str, Any], **_: Any) -> None:
        for entry in params["TransactItems"]:
            [(operation, request)] = entry.items()
            key = request.get("Item") or request["Key"]
            kind = key["sk"]["S"].split("#", 1)[0]
            counted[f"{operation} {kind}"] += 1

    aws.dynamodb_low_level_client().meta.events.register("provide-client-params.dynamodb.TransactWriteItems", count)
    return counted


def body(message_id: str, created: int, *, chat_id: str = "u2i-chat-1", author_id: int = CLIENT_ID) -> str:
    value = message_value(
        message_id, chat_id, user_id=int(USER_ID), author_id=author_id, created=created, text=f"hello {message_id}"
    )
    return deliveries.delivery_body(value, delivery_id=f"d-{message_id}", timestamp=created)


def post(account: dict[str, str], text: str, *, token: str | None = None) -> tuple[int, dict[str, Any]]:
    event = {
        "version": "2.0",
        "rawPath": f"/{account['id']}/{token or account['token']}",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": f"/{account['id']}/{token or account['token']}", "sourceIp": "1.2.3.4"},
            "requestId": "r-1",
            "stage": "$default",
        },
        "body": text,
        "isBase64Encoded": False,
    }
    result = webhook_receiver.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"])


def chat() -> dict[str, Any]:
    return store_module.chat_store().get_chat("u2i-chat-1").model_dump()


def test_a_warm_container_reads_the_account_once_and_stores_with_one_transaction(
    account: dict[str, str], calls: Counter[str], written: Counter[str]
) -> None:
    for i, created in enumerate((T0 + 50, T0 + 100, T0, T0 + 75)):  # out of order
        assert post(account, body(f"m-{i}", created)) == (200, {"ok": True, "duplicate": False})
    assert calls == {"GetItem": 1 + 4 * WORKFLOW["GetItem"], "TransactWriteItems": 4, "UpdateItem": 4}
    # each transaction: the message, its id's guard, the chat, the account's existence (its PROFILE item)
    assert written == {"Put MSG": 4, "Put MSGID": 4, "Update CHAT": 4, "ConditionCheck PROFILE": 4}
    stored = chat()
    assert stored["unreadCount"] == 4 and stored["lastMessage"]["id"] == "m-1"
    assert stored["updatedAt"] == "2026-11-27T09:51:40.000Z"


def test_a_repeat_seen_by_this_container_costs_no_call(
    account: dict[str, str], calls: Counter[str], written: Counter[str]
) -> None:
    post(account, body("m-1", T0))
    calls.clear()
    written.clear()
    assert post(account, body("m-1", T0)) == (200, {"ok": True, "duplicate": True})
    assert calls == {}
    store_module.chat_store.cache_clear()  # another container: it asks DynamoDB, which says "stored before"
    assert post(account, body("m-1", T0)) == (200, {"ok": True, "duplicate": True})
    assert calls == {"TransactWriteItems": 1}
    assert written == {"Put MSG": 1, "Put MSGID": 1, "Update CHAT": 1, "ConditionCheck PROFILE": 1}  # canceled
    assert chat()["unreadCount"] == 1
    store_module.chat_store.cache_clear()  # the same id with another time: its guard says "stored before"
    calls.clear()
    assert post(account, body("m-1", T0 + 3_600)) == (200, {"ok": True, "duplicate": True})
    assert calls == {"TransactWriteItems": 1}
    assert chat()["unreadCount"] == 1


def test_an_older_message_after_another_container_moved_the_chat_needs_no_read(
    account: dict[str, str], calls: Counter[str]
) -> None:
    post(account, body("m-new", T0 + 100))
    store_module.chat_store.cache_clear()  # this container never saw the chat
    calls.clear()
    assert post(account, body("m-old", T0)) == (200, {"ok": True, "duplicate": False})
    assert calls == {"TransactWriteItems": 2, **WORKFLOW}  # the first one's cancellation carried the chat (ALL_OLD)
    stored = chat()
    assert stored["unreadCount"] == 2 and stored["lastMessage"]["id"] == "m-new"
    assert stored["updatedAt"] == "2026-11-27T09:51:40.000Z"


def test_a_newer_message_after_another_container_moved_the_chat_still_wins(account: dict[str, str]) -> None:
    post(account, body("m-1", T0))
    other = ChatStore(store_module.chat_store().table_name)  # another container
    other.record_delivery(account["id"], USER_ID, json.loads(body("m-2", T0 + 100))["payload"]["value"])
    # this container still believes m-1 is the newest; m-3 is newer than both
    assert post(account, body("m-3", T0 + 200))[0] == 200
    assert post(account, body("m-0", T0 - 100))[0] == 200
    stored = chat()
    assert stored["unreadCount"] == 4 and stored["lastMessage"]["id"] == "m-3"
    assert stored["updatedAt"] == "2026-11-27T09:53:20.000Z"


def test_what_a_container_remembers_of_a_deleted_chat_does_not_lose_a_message(
    account: dict[str, str], calls: Counter[str]
) -> None:
    post(account, body("m-new", T0 + 100))
    ChatStore(store_module.chat_store().table_name).delete_account_data(account["id"])  # another container
    calls.clear()
    assert post(account, body("m-old", T0)) == (200, {"ok": True, "duplicate": False})
    # "leave the newer chat alone" failed: no chat; then the workflow's read and write of the new chat
    assert calls == {"TransactWriteItems": 2, "GetItem": 1 + WORKFLOW["GetItem"], "UpdateItem": 1}
    stored = chat()
    assert stored["unreadCount"] == 1 and stored["lastMessage"]["id"] == "m-old"
    assert stored["accountId"] == account["id"] and stored["itemId"] == "4012345678"
    store = store_module.chat_store()
    assert [m.id for m in store.list_messages("u2i-chat-1", 10, None)[0]] == ["m-old"]


def test_deleting_in_this_container_forgets_what_was_stored(account: dict[str, str]) -> None:
    post(account, body("m-1", T0))
    store_module.chat_store().delete_account_data(account["id"])
    assert post(account, body("m-1", T0)) == (200, {"ok": True, "duplicate": False})  # stored again
    assert chat()["unreadCount"] == 1


def test_a_new_token_works_at_once_and_an_old_one_at_most_for_the_window(
    account: dict[str, str], calls: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert post(account, "{}")[0] == 200  # this container has verified the current token
    old = account["token"]
    # another container rotates the token: this one is not told
    new = "N" * 43
    accounts_service.record_fields(account["id"], {tokens.TOKEN_HASH_FIELD: tokens._digest(new)}, bump_version=False)
    calls.clear()
    assert post(account, "{}", token=new)[0] == 200  # a token that does not match what we hold: read again
    assert calls == {"GetItem": 1}
    assert post(account, "{}", token=old)[0] == 401  # and the read replaced the old hash
    assert post(account, "{}", token="wrong")[0] == 401

    monkeypatch.setattr(tokens, "VERIFIED_SECONDS", 0.0)  # an expired window: every delivery reads again
    tokens.forget_verified()
    calls.clear()
    assert post(account, "{}", token=new)[0] == 200
    assert post(account, "{}", token=new)[0] == 200
    assert calls == {"GetItem": 2}


def test_an_unsubscribed_account_is_forgotten(account: dict[str, str]) -> None:
    assert post(account, "{}")[0] == 200
    accounts_service.record_fields(account["id"], {}, {tokens.TOKEN_HASH_FIELD})  # another container
    tokens.forget_verified(account["id"])  # (the window has passed)
    assert post(account, "{}")[0] == 401
    assert tokens.verified_account(account["id"], account["token"]) is None


def test_an_unknown_account_is_answered_like_a_bad_secret(account: dict[str, str]) -> None:
    unknown = post({"id": "00000000-0000-4000-8000-00000000dead", "token": "x" * 43}, "{}")
    bad_secret = post({"id": account["id"], "token": "x" * 43}, "{}")
    malformed_id = post({"id": "bad_id", "token": "x" * 43}, "{}")
    assert unknown == bad_secret == malformed_id  # nobody learns which account ids exist
    assert unknown[0] == 401 and unknown[1]["error"]["code"] == "invalid_webhook_token"


def test_a_delivery_for_an_account_deleted_meanwhile_stores_nothing(account: dict[str, str]) -> None:
    """This container verified the token a moment ago; another one deletes the account: the next delivery
    within the token window must not write for the deleted account (its chats go in the background)."""
    assert post(account, body("m-1", T0)) == (200, {"ok": True, "duplicate": False})
    before = chat()
    # The account record goes, as another container's DELETE does; its chats stay until the background
    # cleanup runs, so the stored chat shows whether this delivery changed anything.
    accounts_service.delete_account(account["id"])
    status, answer = post(account, body("m-2", T0 + 10))  # this container's token memory still says yes
    assert status == 404 and answer["error"]["code"] == "account_not_found"
    # every read now hides the deleted account; look underneath at what the cleanup has not removed yet
    with patch.object(store_module.ChatStore, "hidden_accounts", return_value=frozenset()):
        assert chat() == before  # neither the message nor the chat's counters were written
        messages = store_module.chat_store().list_messages("u2i-chat-1", 10, None)[0]
    assert [m.id for m in messages] == ["m-1"]
