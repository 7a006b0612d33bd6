"""The WebSocket functions in-process against moto: $connect shares the REST authorizer's verifier, $default's
frames, and the fan-out from MessengerTable's real (moto) stream to moto's management API."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest import mock
from urllib.parse import unquote

import authorizer
import boto3
import jwt
import pytest
import ws_connect
import ws_default
import ws_disconnect
import ws_fanout
from avito_service import aws
from avito_service.accounts.store import account_key
from avito_service.auth import Identity, mint
from avito_service.live import store as connections
from avito_service.messenger.store import chat_store

from tests.conftest import JWT_TEST_KEY
from tests.support.events import FakeContext
from tests.support.streams import TableStream

ACCOUNT, OTHER = "acc-live-1", "acc-live-2"
FAR_EXP = 4_000_000_000  # a token expiry far in the future


def ws_event(route: str, connection_id: str, **extra: Any) -> dict[str, Any]:
    kind = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    context = {"routeKey": route, "eventType": kind, "connectionId": connection_id, "stage": "prod"}
    return {"requestContext": {**context, "domainName": "x.execute-api.us-east-1.amazonaws.com"}, **extra}


def connect(connection_id: str, token: str | None) -> dict[str, Any]:
    query = {"token": token} if token is not None else None
    return ws_connect.lambda_handler(ws_event("$connect", connection_id, queryStringParameters=query), FakeContext())


def frame(connection_id: str, body: Any) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    answer = ws_default.lambda_handler(ws_event("$default", connection_id, body=text), FakeContext())
    assert answer["statusCode"] == 200
    return json.loads(answer["body"])


BAD_TOKENS = {
    "garbage": "not-a-jwt",
    "wrong key": mint("another-key-0123456789abcdef0123456789abcdef", sub="x", role="admin"),
    "expired": mint(JWT_TEST_KEY, sub="x", role="admin", now=time.time() - 7200, ttl_seconds=60),
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_connect_refuses_what_the_rest_authorizer_refuses(aws_env: dict[str, str], name: str) -> None:
    token = BAD_TOKENS[name]
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer.lambda_handler({"authorizationToken": f"Bearer {token}", "methodArn": "arn"}, FakeContext())
    answer = connect("c-bad", token)
    assert answer["statusCode"] == 401 and json.loads(answer["body"])["error"]["code"] == "unauthorized"
    assert list(connections.open_connections()) == []


def test_connect_stores_the_caller_and_refuses_unknown_roles(aws_env: dict[str, str]) -> None:
    assert connect("c-none", None)["statusCode"] == 401
    refused = connect("c-janitor", mint(JWT_TEST_KEY, sub="j", role="janitor"))
    assert refused["statusCode"] == 403 and json.loads(refused["body"])["error"]["code"] == "forbidden"
    token = mint(JWT_TEST_KEY, sub="op@example.com", role="operator")
    assert connect("c-ok", token) == {"statusCode": 200}
    item = boto3.resource("dynamodb").Table(aws_env["ConnectionsTable"]).get_item(Key={"connectionId": "c-ok"})["Item"]
    assert (item["sub"], item["role"]) == ("op@example.com", "operator")
    assert token not in json.dumps(item, default=str)  # the token is not stored
    assert 2 * 3600 - 5 < int(item["ttl"]) - time.time() <= 2 * 3600  # the token lives 12 h: two hours
    assert ws_disconnect.lambda_handler(ws_event("$disconnect", "c-ok"), FakeContext()) == {"statusCode": 200}
    assert list(connections.open_connections()) == []


def test_default_answers_ping_subscribe_and_explains_bad_frames(aws_env: dict[str, str]) -> None:
    connections.open_connection("c1", Identity("op", "operator", FAR_EXP))
    assert frame("c1", {"action": "ping"}) == {"event": "pong", "data": {}}
    assert frame("c1", {"action": "subscribe", "accountIds": [OTHER, ACCOUNT, ACCOUNT]}) == {
        "event": "subscribed",
        "data": {"accountIds": [ACCOUNT, OTHER]},
    }
    [stored] = connections.open_connections()
    assert stored.account_ids == {ACCOUNT, OTHER} and stored.wants(ACCOUNT) and not stored.wants("acc-3")
    assert frame("c1", {"action": "subscribe", "accountIds": None})["data"] == {"accountIds": None}
    assert next(iter(connections.open_connections())).account_ids is None
    for bad, field in (([], "accountIds"), ("all", "accountIds"), ([""], "accountIds.0"), ([1], "accountIds.0")):
        answer = frame("c1", {"action": "subscribe", "accountIds": bad})
        assert answer["event"] == "error" and answer["data"]["code"] == "invalid_subscription", answer
        assert answer["data"]["message"].startswith(field + ":"), answer
    too_many = frame("c1", {"action": "subscribe", "accountIds": [f"a{i}" for i in range(101)]})
    assert too_many["data"]["code"] == "invalid_subscription"
    assert frame("c1", {"action": "subscribe"})["data"]["code"] == "invalid_subscription"
    assert frame("c1", "{not json")["data"]["code"] == "invalid_json"
    assert frame("c1", [1, 2])["data"]["code"] == "invalid_json"
    assert frame("c1", {"action": "dance"})["data"]["code"] == "unknown_action"
    assert frame("gone", {"action": "subscribe", "accountIds": None})["data"]["code"] == "not_connected"


# --- fan-out from the stream --------------------------------------------------------------------------------


class Stream(TableStream):
    """Reads MessengerTable's moto stream as Lambda would hand it to the fan-out (``new_event``)."""


def posted() -> dict[str, list[dict[str, Any]]]:
    """Frames moto's management API received, by connection id."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    result = {}
    decoder = json.JSONDecoder()
    for key, connection in backend.connections.items():
        text, frames, index = connection.data.decode(), [], 0
        while index < len(text):
            value, index = decoder.raw_decode(text, index)
            frames.append(value)
        result[unquote(key)] = frames
    return result


@pytest.fixture
def stream(aws_env: dict[str, str]) -> Stream:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    apigatewaymanagementapi_backends["123456789012"]["us-east-1"].connections.clear()
    accounts = boto3.resource("dynamodb").Table(aws_env["AccountsTable"])
    for account_id in (ACCOUNT, OTHER):  # writers store nothing for an account that does not exist
        accounts.put_item(Item={**account_key(account_id), "id": account_id})
    return Stream(aws_env["MessengerTable"])


def incoming(message_id: str, created: int, chat_id: str = "u2i-live-1") -> dict[str, Any]:
    return {"id": message_id, "author_id": 55, "created": created, "type": "text", "content": {"text": "Привет"}}


def test_fanout_announces_new_messages_once_to_the_connections_that_want_them(stream: Stream) -> None:
    connections.open_connection("all", Identity("a", "admin", FAR_EXP))
    connections.open_connection("mine", Identity("o", "operator", FAR_EXP))
    connections.open_connection("theirs", Identity("d", "director", FAR_EXP))
    connections.set_account_filter("mine", [ACCOUNT])
    connections.set_account_filter("theirs", [OTHER])
    chat_store().record_delivery(ACCOUNT, "7", {**incoming("m1", 1796200000), "chat_id": "u2i-live-1"})
    answer = ws_fanout.lambda_handler(stream.new_event(), FakeContext())
    assert answer == {"batchItemFailures": []}
    frames = posted()
    assert "theirs" not in frames
    for connection_id in ("all", "mine"):
        events = [f["event"] for f in frames[connection_id]]
        # the chat is announced twice: stored with the message, then with its workflow state (issue 25: the
        # transition is a second write), the last one saying the chat needs a reply
        expected = ["avito-chat-updated", "avito-chat-updated", "avito-new-message", "avito-notification"]
        assert sorted(events) == expected, events
        updates = [f["data"]["chat"] for f in frames[connection_id] if f["event"] == "avito-chat-updated"]
        assert updates[-1]["awaitingReplySince"] is not None and updates[-1]["status"] == "new"
        new = next(f for f in frames[connection_id] if f["event"] == "avito-new-message")
        assert new["data"]["message"]["id"] == "m1" and new["data"]["accountId"] == ACCOUNT
    # the same message seen again by a listing: nothing stored, nothing announced
    chat_store().save_messages(ACCOUNT, "7", "u2i-live-1", [incoming("m1", 1796200000)])
    again = stream.new_event()
    assert ws_fanout.lambda_handler(again, FakeContext()) == {"batchItemFailures": []}

    def announced(frames: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        # the message is days old, so its waiting alerts (issue 25) were due when the first batch armed them and
        # are announced on their own; what is asserted here is that the listing announced nothing
        return {c: [f for f in fs if f["event"] != "avito-chat-waiting"] for c, fs in frames.items()}

    assert announced(posted()) == announced(frames)


def test_a_connection_lives_no_longer_than_its_token(stream: Stream, aws_env: dict[str, str]) -> None:
    """Issue 22 item 9: ttl = min(token exp, 2 h); an expired connection gets no frames and is closed."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    short = mint(JWT_TEST_KEY, sub="brief", role="operator", ttl_seconds=600)
    assert connect("c-short", short) == {"statusCode": 200}
    table = boto3.resource("dynamodb").Table(aws_env["ConnectionsTable"])
    item = table.get_item(Key={"connectionId": "c-short"})["Item"]
    assert int(item["ttl"]) == jwt.decode(short, options={"verify_signature": False})["exp"]  # not 2 h
    connections.open_connection("c-long", Identity("a", "admin", FAR_EXP))

    later = time.time() + 601  # the short token has run out
    live, expired = connections.split_connections(now=later)
    assert [c.connection_id for c in live] == ["c-long"] and expired == ["c-short"]

    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    closed: list[str] = []
    real_delete = backend.delete_connection
    backend.delete_connection = lambda connection_id: (closed.append(connection_id), real_delete(connection_id))[1]
    try:
        with mock.patch.object(connections.clock, "now", return_value=later):
            chat_store().record_delivery(ACCOUNT, "7", {**incoming("m-ttl", 1796200000), "chat_id": "u2i-ttl"})
            assert ws_fanout.lambda_handler(stream.new_event(), FakeContext()) == {"batchItemFailures": []}
    finally:
        backend.delete_connection = real_delete
    frames = posted()
    assert frames.get("c-short", []) == []  # no frame after its token ran out
    assert any(f["event"] == "avito-new-message" for f in frames["c-long"])
    assert closed == ["c-short"]  # closed through the management API ...
    assert "Item" not in table.get_item(Key={"connectionId": "c-short"})  # ... and forgotten


def test_opening_an_old_chat_announces_nothing_old(stream: Stream) -> None:
    """Issue 22 item 10: a listing's history is stored and shown (avito-new-message) but never chimes; a message
    newer than the chat's last known one, incoming and unread, does; the history is stored with one chat update."""
    connections.open_connection("all", Identity("a", "admin", FAR_EXP))
    history = [incoming(f"h{i}", 1796300000 + i * 60, chat_id="u2i-old") for i in range(5)]
    writes: list[int] = []
    client = aws.dynamodb_low_level_client()
    real = client.transact_write_items

    def counted(**kwargs: Any) -> Any:
        writes.append(len(kwargs["TransactItems"]))
        return real(**kwargs)

    with mock.patch.object(client, "transact_write_items", counted):
        chat_store().save_messages(ACCOUNT, "7", "u2i-old", history)
    assert writes == [2 * 5 + 2]  # five messages and their ids' guards, their chat once, the account check: one
    assert chat_store().get_chat("u2i-old", ACCOUNT).unreadCount == 5  # counted all the same
    ws_fanout.lambda_handler(stream.new_event(), FakeContext())
    events = [f["event"] for f in posted()["all"]]
    assert events.count("avito-new-message") == 5 and "avito-notification" not in events

    newer = [*history[-2:], incoming("fresh", 1796300000 + 3600, chat_id="u2i-old")]
    chat_store().save_messages(ACCOUNT, "7", "u2i-old", newer)  # the chat opened again later: one new message
    ws_fanout.lambda_handler(stream.new_event(), FakeContext())
    notifications = [f["data"]["messageId"] for f in posted()["all"] if f["event"] == "avito-notification"]
    assert notifications == ["fresh"]
    assert chat_store().get_chat("u2i-old", ACCOUNT).unreadCount == 6


def test_outgoing_messages_are_not_notifications_and_unchanged_chats_are_not_news(stream: Stream) -> None:
    connections.open_connection("all", Identity("a", "admin", FAR_EXP))
    chat_store().save_sent_message(
        ACCOUNT,
        "u2i-live-2",
        {"id": "out-1", "created": 1796200100, "type": "text", "content": {"text": "Да"}},
        user_id="7",
    )
    ws_fanout.lambda_handler(stream.new_event(), FakeContext())
    events = [f["event"] for f in posted()["all"]]
    assert "avito-notification" not in events and "avito-new-message" in events
    event = stream.new_event()  # nothing new
    modify = {"eventName": "MODIFY", "eventID": "1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1"}
    chat = {
        "pk": {"S": "CHAT#c"},
        "sk": {"S": "CHAT"},
        "id": {"S": "c"},
        "accountId": {"S": ACCOUNT},
        "unreadCount": {"N": "0"},
    }
    moved = {**chat, "activitySk": {"S": "2026-12-02T00:00:00.000Z#c"}}  # an index key only
    record = {
        **modify,
        "dynamodb": {
            "Keys": {"pk": chat["pk"], "sk": chat["sk"]},
            "OldImage": chat,
            "NewImage": moved,
            "SequenceNumber": "9",
        },
    }
    event["Records"] = [record]
    before = len(posted()["all"])
    assert ws_fanout.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    assert len(posted()["all"]) == before


def test_fanout_reports_the_failed_record_and_holds_back_the_rest(
    stream: Stream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The management API unreachable: nobody got the first record, so it and every later one are retried."""
    from avito_service import aws
    from avito_service.config import get_settings

    connections.open_connection("all", Identity("a", "admin", FAR_EXP))
    chat_store().save_messages(ACCOUNT, "7", "u2i-live-3", [incoming("m3", 1796200200), incoming("m4", 1796200300)])
    event = stream.new_event()
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", "http://127.0.0.1:9/prod")  # nothing listens there
    get_settings.cache_clear()
    aws.clear_caches()
    answer = ws_fanout.lambda_handler(event, FakeContext())
    failed = [failure["itemIdentifier"] for failure in answer["batchItemFailures"]]
    sequence = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
    assert failed and failed == sequence[sequence.index(failed[0]) :], (failed, sequence)
    assert posted().get("all", []) == []


def test_an_unreadable_record_is_skipped_not_retried(stream: Stream) -> None:
    connections.open_connection("all", Identity("a", "admin", FAR_EXP))
    broken = {"pk": {"S": "CHAT#c"}, "sk": {"S": "MSG#000000000001#x"}, "accountId": {"S": ACCOUNT}}  # no id
    record = {
        "eventName": "INSERT",
        "eventID": "1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {"Keys": {"pk": broken["pk"], "sk": broken["sk"]}, "NewImage": broken, "SequenceNumber": "5"},
    }
    assert ws_fanout.lambda_handler({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}
    assert posted().get("all", []) == []


def _log_levels(caplog: pytest.LogCaptureFixture, message_part: str) -> list[str]:
    return [record.levelname for record in caplog.records if message_part in record.getMessage()]


def test_calls_and_reviews_in_the_stream_are_no_error_but_an_unknown_item_is(
    stream: Stream, aws_env: dict[str, str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The reviews and calls share MessengerTable: their items reach the fan-out, which announces only new reviews
    and says nothing about the rest (no ERROR line, no StreamRecordsSkipped). An item of no kind it knows is an
    ERROR: a writer the fan-out was not told about."""
    from avito_service.calls.models import TrackedCall
    from avito_service.calls.store import call_store
    from avito_service.reviews.models import Review, ReviewAnswer
    from avito_service.reviews.store import review_store

    connections.open_connection("all", Identity("a", "admin", FAR_EXP))
    call = TrackedCall(
        id="81", accountId=ACCOUNT, callTime="2026-12-01T10:00:00Z", callerPhone="79161234567",
        sellerPhone="79000000000", virtualPhone="79000000001", talkDuration=30, waitingDuration=2.5,
    )  # fmt: skip
    assert call_store().save(ACCOUNT, [call]) == 1
    call_store().mark_synced(ACCOUNT, "2026-12-01T10:00:00Z")
    review = Review(
        id="91", accountId=ACCOUNT, score=5, stage="done", text="Спасибо", createdAt="2026-12-01T09:00:00Z",
        usedInScore=True, canAnswer=True,
    )  # fmt: skip
    assert review_store().save(ACCOUNT, [review]) == [review]  # the first fill: history, stored unannounced
    review_store().set_answer(ACCOUNT, "91", ReviewAnswer(id="7", text="Рады помочь", status="published"))  # a MODIFY
    capsys.readouterr()
    caplog.set_level("DEBUG", logger="avito-service")
    event = stream.new_event()
    assert len(event["Records"]) == 5, event  # call, the call under its phone, sync mark, review INSERT and MODIFY
    assert ws_fanout.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    printed = capsys.readouterr().out
    assert _log_levels(caplog, "Stream record skipped") == [], caplog.text
    assert _log_levels(caplog, "Stream record announces nothing") == ["DEBUG"] * 5, caplog.text
    assert '"StreamRecordsSkipped"' not in printed
    assert posted().get("all", []) == []

    boto3.resource("dynamodb").Table(aws_env["MessengerTable"]).put_item(
        Item={"pk": f"ACCOUNT#{ACCOUNT}#SOMETHING", "sk": "NEWKIND#1", "accountId": ACCOUNT}
    )
    assert ws_fanout.lambda_handler(stream.new_event(), FakeContext()) == {"batchItemFailures": []}
    printed = capsys.readouterr().out
    assert _log_levels(caplog, "Stream record skipped: an unknown kind of item") == ["ERROR"], caplog.text
    assert '"StreamRecordsSkipped"' in printed
