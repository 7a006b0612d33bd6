"""A message's identity is its id (issue #22, item 13's last clause): no second copy when two sources disagree on
``created``.

The sort key of a message holds its time (``MSG#<created>#<id>``, for paging in order), and the webhook, a
listing, a keep-alive's backfill and a send's answer may each give another ``created`` for the same message. The
id's guard item (``MSGID#<id>``) is put in the same transaction as the message, both conditional on being absent:
whichever source comes second stores nothing, counts nothing unread and announces nothing, concurrent arrivals
included (``aws_env`` serializes moto's transactions, atomic like DynamoDB's).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import ws_fanout
from avito_service.accounts import service as accounts_service
from avito_service.accounts.models import AccountCreate
from avito_service.auth import Identity
from avito_service.live import store as connections
from avito_service.messenger import store as store_module
from avito_service.messenger.items import MESSAGE_ID_PREFIX, MESSAGE_PREFIX
from avito_service.messenger.models import SentBy
from avito_service.messenger.store import ChatStore

from avito_sim.deliveries import message_value
from tests.integration.test_live import FAR_EXP, Stream, posted
from tests.support.events import FakeContext

USER_ID = "123456789"
CLIENT_ID = 987654321
CHAT = "u2i-identity"
T0 = 1_795_773_000
FAR = 7_200  # far beyond the listing's look-up window around a message's time (``SENT_TIME_SLACK``)


@pytest.fixture
def account(aws_env: dict[str, str]) -> Iterator[str]:
    """A fresh account; every ChatStore starts with nothing remembered (a new container)."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    apigatewaymanagementapi_backends["123456789012"]["us-east-1"].connections.clear()
    store_module.chat_store.cache_clear()
    created = accounts_service.create_account(
        AccountCreate(name="Shop", clientId="client-identity", clientSecret="s3cret", userId=USER_ID),
    )
    yield created.id
    store_module.chat_store.cache_clear()


def delivered(message_id: str, created: int, *, author_id: int = CLIENT_ID) -> dict[str, Any]:
    """A webhook delivery's ``value``."""
    return message_value(
        message_id, CHAT, user_id=int(USER_ID), author_id=author_id, created=created, text="Здравствуйте"
    )


def listed(message_id: str, created: int, *, author_id: int = CLIENT_ID) -> dict[str, Any]:
    """The same message as an Avito listing gives it."""
    return {
        "id": message_id,
        "author_id": author_id,
        "created": created,
        "type": "text",
        "content": {"text": "Здравствуйте"},
    }


def stored_items(table: str) -> list[dict[str, Any]]:
    dynamo = boto3.resource("dynamodb").Table(table)
    items, start = [], {}
    while True:
        page = dynamo.scan(**start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def copies(table: str) -> Counter[str]:
    """How many message items each id has."""
    return Counter(str(i["id"]) for i in stored_items(table) if str(i["sk"]).startswith(MESSAGE_PREFIX))


def announced(aws_env: dict[str, str], stream: Stream) -> Counter[tuple[str, str]]:
    """(event, message id) of the frames the fan-out sends for the stream so far (one admin console connected)."""
    assert ws_fanout.lambda_handler(stream.new_event(), FakeContext()) == {"batchItemFailures": []}
    return Counter(
        (frame["event"], frame["data"].get("messageId") or frame["data"]["message"]["id"])
        for frame in posted().get("watcher", [])
        if frame["data"].get("messageId") or isinstance(frame["data"].get("message"), dict)
    )


@pytest.mark.parametrize("shift", [40, FAR, -FAR], ids=["near", "later", "earlier"])
def test_a_delivered_message_listed_with_another_created_is_stored_and_announced_once(
    account: str, aws_env: dict[str, str], shift: int
) -> None:
    stream = Stream(aws_env["MessengerTable"])
    connections.open_connection("watcher", Identity("boss", "admin", FAR_EXP))
    store = store_module.chat_store()
    assert store.record_delivery(account, USER_ID, delivered("m-1", T0)) is True
    other = ChatStore(store.table_name)  # another container: nothing remembered
    seen = other.save_messages(account, USER_ID, CHAT, [listed("m-1", T0 + shift), listed("m-2", T0 + 10)])
    assert [m.id for m in seen] == ["m-1", "m-2"]
    assert copies(store.table_name) == {"m-1": 1, "m-2": 1}
    chat = store.get_chat(CHAT, account)
    assert chat.unreadCount == 2 and chat.lastMessage is not None and chat.lastMessage.id == "m-2"
    [first, second], _ = store.list_messages(CHAT, 10, None, account_id=account)
    assert (first.id, first.createdAt, second.id) == ("m-1", "2026-11-27T09:50:00.000Z", "m-2")  # the first copy's
    frames = announced(aws_env, stream)
    assert frames[("avito-new-message", "m-1")] == 1 and frames[("avito-notification", "m-1")] == 1
    assert frames[("avito-new-message", "m-2")] == 1


def test_a_listed_message_delivered_later_with_another_created_is_a_duplicate(
    account: str, aws_env: dict[str, str]
) -> None:
    stream = Stream(aws_env["MessengerTable"])
    connections.open_connection("watcher", Identity("boss", "admin", FAR_EXP))
    store = store_module.chat_store()
    store.save_messages(account, USER_ID, CHAT, [listed("m-1", T0 + FAR)], announce_new_chat=True)
    assert ChatStore(store.table_name).record_delivery(account, USER_ID, delivered("m-1", T0)) is False
    assert store.record_delivery(account, USER_ID, delivered("m-1", T0 - FAR)) is False  # this container, too
    assert copies(store.table_name) == {"m-1": 1}
    assert store.get_chat(CHAT, account).unreadCount == 1
    frames = announced(aws_env, stream)
    assert frames[("avito-new-message", "m-1")] == 1 and frames[("avito-notification", "m-1")] == 1
    guards = [i for i in stored_items(store.table_name) if str(i["sk"]).startswith(MESSAGE_ID_PREFIX)]
    assert [(g["sk"], g["messageSk"]) for g in guards] == [("MSGID#m-1", f"MSG#{T0 + FAR:012d}#m-1")]


def test_a_send_answered_with_another_time_than_its_echo_adds_its_sender_to_the_one_copy(account: str) -> None:
    store = store_module.chat_store()
    assert store.record_delivery(account, USER_ID, delivered("ours-1", T0, author_id=int(USER_ID))) is True
    olga = SentBy(userId="u-olga", name="Ольга")
    answer = {"id": "ours-1", "created": T0 + FAR, "type": "text", "content": {"text": "Здравствуйте"}}
    ChatStore(store.table_name).save_sent_message(account, CHAT, answer, user_id=USER_ID, sent_by=olga, automatic=True)
    assert copies(store.table_name) == {"ours-1": 1}
    [message], _ = store.list_messages(CHAT, 10, None, account_id=account)
    assert (message.sentBy, message.automatic) == (olga, True)


def test_the_same_ids_arriving_at_once_from_a_delivery_and_a_listing_are_stored_once(
    account: str, aws_env: dict[str, str]
) -> None:
    """Each round: a delivery (one container) and a listing (another) of the same new message, with ``created``
    an hour apart, released together by a barrier; 20 rounds, then a listing of all of them again."""
    table = aws_env["MessengerTable"]
    rounds = 20
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []

    def race(n: int) -> None:
        start = threading.Barrier(2)
        message_id = f"race-{n}"

        def deliver() -> None:
            start.wait()
            stored = ChatStore(table).record_delivery(account, USER_ID, delivered(message_id, T0 + 60 * n))
            outcomes["delivery stored" if stored else "delivery duplicate"] += 1

        def listing() -> None:
            start.wait()
            ChatStore(table).save_messages(account, USER_ID, CHAT, [listed(message_id, T0 + 60 * n + 3_600)])

        threads = [threading.Thread(target=_catching(job, errors)) for job in (deliver, listing)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    for n in range(rounds):
        race(n)
    assert errors == []
    assert sum(outcomes.values()) == rounds
    ChatStore(table).save_messages(
        account, USER_ID, CHAT, [listed(f"race-{n}", T0 + 60 * n - 900) for n in range(rounds)]
    )
    assert copies(table) == {f"race-{n}": 1 for n in range(rounds)}
    assert store_module.chat_store().get_chat(CHAT, account).unreadCount == rounds
    guards = [i for i in stored_items(table) if str(i["sk"]).startswith(MESSAGE_ID_PREFIX)]
    assert len(guards) == rounds


def _catching(job: Any, errors: list[BaseException]) -> Any:
    def run() -> None:
        try:
            job()
        except BaseException as error:  # reported by the test's assertion
            errors.append(error)

    return run


def test_deleting_an_account_removes_the_guards_too(account: str, aws_env: dict[str, str]) -> None:
    store = store_module.chat_store()
    store.record_delivery(account, USER_ID, delivered("m-1", T0))
    store.delete_account_data(account)
    assert [
        i["sk"] for i in stored_items(aws_env["MessengerTable"]) if json.dumps(i, default=str).find(CHAT) >= 0
    ] == []
