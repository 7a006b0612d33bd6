"""Automatic replies (issue 26): the settings endpoints, and the greeting and out-of-hours replies sent from
MessengerTable's stream through the real consumer, the real send path and the simulator over HTTP.

Each rule has a test: the greeting answers a chat's first incoming message only; out of hours answers once per
chat per non-working period (the next night answers again); a repeated delivery of a stream record, a listing
that stores the message again and two consumers racing send once; a blacklisted user gets nothing; history is
never answered; the reply is stored ``automatic: true`` without ``sentBy`` (the workflow never counts it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import autoreplies_consumer
import autoreplies_get
import autoreplies_update
import messenger_blacklist
import pytest
from avito_service import aws, idempotency
from avito_service.audit import service as audit
from avito_service.autoreplies import sender
from avito_service.avito import tokens as avito_tokens
from avito_service.config import get_settings
from avito_service.messenger import service as messenger
from avito_service.messenger.items import chat_pk
from avito_service.messenger.store import chat_store
from boto3.dynamodb.conditions import Key

from avito_sim import AvitoSimulator
from tests.support.accounts import create_account
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, call
from tests.support.streams import TableStream as Stream

USER_ID = 7373
CLIENT = 9501
CHAT = "u2i-auto"
SEND = r"^/messenger/v1/accounts/\d+/chats/[^/]+/messages$"
ALWAYS = {"timezone": "UTC", "days": {d: ["00:00", "24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
NEVER = {"timezone": "UTC", "days": {}}


@pytest.fixture(scope="module")
def sim() -> Iterator[AvitoSimulator]:
    simulator = AvitoSimulator()
    simulator.start()
    simulator.add_account("auto-cid", "auto-secret", USER_ID, name="Auto")
    simulator.add_item(USER_ID, 1, "Диван")
    for chat_id in (CHAT, "u2i-auto-2", "u2i-auto-3"):
        simulator.add_chat(USER_ID, chat_id, item_id=1, item_title="Диван", client_user_id=CLIENT)
    yield simulator
    simulator.stop()


@pytest.fixture
def avito(sim: AvitoSimulator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AvitoSimulator:
    monkeypatch.setenv("AVITO_API_URL", sim.base_url)
    monkeypatch.setenv("AVITO_MAX_BACKOFF", "0.05")
    reset_caches()
    avito_tokens.forget_in_memory()
    sim.clear_requests()
    sim.clear_faults()
    return sim


@pytest.fixture
def stream(aws_env: dict[str, str]) -> Stream:
    return Stream(aws_env["MessengerTable"])


def consume(records: list[dict[str, Any]]) -> dict[str, Any]:
    return autoreplies_consumer.lambda_handler({"Records": records}, FakeContext())


def new_account() -> str:
    account_id = create_account(name="Auto", clientId="auto-cid", clientSecret="auto-secret", userId=USER_ID)
    chat_store.cache_clear()
    return account_id


def settings(account_id: str, body: dict[str, Any], role: str = "admin") -> tuple[int, dict[str, Any]]:
    return call(
        autoreplies_update,
        "PUT",
        f"/api/v1/accounts/{account_id}/auto-replies",
        resource="/api/v1/accounts/{id}/auto-replies",
        path_parameters={"id": account_id},
        body=body,
        role=role,
        sub=f"{role}-1",
    )


def read_settings(account_id: str, role: str = "operator") -> tuple[int, dict[str, Any]]:
    return call(
        autoreplies_get,
        "GET",
        f"/api/v1/accounts/{account_id}/auto-replies",
        resource="/api/v1/accounts/{id}/auto-replies",
        path_parameters={"id": account_id},
        role=role,
    )


def deliver(account_id: str, message_id: str, created: float, *, chat: str = CHAT, author: int = CLIENT) -> bool:
    value = {
        "id": message_id,
        "chat_id": chat,
        "user_id": USER_ID,
        "author_id": author,
        "created": int(created),
        "type": "text",
        "content": {"text": f"Здравствуйте, {message_id}"},
        "chat_type": "u2i",
        "item_id": 1,
    }
    return chat_store().record_delivery(account_id, str(USER_ID), value)


def stored(account_id: str, chat: str = CHAT) -> list[dict[str, Any]]:
    table = aws.table(get_settings().messenger_table)
    answer = table.query(KeyConditionExpression=Key("pk").eq(chat_pk(account_id, chat)) & Key("sk").begins_with("MSG#"))
    return answer["Items"]


def item_of(account_id: str, message_id: str, chat: str = CHAT) -> dict[str, Any]:
    return next(i for i in stored(account_id, chat) if i["id"] == message_id)


def sent_texts(avito: AvitoSimulator, chat: str = CHAT) -> list[str]:
    return [m["text"] for m in avito.sent_messages(USER_ID) if m["chat_id"] == chat]


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# --- the settings ----------------------------------------------------------------------------------------------


def test_settings_default_off_change_by_admin_only_and_are_audited(aws_env: dict[str, str]) -> None:
    account_id = new_account()
    status, body = read_settings(account_id)
    assert status == 200, body
    data = body["data"]
    assert data["greeting"] == {"enabled": False, "text": ""} and data["outOfHours"]["enabled"] is False
    assert data["workingHours"]["timezone"] == "Europe/Moscow" and data["workingHours"]["days"]["mon"] == [
        "09:00",
        "21:00",
    ]

    greeting = {"enabled": True, "text": "Здравствуйте! Ответим в течение 5 минут."}
    assert settings(account_id, {"greeting": greeting}, role="operator")[0] == 403
    assert settings(account_id, {"greeting": greeting}, role="director")[0] == 403
    status, body = settings(account_id, {"greeting": greeting})
    assert status == 200 and body["data"]["greeting"] == greeting, body
    hours = {"timezone": "Asia/Yekaterinburg", "days": {"sat": ["10:00", "16:00"]}, "holidays": ["2027-01-01"]}
    status, body = settings(account_id, {"workingHours": hours, "outOfHours": {"enabled": True, "text": "Ночью спим"}})
    assert status == 200, body
    status, body = read_settings(account_id)
    assert body["data"]["greeting"] == greeting  # left out of the second change: kept
    assert body["data"]["workingHours"] == hours and body["data"]["outOfHours"]["text"] == "Ночью спим"
    assert body["data"]["updatedBy"] == "admin-1" and body["data"]["updatedAt"]

    entries, _ = audit.entries(50, None)
    mine = [e for e in entries if e.target == f"account:{account_id}"]
    assert [e.action for e in mine] == ["auto_replies.update", "auto_replies.update"]
    assert mine[1].details == {"greeting": greeting} and mine[0].userId == "admin-1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"greeting": {"enabled": True, "text": "   "}}, "greeting"),
        ({"greeting": {"enabled": "yes", "text": "Hi"}}, "greeting.enabled"),
        ({"greeting": None}, "greeting"),
        ({"outOfHours": {"enabled": True, "text": "x" * 1001}}, "outOfHours.text"),
        ({"workingHours": {"timezone": "Mars/Olympus"}}, "workingHours.timezone"),
        ({"workingHours": {"days": {"mon": ["09:00", "25:00"]}}}, "workingHours.days"),
        ({"workingHours": {"days": {"funday": ["09:00", "18:00"]}}}, "workingHours.days"),
        ({"workingHours": {"holidays": ["2027-02-30"]}}, "workingHours.holidays.0"),
        ({"greeting": {"enabled": True, "text": "Hi"}, "extra": 1}, "extra"),
    ],
)
def test_bad_settings_are_422_naming_the_field(
    aws_env: dict[str, str], body: dict[str, Any], field: str | None
) -> None:
    account_id = new_account()
    status, answer = settings(account_id, body)
    assert status == 422, answer
    if field:
        assert any(d["field"].startswith(field) for d in answer["error"]["details"]), answer
    assert read_settings(account_id)[1]["data"]["greeting"]["enabled"] is False  # nothing stored


def test_settings_of_an_unknown_account_are_404(aws_env: dict[str, str]) -> None:
    missing = "00000000-0000-4000-8000-000000000404"
    assert read_settings(missing)[1]["error"]["code"] == "account_not_found"
    status, body = settings(missing, {"greeting": {"enabled": False, "text": ""}})
    assert (status, body["error"]["code"]) == (404, "account_not_found")


# --- the greeting ----------------------------------------------------------------------------------------------


def test_the_greeting_answers_a_chats_first_incoming_message_once(avito: AvitoSimulator, stream: Stream) -> None:
    account_id = new_account()
    settings(account_id, {"greeting": {"enabled": True, "text": "Добрый день! Чем помочь?"}, "workingHours": ALWAYS})
    stream.new()  # what creating the account wrote
    now = time.time()
    deliver(account_id, "c-1", now - 5)
    assert consume(stream.new()) == {"batchItemFailures": []}
    assert sent_texts(avito) == ["Добрый день! Чем помочь?"]
    reply = next(i for i in stored(account_id) if i["direction"] == "out")
    assert reply["automatic"] is True and reply.get("sentBy") is None
    assert reply["text"] == "Добрый день! Чем помочь?"

    deliver(account_id, "c-2", now - 2)  # the client writes again: not the first incoming message
    consume(stream.new())  # the stored reply's own record is in there too: an outgoing message is never answered
    assert sent_texts(avito) == ["Добрый день! Чем помочь?"]
    assert avito.count("POST", SEND) == 1


def test_the_greeting_is_not_sent_when_it_is_off_or_for_old_chats_or_history(
    avito: AvitoSimulator, stream: Stream
) -> None:
    account_id = new_account()
    now = time.time()
    deliver(account_id, "off-1", now, chat="u2i-auto-2")  # the default: off
    consume(stream.new())
    settings(account_id, {"greeting": {"enabled": True, "text": "Привет"}, "workingHours": ALWAYS})
    deliver(account_id, "h-1", now - 3 * 3600, chat="u2i-auto-3")  # stored late (a listing): history
    consume(stream.new())
    assert avito.count("POST", SEND) == 0
    assert sender.answer(item_of(account_id, "h-1", "u2i-auto-3"), now=now - 3 * 3600 + 10) == "sent"  # when fresh


# --- out of hours ----------------------------------------------------------------------------------------------


def test_out_of_hours_answers_once_per_chat_per_non_working_period(avito: AvitoSimulator) -> None:
    account_id = new_account()
    hours = {"timezone": "Europe/Moscow", "days": {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    hours["holidays"] = ["2026-12-31"]
    text = "Мы работаем 9-21, ответим утром."
    settings(account_id, {"outOfHours": {"enabled": True, "text": text}, "workingHours": hours})

    def incoming(message_id: str, moment: str) -> str | None:
        created = at(moment)
        deliver(account_id, message_id, created)
        return sender.answer(item_of(account_id, message_id), now=created + 30)

    assert incoming("n1", "2026-12-07T19:30:00") == "sent"  # Monday 22:30 Moscow
    assert incoming("n2", "2026-12-07T23:10:00") == "duplicate"  # the same night: already answered
    assert incoming("n3", "2026-12-08T05:59:00") == "duplicate"  # 08:59 Tuesday: still the same night
    assert incoming("w1", "2026-12-08T06:00:00") is None  # 09:00: working time, nothing automatic
    assert incoming("n4", "2026-12-08T18:00:00") == "sent"  # 21:00 Tuesday: the next night
    assert incoming("h1", "2026-12-30T18:30:00") == "sent"  # Wednesday evening, then the holiday on Thursday
    assert incoming("h2", "2026-12-31T10:00:00") == "duplicate"  # 13:00 on the holiday: the same period
    assert sent_texts(avito) == [text, text, text]

    trigger = f"out-of-hours#{account_id}#{CHAT}#2027-01-01T06:00:00.000Z"  # named by the working start that ends it
    key = idempotency.record_key(sender.OPERATION, sender.CALLER, trigger)
    record = aws.table(get_settings().idempotency_table).get_item(Key=key)["Item"]
    period_left = at("2027-01-01T06:00:00") - (at("2026-12-30T18:30:00") + 30)
    # remembered past the period it answered (a long weekend outlives the Idempotency-Key's usual 24 hours)
    assert int(record["ttl"]) >= time.time() + period_left + sender.TRIGGER_TTL_MIN - 60


def test_out_of_hours_answers_instead_of_the_greeting(avito: AvitoSimulator) -> None:
    account_id = new_account()
    settings(
        account_id,
        {
            "greeting": {"enabled": True, "text": "Здравствуйте"},
            "outOfHours": {"enabled": True, "text": "Сейчас ночь"},
            "workingHours": NEVER,
        },
    )
    created = time.time()
    deliver(account_id, "g-1", created)
    assert sender.answer(item_of(account_id, "g-1"), now=created) == "sent"
    assert sent_texts(avito) == ["Сейчас ночь"]


# --- at most once ----------------------------------------------------------------------------------------------


def test_a_repeated_record_and_a_listing_that_sees_the_message_again_send_once(
    avito: AvitoSimulator, stream: Stream
) -> None:
    account_id = new_account()
    settings(account_id, {"greeting": {"enabled": True, "text": "Один раз"}, "workingHours": ALWAYS})
    stream.new()
    created = time.time()
    deliver(account_id, "d-1", created)
    records = stream.new()
    consume(records)
    consume(records)  # Lambda hands the same batch over again (a retry after a timeout)
    assert deliver(account_id, "d-1", created) is False  # Avito delivers the webhook again: nothing new stored
    messenger.list_messages(account_id, CHAT, limit=100, offset=0)  # a listing stores what Avito has again
    consume(stream.new())
    assert avito.count("POST", SEND) == 1 and sent_texts(avito) == ["Один раз"]


def test_two_consumers_racing_on_the_same_message_send_once(avito: AvitoSimulator, stream: Stream) -> None:
    account_id = new_account()
    settings(account_id, {"greeting": {"enabled": True, "text": "Гонка"}, "workingHours": ALWAYS})
    stream.new()
    deliver(account_id, "r-1", time.time())
    records = stream.new()
    avito.add_fault(SEND, "POST", action="delay_after_effect", delay=0.5, times=1)  # the first send is slow
    barrier = threading.Barrier(4)
    answers: list[Any] = []

    def run() -> None:
        barrier.wait()
        answers.append(consume(records))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == [{"batchItemFailures": []}] * 4
    assert avito.count("POST", SEND) == 1 and sent_texts(avito) == ["Гонка"]
    assert [i["text"] for i in stored(account_id) if i["direction"] == "out"] == ["Гонка"]


def test_a_send_refused_by_avitos_limits_is_retried_not_lost(avito: AvitoSimulator, stream: Stream) -> None:
    account_id = new_account()
    settings(account_id, {"greeting": {"enabled": True, "text": "Позже"}, "workingHours": ALWAYS})
    stream.new()
    deliver(account_id, "l-1", time.time())
    records = stream.new()
    avito.add_fault(SEND, "POST", status=429, times=10)
    failed = consume(records)
    assert len(failed["batchItemFailures"]) == 1  # the record is retried by Lambda
    avito.clear_faults()
    assert consume(records) == {"batchItemFailures": []}
    assert sent_texts(avito) == ["Позже"]


def test_an_unknown_outcome_is_never_sent_again(avito: AvitoSimulator, stream: Stream) -> None:
    account_id = new_account()
    settings(account_id, {"greeting": {"enabled": True, "text": "Может быть"}, "workingHours": ALWAYS})
    stream.new()
    deliver(account_id, "u-1", time.time())
    records = stream.new()
    avito.add_fault(SEND, "POST", status=503, times=1)
    assert consume(records) == {"batchItemFailures": []}  # logged, not retried: Avito may have sent it
    assert consume(records) == {"batchItemFailures": []}
    assert avito.count("POST", SEND) == 1


# --- blacklist, and what is stored ------------------------------------------------------------------------------


def test_no_automatic_reply_to_a_user_the_account_blacklisted(avito: AvitoSimulator, stream: Stream) -> None:
    account_id = new_account()
    settings(account_id, {"greeting": {"enabled": True, "text": "Здравствуйте"}, "workingHours": ALWAYS})
    status, body = call(
        messenger_blacklist,
        "POST",
        f"/api/v1/messenger/accounts/{account_id}/blacklist",
        resource="/api/v1/messenger/accounts/{accountId}/blacklist",
        path_parameters={"accountId": account_id},
        body={"userId": str(CLIENT), "reason": "spam"},
        role="operator",
    )
    assert status == 200, body
    assert [e["user_id"] for e in avito.blacklisted(USER_ID)] == [CLIENT]
    stream.new()
    deliver(account_id, "b-1", time.time())
    consume(stream.new())
    assert avito.count("POST", SEND) == 0
    deliver(account_id, "b-2", time.time(), chat="u2i-auto-2", author=CLIENT + 1)  # another client is greeted
    consume(stream.new())
    assert sent_texts(avito, "u2i-auto-2") == ["Здравствуйте"]


def test_a_reply_avitos_webhook_stored_first_is_still_marked_automatic(avito: AvitoSimulator) -> None:
    account_id = new_account()
    created = int(time.time())
    echo = {"id": "echo-1", "chat_id": CHAT, "user_id": USER_ID, "author_id": USER_ID, "created": created}
    echo |= {"type": "text", "content": {"text": "Здравствуйте"}}
    chat_store().record_delivery(account_id, str(USER_ID), echo)  # Avito's webhook for the account's own message
    assert "automatic" not in item_of(account_id, "echo-1")
    posted = {"userId": str(USER_ID), "message": {**echo, "direction": "out"}, "sentAt": created}
    message = messenger.store_sent(account_id, CHAT, posted, automatic=True)
    assert message.automatic is True and item_of(account_id, "echo-1")["automatic"] is True
    assert json.loads(json.dumps(message.model_dump(mode="json")))["automatic"] is True
