"""Deleting an account (issue 13 item 5): the account goes first, in one transaction with a cleanup marker;
nothing is written for it afterwards, whoever races the delete; its data is cleaned up in the background,
resuming after failures, until nothing is left; a second DELETE is 404; a deleted account disappears from every
read at once, while its cleanup is still pending."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import accounts_cleanup
import accounts_delete
import boto3
import chats_get
import chats_list
import chats_messages
import pytest
from avito_service.accounts import cleanup as account_cleanup
from avito_service.accounts import service as accounts_service
from avito_service.accounts.store import CLEANUP_PK
from avito_service.errors import NotFound
from avito_service.messenger import store as store_module
from avito_service.messenger.items import chat_pk
from avito_service.messenger.store import ChatStore, chat_store

from tests.integration.test_chat_ownership import deliver
from tests.integration.test_stored_chats import T0, USER_ID, avito_chat, avito_message, make_account
from tests.support.cleanup import cleanup_messages, finish_cleanup, queued_accounts
from tests.support.events import FakeContext, call_route


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    store_module.chat_store.cache_clear()
    yield
    store_module.chat_store.cache_clear()


@pytest.fixture
def store(aws_env: dict[str, str]) -> ChatStore:
    return chat_store()


def new_account(name: str = "Shop", user_id: str = USER_ID) -> dict[str, Any]:
    return accounts_service.get_item(make_account(name, user_id))


def delete(account_id: str) -> tuple[int, dict[str, Any]]:
    return call_route(accounts_delete, "DELETE", "/api/v1/accounts/{id}", {"id": account_id})


def with_data(store: ChatStore, account_id: str) -> None:
    store.save_chats(account_id, USER_ID, [avito_chat(f"u2i-{i}", T0 + i) for i in range(3)])
    for i in range(25):
        deliver(store, account_id, USER_ID, "u2i-0", f"m-{i}", T0 + 10 + i)
    accounts_service.account_store().put_snapshot(account_id, "2026-11-27", {"date": "2026-11-27", "adsCount": 1})


def messenger_items() -> list[dict[str, Any]]:
    return chat_store()._table().scan()["Items"]


def account_items(account_id: str) -> list[dict[str, Any]]:
    items = accounts_service.account_store()._table.scan()["Items"]
    return [i for i in items if account_id in str(i.get("pk")) or account_id in str(i.get("sk"))]


def secret_exists(arn: str) -> bool:
    try:
        boto3.client("secretsmanager").describe_secret(SecretId=arn)
    except boto3.client("secretsmanager").exceptions.ResourceNotFoundException:
        return False
    return True


def assert_nothing_left(account_id: str, secret_arn: str) -> None:
    assert [i for i in messenger_items() if i["accountId"] == account_id] == []
    assert account_items(account_id) == []
    assert not secret_exists(secret_arn)


def test_delete_removes_the_account_at_once_and_the_rest_in_the_background(store: ChatStore) -> None:
    item, other = new_account(), new_account("Other", user_id="777")
    account_id = item["id"]
    with_data(store, account_id)
    deliver(store, other["id"], "777", "u2i-0", "m-other", T0)  # the same chat id, another account's copy

    status, body = delete(account_id)
    assert status == 200 and body["data"] == {"id": account_id, "deleted": True}
    with pytest.raises(NotFound):
        accounts_service.get_item(account_id)
    assert accounts_service.account_store().client_owner("client-Shop") is None  # the clientId is free again
    records = cleanup_messages()
    assert [r["body"] for r in records] == [f'{{"accountId": "{account_id}"}}']

    # A second DELETE while the cleanup is pending is the contract's 404 (issue #22 item 8).
    status, body = delete(account_id)
    assert status == 404 and body["error"]["code"] == "account_not_found"

    # The worker's first pass (through the function, as SQS calls it) deletes everything it finds ...
    answer = accounts_cleanup.lambda_handler({"Records": records}, FakeContext())
    assert answer == {"batchItemFailures": []}
    assert [i for i in messenger_items() if i["accountId"] == account_id] == []
    assert not secret_exists(item["secretArn"])
    # ... and keeps the marker until a pass after the settle time finds nothing (the index may lag).
    assert accounts_service.account_store().cleanup_marker(account_id) is not None
    assert finish_cleanup(account_id) == 1
    assert_nothing_left(account_id, item["secretArn"])
    # the other copy stays: its chat, its message and the message's id guard
    assert [i["pk"] for i in messenger_items()] == [chat_pk(other["id"], "u2i-0")] * 3

    assert delete(account_id)[0] == 404  # once the cleanup is done the id is unknown
    assert account_cleanup.clean_up(account_id) is True  # a late message is harmless


def chats(query: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Every page of GET /chats (limit 2, so the pages cross what is hidden): (accountId, chatId) in order."""
    seen: list[tuple[str, str]] = []
    cursor: str | None = None
    while True:
        params = {**(query or {}), "limit": "2", **({"cursor": cursor} if cursor else {})}
        status, body = call_route(chats_list, "GET", "/api/v1/chats", {}, query=params, role="operator")
        assert status == 200, body
        assert len(body["data"]) <= 2 and (body["nextCursor"] is None or len(body["data"]) == 2)
        seen.extend((c["accountId"], c["id"]) for c in body["data"])
        cursor = body["nextCursor"]
        if cursor is None:
            return seen


def test_a_deleted_account_disappears_from_every_read_at_once(store: ChatStore) -> None:
    """Issue #22 item 8: before any cleanup pass, the deleted account's chats are in no list (its own, the inbox,
    the unread inbox), a chat id it shared with another account answers with the other's copy (no 422, no
    200 for the deleted copy), and its own chats and messages are 404; a second DELETE is 404."""
    gone, kept = new_account("Gone"), new_account("Kept", user_id="777")
    store.save_chats(gone["id"], USER_ID, [avito_chat(f"u2i-{i}", T0 + i) for i in range(3)])
    deliver(store, gone["id"], USER_ID, "u2i-1", "m-gone", T0 + 50)  # unread, newest of all
    deliver(store, kept["id"], "777", "u2i-0", "m-kept", T0 + 20)  # the same chat id: the kept account's copy
    deliver(store, kept["id"], "777", "u2i-9", "m-kept-2", T0 + 10)
    assert len(chats()) == 5
    status, body = call_route(chats_get, "GET", "/api/v1/chats/{chatId}", {"chatId": "u2i-0"}, role="operator")
    assert status == 422 and body["error"]["details"][0]["field"] == "accountId"  # two accounts hold it

    assert delete(gone["id"])[0] == 200
    assert accounts_service.account_store().cleanup_marker(gone["id"]) is not None  # the cleanup has not run
    assert [i for i in messenger_items() if i["accountId"] == gone["id"]]  # its data is still stored ...

    kept_chats = [(kept["id"], "u2i-0"), (kept["id"], "u2i-9")]
    assert chats() == kept_chats  # ... but no read shows it
    assert chats({"unreadOnly": "true"}) == kept_chats
    assert chats({"accountId": gone["id"]}) == []
    assert chats({"accountId": gone["id"], "unreadOnly": "true"}) == []
    status, body = call_route(chats_get, "GET", "/api/v1/chats/{chatId}", {"chatId": "u2i-0"}, role="operator")
    assert status == 200 and body["data"]["accountId"] == kept["id"]  # the shared id is the kept account's alone
    for path, module in (("/api/v1/chats/{chatId}", chats_get), ("/api/v1/chats/{chatId}/messages", chats_messages)):
        for query in (None, {"accountId": gone["id"]}):
            status, body = call_route(module, "GET", path, {"chatId": "u2i-1"}, query=query, role="operator")
            assert (status, body["error"]["code"]) == (404, "chat_not_found"), (path, query, body)
    status, body = call_route(
        chats_messages, "GET", "/api/v1/chats/{chatId}/messages", {"chatId": "u2i-0"}, role="operator"
    )
    assert status == 200 and [m["id"] for m in body["data"]] == ["m-kept"]

    status, body = delete(gone["id"])
    assert (status, body["error"]["code"]) == (404, "account_not_found")
    finish_cleanup(gone["id"])
    assert chats() == kept_chats


def test_writers_racing_the_delete_write_nothing(store: ChatStore) -> None:
    """Each writer already holds the account (read, or its token verified) when another container deletes it:
    the write's own condition check refuses it, so nothing is created for the deleted account."""
    item = new_account()
    account_id = item["id"]
    deliver(store, account_id, USER_ID, "u2i-0", "m-1", T0)
    accounts_service.delete_account(account_id)
    before = messenger_items()

    with pytest.raises(NotFound):  # a webhook delivery
        deliver(store, account_id, USER_ID, "u2i-0", "m-2", T0 + 1)
    with pytest.raises(NotFound):  # a delivery that would create a new chat
        deliver(store, account_id, USER_ID, "u2i-new", "m-3", T0 + 2)
    with pytest.raises(NotFound):  # a live listing of chats, or a keep-alive storing the unread chats it saw
        store.save_chats(account_id, USER_ID, [avito_chat("u2i-0", T0 + 5), avito_chat("u2i-listed", T0 + 6)])
    with pytest.raises(NotFound):  # a live listing of messages
        store.save_messages(account_id, USER_ID, "u2i-0", [avito_message("m-4", T0 + 7)])
    with pytest.raises(NotFound):  # a send whose answer arrives after the delete
        store.save_sent_message(account_id, "u2i-0", {"id": "s-1", "created": T0 + 8, "type": "text"}, user_id=USER_ID)
    with pytest.raises(NotFound):  # the keep-alive's status update
        accounts_service.record_fields(account_id, {"isOnline": True}, bump_version=False)
    assert store.mark_chat_read(account_id, "u2i-new") is None  # never recreates a chat

    assert messenger_items() == before
    assert [i for i in account_items(account_id) if i["pk"] != CLEANUP_PK] == []
    finish_cleanup(account_id)
    assert_nothing_left(account_id, item["secretArn"])


def test_cleanup_resumes_after_a_failure(store: ChatStore, monkeypatch: pytest.MonkeyPatch) -> None:
    item = new_account()
    account_id = item["id"]
    with_data(store, account_id)
    assert delete(account_id)[0] == 200
    records = cleanup_messages()

    table = store._table()
    real_delete = table.delete_item
    calls = {"n": 0}

    def failing_delete(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the second chat item: the worker stops half way
            raise RuntimeError("DynamoDB is having a bad day")
        return real_delete(**kwargs)

    monkeypatch.setattr(table, "delete_item", failing_delete)
    answer = accounts_cleanup.lambda_handler({"Records": records}, FakeContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}  # SQS redelivers it
    assert [i for i in messenger_items() if i["accountId"] == account_id]  # something is left
    assert accounts_service.account_store().cleanup_marker(account_id) is not None

    monkeypatch.setattr(table, "delete_item", real_delete)
    assert accounts_cleanup.lambda_handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    finish_cleanup(account_id)
    assert_nothing_left(account_id, item["secretArn"])


def test_a_chat_the_index_shows_late_is_deleted_by_a_later_pass(store: ChatStore) -> None:
    """A chat written just before the delete may reach the byAccount index after the first pass: the marker
    stays until a pass after the settle time found nothing."""
    item = new_account()
    account_id = item["id"]
    deliver(store, account_id, USER_ID, "u2i-0", "m-1", T0)
    accounts_service.delete_account(account_id)
    deleted_at = float(accounts_service.account_store().cleanup_marker(account_id)["deletedAt"])
    assert account_cleanup.clean_up(account_id, now=deleted_at + 1) is False  # deleted the chat; not settled
    store._table().put_item(  # as the index would show it late: written before the delete
        Item={
            "pk": chat_pk(account_id, "u2i-late"),
            "sk": "CHAT",
            "accountId": account_id,
            "chatId": "u2i-late",
            "accountPk": f"ACCOUNT#{account_id}",
            "activitySk": f"x#{account_id}#u2i-late",
        }
    )
    assert account_cleanup.clean_up(account_id, now=deleted_at + 61) is False  # found and deleted it
    assert account_cleanup.clean_up(account_id, now=deleted_at + 122) is True
    assert_nothing_left(account_id, item["secretArn"])


def test_the_sweep_requeues_a_cleanup_whose_message_was_lost(store: ChatStore, monkeypatch: pytest.MonkeyPatch) -> None:
    item = new_account()
    account_id = item["id"]
    real_queue = accounts_service.queue_cleanup
    monkeypatch.setattr(accounts_service, "queue_cleanup", lambda *a, **k: False)  # SQS refused the send
    assert delete(account_id)[0] == 200  # the account is gone; the marker keeps the cleanup
    monkeypatch.setattr(accounts_service, "queue_cleanup", real_queue)
    assert cleanup_messages() == []
    assert accounts_cleanup.lambda_handler(
        {"source": "aws.events", "detail-type": "Scheduled Event"}, FakeContext()
    ) == {"queued": 1}
    assert queued_accounts() == [account_id]
