"""The webhook receiver in-process: Function URL events against moto, the events/*.json samples included."""

from __future__ import annotations

import base64
import copy
import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import chats_messages
import pytest
import webhook_receiver
from avito_service.accounts import service as accounts_service
from avito_service.accounts.models import AccountCreate
from avito_service.messenger import store as store_module
from avito_service.observability import logger
from avito_service.webhooks import tokens
from moto.dynamodb.models import DynamoDBBackend

from avito_sim import deliveries
from avito_sim.deliveries import message_value
from tests.support.events import FakeContext, call

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLE_ACCOUNT = "00000000-0000-4000-8000-000000000001"
SAMPLE_TOKEN = "SAMPLE-webhook-token-replace-me-0123456789ab"
USER_ID = "123456789"
CLIENT_ID = 987654321


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    store_module.chat_store.cache_clear()
    yield
    store_module.chat_store.cache_clear()


@pytest.fixture
def account(aws_env: dict[str, str]) -> dict[str, str]:
    created = accounts_service.create_account(
        AccountCreate(name="Shop", clientId="client-webhook", clientSecret="s3cret", userId=USER_ID),
    )
    token = tokens.issue_token(created.id)
    tokens.promote(created.id, token)  # as a confirmed subscribe leaves it
    return {"id": created.id, "token": token}


def url_event(path: str, body: str | None, *, method: str = "POST") -> dict[str, Any]:
    """A Lambda Function URL (payload 2.0) event, shaped like events/webhook_*.json."""
    event = json.loads((EVENTS / "webhook_probe.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["body"] = body
    return event


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    result = webhook_receiver.lambda_handler(event, FakeContext())
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else {}


def delivery(
    message_id: str = "m-1",
    *,
    author_id: int = CLIENT_ID,
    created: int = 1_795_773_598,
    chat_id: str = "u2i-chat-1",
    user_id: int | str = int(USER_ID),
    **value: Any,
) -> dict[str, Any]:
    value = message_value(
        message_id, chat_id, user_id=user_id, author_id=author_id, created=created, text=f"hello {message_id}", **value
    )
    return deliveries.delivery(value, delivery_id=f"delivery-{message_id}", timestamp=1_795_773_600)


def post(account: dict[str, str], body: Any, *, token: str | None = None) -> tuple[int, dict[str, Any]]:
    text = body if isinstance(body, str) else json.dumps(body)
    return invoke(url_event(f"/{account['id']}/{token or account['token']}", text))


def messages(chat_id: str = "u2i-chat-1") -> list[dict[str, Any]]:
    status, body = call(
        chats_messages,
        "GET",
        f"/api/v1/chats/{chat_id}/messages",
        resource="/api/v1/chats/{chatId}/messages",
        path_parameters={"chatId": chat_id},
    )
    return body["data"] if status == 200 else []


def chat(chat_id: str = "u2i-chat-1") -> dict[str, Any] | None:
    try:
        return store_module.chat_store().get_chat(chat_id).model_dump()
    except Exception:
        return None


def stored_items() -> list[dict[str, Any]]:
    """Every MessengerTable item (a Scan is fine in a test: it checks that nothing at all was written)."""
    return boto3.resource("dynamodb").Table(store_module.chat_store().table_name).scan()["Items"]


def sample(name: str, account: dict[str, str]) -> dict[str, Any]:
    """An events/*.json sample with the placeholder account id and token replaced by the test account's."""
    text = (EVENTS / name).read_text().replace(SAMPLE_ACCOUNT, account["id"]).replace(SAMPLE_TOKEN, account["token"])
    return json.loads(text)


# --- the samples --------------------------------------------------------------------------------------------


def test_sample_events(account: dict[str, str]) -> None:
    assert invoke(sample("webhook_probe.json", account)) == (200, {"ok": True, "duplicate": False})
    assert stored_items() == []

    status, body = invoke(sample("webhook_bad_token.json", account))
    assert status == 401 and body["success"] is False and body["error"]["code"] == "invalid_webhook_token"
    assert stored_items() == []

    assert invoke(sample("webhook_delivery.json", account)) == (200, {"ok": True, "duplicate": False})
    assert invoke(sample("webhook_duplicate.json", account)) == (200, {"ok": True, "duplicate": True})
    [message] = messages("u2i-Zx8yW7vU6tS5rQ4pO3nM2l")
    assert message["text"] == "Здравствуйте! Товар ещё продаётся?" and message["direction"] == "in"
    assert message["authorId"] == "987654321" and message["accountId"] == account["id"]
    assert message["isRead"] is False and message["createdAt"] == "2026-11-27T09:59:58.000Z"
    stored = chat("u2i-Zx8yW7vU6tS5rQ4pO3nM2l")
    assert stored is not None and stored["unreadCount"] == 1 and stored["itemId"] == "4012345678"


# --- valid deliveries -----------------------------------------------------------------------------------------


def test_delivery_creates_chat_and_message(account: dict[str, str]) -> None:
    assert chat() is None
    assert post(account, delivery("m-1")) == (200, {"ok": True, "duplicate": False})

    [message] = messages()
    assert message == {
        "id": "m-1",
        "chatId": "u2i-chat-1",
        "accountId": account["id"],
        "authorId": str(CLIENT_ID),
        "direction": "in",
        "type": "text",
        "text": "hello m-1",
        "content": {"text": "hello m-1"},
        "isRead": False,
        "createdAt": "2026-11-27T09:59:58.000Z",
        "sentBy": None,  # from the client, not sent through the service
        "automatic": False,  # an automatic reply (greeting, out of hours) is true
    }
    stored = chat()
    assert stored is not None
    assert stored["accountId"] == account["id"] and stored["clientUserId"] == str(CLIENT_ID)
    assert stored["unreadCount"] == 1 and stored["updatedAt"] == "2026-11-27T09:59:58.000Z"
    assert stored["lastMessage"] == {
        "id": "m-1",
        "text": "hello m-1",
        "type": "text",
        "direction": "in",
        "createdAt": "2026-11-27T09:59:58.000Z",
    }


def test_duplicate_delivery_is_stored_once(account: dict[str, str]) -> None:
    assert post(account, delivery("m-1"))[1]["duplicate"] is False
    assert post(account, delivery("m-1"))[1] == {"ok": True, "duplicate": True}
    assert len(messages()) == 1
    assert chat()["unreadCount"] == 1  # type: ignore[index]


def test_concurrent_duplicates_are_stored_once(account: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # moto applies a transaction item by item and rolls back by restoring a copy of the whole table, so two
    # concurrent transactions can undo each other there; DynamoDB's are serializable. Serialize moto's.
    lock = threading.Lock()
    transact = DynamoDBBackend.transact_write_items

    def serialized(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return transact(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", serialized)
    assert post(account, delivery("m-0", created=1_795_773_500))[0] == 200  # warm the clients up
    event = url_event(f"/{account['id']}/{account['token']}", json.dumps(delivery("m-1")))
    start = threading.Barrier(20)
    answers: list[tuple[int, dict[str, Any]]] = []

    def deliver() -> None:
        start.wait()
        answers.append(invoke(copy.deepcopy(event)))

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _ in answers) == [200] * 20
    assert [body["duplicate"] for _, body in answers].count(False) == 1
    assert [m["id"] for m in messages()] == ["m-0", "m-1"]
    assert chat()["unreadCount"] == 2  # type: ignore[index]


def test_outgoing_echo_does_not_raise_unread(account: dict[str, str]) -> None:
    post(account, delivery("m-1", created=1_795_773_500))
    assert post(account, delivery("m-2", author_id=int(USER_ID), created=1_795_773_600))[0] == 200
    stored = chat()
    assert stored is not None and stored["unreadCount"] == 1
    assert stored["lastMessage"]["id"] == "m-2" and stored["lastMessage"]["direction"] == "out"
    assert [(m["id"], m["direction"]) for m in messages()] == [("m-1", "in"), ("m-2", "out")]


def test_older_delivery_counts_but_does_not_move_the_chat_back(account: dict[str, str]) -> None:
    post(account, delivery("m-new", created=1_795_773_600))
    assert post(account, delivery("m-old", created=1_795_773_000))[0] == 200
    stored = chat()
    assert stored is not None and stored["unreadCount"] == 2
    assert stored["lastMessage"]["id"] == "m-new" and stored["updatedAt"] == "2026-11-27T10:00:00.000Z"
    assert [m["id"] for m in messages()] == ["m-old", "m-new"]


def test_unknown_message_type_is_stored_with_its_content(account: dict[str, str]) -> None:
    content = {"sticker": {"id": 7, "scale": 1.5}}
    assert post(account, delivery("m-1", type="sticker", content=content))[0] == 200
    [message] = messages()
    assert message["type"] == "sticker" and message["content"] == content and message["text"] is None


# --- rejections -------------------------------------------------------------------------------------------------


def test_bad_tokens_and_unknown_accounts_store_nothing(account: dict[str, str]) -> None:
    other = accounts_service.create_account(
        AccountCreate(name="Other", clientId="client-other", clientSecret="s3cret", userId="555"),
    )
    other_token = tokens.issue_token(other.id)
    body = delivery("m-1")
    cases = [
        (f"/{account['id']}/wrong-token", 401),
        (f"/{account['id']}/{other_token}", 401),
        (f"/{account['id']}/{account['token'][:-1]}", 401),
        (f"/{other.id}/{account['token']}", 401),
        (f"/00000000-0000-4000-8000-00000000dead/{account['token']}", 401),  # like a wrong secret
        (f"/{account['id']}", 404),
        ("/", 404),
        (f"/{account['id']}/{account['token']}/extra", 404),
    ]
    for path, expected in cases:
        status, answer = invoke(url_event(path, json.dumps(body)))
        assert status == expected, (path, answer)
        assert answer["success"] is False and answer["error"]["message"]
        assert account["token"] not in json.dumps(answer)
    assert stored_items() == []


def test_account_without_a_token_rejects_everything(aws_env: dict[str, str]) -> None:
    created = accounts_service.create_account(
        AccountCreate(name="Fresh", clientId="client-fresh", clientSecret="s3cret", userId=USER_ID),
    )
    for token in ("", "x", "None"):
        status, _ = invoke(url_event(f"/{created.id}/{token}", json.dumps(delivery())))
        assert status in (401, 404)
    assert stored_items() == []


def test_a_new_token_replaces_the_old_one_only_once_promoted(account: dict[str, str]) -> None:
    new_token = tokens.issue_token(account["id"])  # pending: Avito has not confirmed the new URL yet
    assert post(account, delivery("m-1"))[0] == 200  # the old URL still works
    assert post(account, delivery("m-2"), token=new_token)[0] == 200  # and so does the new one
    tokens.promote(account["id"], new_token)  # Avito confirmed it
    assert post(account, delivery("m-3"))[0] == 401
    assert post(account, delivery("m-3"), token=new_token)[0] == 200
    dumped = accounts_service.get_account(account["id"]).model_dump()
    assert "webhookTokenHash" not in dumped and "webhookPendingHash" not in dumped


def test_an_implausible_token_is_refused_without_a_read(
    account: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    monkeypatch.setattr(accounts_service, "get_item", lambda account_id: reads.append(account_id) or {})
    for token in ("short", "x" * 44, "!" * 43, account["token"][:-1]):
        status, answer = post(account, delivery("m-1"), token=token)
        assert (status, answer["error"]["code"]) == (401, "invalid_webhook_token"), token
    assert reads == []
    assert stored_items() == []


def test_a_body_over_one_mib_is_413_before_parsing(account: dict[str, str]) -> None:
    huge = json.dumps({"payload": {"type": "message", "value": {"pad": "x" * (1024 * 1024)}}})
    status, answer = invoke(url_event(f"/{account['id']}/{account['token']}", huge))
    assert status == 413 and answer["error"]["code"] == "payload_too_large"
    encoded = url_event(f"/{account['id']}/{account['token']}", huge)
    encoded["body"], encoded["isBase64Encoded"] = base64.b64encode(huge.encode()).decode(), True
    assert invoke(encoded)[0] == 413
    assert stored_items() == []


def test_created_beyond_the_year_9999_is_400(account: dict[str, str]) -> None:
    for created in (10**12, 253402300800, 2**63 - 1):
        value = delivery("m-odd")
        value["payload"]["value"]["created"] = created
        status, answer = post(account, value)
        assert (status, answer["error"]["code"]) == (400, "invalid_delivery"), created
    assert stored_items() == []


def test_user_id_mismatch_is_rejected(account: dict[str, str]) -> None:
    status, body = post(account, delivery("m-1", user_id=555))
    assert status == 403 and body["error"]["code"] == "user_mismatch"
    assert stored_items() == []


def test_probe_stores_nothing(account: dict[str, str]) -> None:
    assert post(account, {}) == (200, {"ok": True, "duplicate": False})
    assert stored_items() == []


@pytest.mark.parametrize("body", ['{"payload": ', "not json", "", "\x00"])
def test_malformed_json_is_400(account: dict[str, str], body: str) -> None:
    status, answer = post(account, body)
    assert status == 400 and answer["error"]["code"] == "malformed_json"
    assert stored_items() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"hello": "world"}, "payload"),
        ({"payload": {"type": "message"}}, "payload.value"),
        (delivery("m-1", chat_id=None), "payload.value.chat_id"),
        (delivery("m-1", created="yesterday"), "payload.value.created"),
        (delivery("m-1", user_id="abc"), "payload.value.user_id"),
    ],
)
def test_body_that_is_not_a_delivery_is_400(account: dict[str, str], body: Any, field: str) -> None:
    status, answer = post(account, body)
    assert status == 400 and answer["error"]["code"] == "invalid_delivery", answer
    assert field in [d["field"] for d in answer["error"]["details"]]
    assert stored_items() == []


def test_other_payload_types_are_acknowledged_and_ignored(account: dict[str, str]) -> None:
    body = {"id": "d-1", "version": "v3.0.0", "timestamp": 1, "payload": {"type": "chat_read", "value": {}}}
    assert post(account, body) == (200, {"ok": True, "duplicate": False})
    assert stored_items() == []


def test_base64_body(account: dict[str, str]) -> None:
    import base64

    event = url_event(
        f"/{account['id']}/{account['token']}", base64.b64encode(json.dumps(delivery("m-1")).encode()).decode()
    )
    event["isBase64Encoded"] = True
    assert invoke(event) == (200, {"ok": True, "duplicate": False})


def test_token_never_logged(account: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)  # the JSON lines CloudWatch gets, appended keys included
    logging.getLogger(logger.name).addHandler(handler)
    try:
        post(account, delivery("m-1"))
        post(account, delivery("m-1"), token="wrong")
        post(account, "not json")
    finally:
        logging.getLogger(logger.name).removeHandler(handler)
    logged = lines.getvalue() + capsys.readouterr().out
    assert account["token"] not in logged
    assert f'"account_id":"{account["id"]}"' in logged
    assert "WebhookNew" in logged and "WebhookRejected" in logged


def test_token_helpers() -> None:
    assert tokens.webhook_path("acc", "tok") == "/acc/tok"
    assert tokens.mask_url("https://x.on.aws/acc/SECRET") == "https://x.on.aws/acc/***"
    assert tokens.mask_url("https://x.on.aws/acc/SECRET/") == "https://x.on.aws/acc/***/"
    assert tokens.mask_url("https://example.com/hook") == "https://example.com/hook"
    assert tokens.token_matches({}, "") is False
    assert tokens.token_matches({"webhookTokenHash": ""}, "") is False
