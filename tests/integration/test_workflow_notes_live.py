"""Notes live (issue 25): a note added to a chat is announced as ``avito-chat-note`` ``{accountId, chatId, note}``
(the note as ``GET .../notes`` returns it) to every connection that may see the account (within its subscribe
filter), through the stream and the fan-out as the other workflow frames; a connection limited to other accounts
gets none."""

from __future__ import annotations

from typing import Any

import boto3
import chats_workflow
import pytest
import ws_fanout
from avito_service.accounts.store import account_key
from avito_service.auth import Identity
from avito_service.live import store as connections
from avito_service.messenger.store import chat_store

from tests.integration.test_live import FAR_EXP, Stream, posted
from tests.support.caches import reset_caches
from tests.support.events import FakeContext, call_route

ACCOUNT = "acc-notes-1"
USER_ID = "7"
NOTES = "/api/v1/chats/{chatId}/notes"


@pytest.fixture
def stream(aws_env: dict[str, str]) -> Stream:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    apigatewaymanagementapi_backends["123456789012"]["us-east-1"].connections.clear()
    reset_caches()
    boto3.resource("dynamodb").Table(aws_env["AccountsTable"]).put_item(Item={**account_key(ACCOUNT), "id": ACCOUNT})
    return Stream(aws_env["MessengerTable"])


def fan_out(stream: Stream) -> None:
    assert ws_fanout.lambda_handler(stream.new_event(), FakeContext()) == {"batchItemFailures": []}


def note_frames(connection_id: str) -> list[dict[str, Any]]:
    return [f["data"] for f in posted().get(connection_id, []) if f["event"] == "avito-chat-note"]


def test_a_note_is_announced_to_everyone_who_may_see_the_account_and_to_nobody_else(stream: Stream) -> None:
    value = {"id": "m1", "chat_id": "u2i-note", "author_id": 55, "created": 1_796_200_000, "type": "text"}
    chat_store().record_delivery(ACCOUNT, USER_ID, {**value, "content": {"text": "Можно забрать завтра?"}})
    fan_out(stream)  # the chat's own frames, before anyone listens
    mine = frozenset({ACCOUNT})
    connections.open_connection("c-anna", Identity("anna", "operator", FAR_EXP, account_ids=mine))
    connections.open_connection("c-boris", Identity("boris", "operator", FAR_EXP, account_ids=mine))
    connections.open_connection("c-boss", Identity("boss", "director", FAR_EXP))
    connections.open_connection("c-eve", Identity("eve", "operator", FAR_EXP, account_ids=frozenset({"acc-other"})))
    assert connections.set_account_filter("c-boris", ["acc-other-2"])  # may see it, subscribed elsewhere

    status, body = call_route(
        chats_workflow, "post", NOTES, {"chatId": "u2i-note"}, role="operator", sub="anna",
        body={"text": "Клиент просил перезвонить после 18:00"},
    )  # fmt: skip
    assert status == 201
    note = body["data"]
    fan_out(stream)

    expected = {"accountId": ACCOUNT, "chatId": "u2i-note", "note": note}
    assert note_frames("c-anna") == [expected]  # the author's other tabs too
    assert note_frames("c-boss") == [expected]
    assert note_frames("c-eve") == []  # limited to another account
    assert note_frames("c-boris") == []  # within the connection's subscribe filter, like every frame
    status, body = call_route(chats_workflow, "get", NOTES, {"chatId": "u2i-note"}, role="operator", sub="anna")
    assert status == 200 and body["data"] == [note]  # the note as GET .../notes returns it
    assert set(note) == {"id", "text", "author", "createdAt"} and note["author"]["userId"] == "anna"

    fan_out(stream)  # nothing new in the stream: no note announced twice
    assert len(note_frames("c-anna")) == 1
